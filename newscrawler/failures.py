"""The failures file: every URL that gave no record gets one line with its stage and reason."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newscrawler.items import Failure
from newscrawler.report import SITE_PREFIX
from newscrawler.state import crawler_state
from newscrawler.storage import disk_problem, stop_for_storage
from newscrawler.urls import site_name

logger = logging.getLogger(__name__)

# Sent by spiders (and anything else) with failure=Failure(...); the log below writes and counts it.
failure_recorded = object()


class InvalidRecord(DropItem):
    """A record that breaks the schema: it becomes a failure line, not a JSONL record."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


def failures_path(settings: Any) -> Path | None:
    """NEWSCRAWLER_FAILURES_PATH, else `<output>.failures.jsonl` beside the JSONL output (ours or Scrapy's FEEDS)."""
    if configured := settings.get("NEWSCRAWLER_FAILURES_PATH"):
        return Path(configured)
    outputs = [settings.get("NEWSCRAWLER_OUTPUT")] + [str(uri) for uri in settings.getdict("FEEDS")]
    for text in filter(None, outputs):
        if "://" not in text or text.startswith("file://"):
            output = Path(text.removeprefix("file://"))
            return output.with_name(output.name.removesuffix(".jsonl").removesuffix(".jl") + ".failures.jsonl")
    return None


def _overwrite(settings: Any) -> bool:
    feeds = settings.getdict("FEEDS").values()
    return settings.getbool("NEWSCRAWLER_OUTPUT_OVERWRITE") or any(options.get("overwrite", False) for options in feeds)


class FailureLog:
    """Writes one JSON line per failure (flushed at once, so a killed run keeps them), counts reasons, and marks
    the URL failed in the state store."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.path = failures_path(crawler.settings)
        self.mode = "w" if _overwrite(crawler.settings) else "a"
        self.file: IO[str] | None = None
        self.state = crawler_state(crawler)
        crawler.signals.connect(self.open, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)
        crawler.signals.connect(self.record, signal=failure_recorded)
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open(self, spider: Spider) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open(self.mode, encoding="utf-8")
        except OSError as error:
            if not (problem := disk_problem(error)):
                raise
            stop_for_storage(self.crawler, str(self.path), problem)

    def close(self, spider: Spider) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError as error:  # the buffered tail could not be written
                if problem := disk_problem(error):
                    stop_for_storage(self.crawler, str(self.path), problem)

    def item_dropped(self, item: Any, response: Any, exception: BaseException) -> None:
        if isinstance(exception, InvalidRecord):
            status = getattr(response, "status", None)
            self.record(Failure(url=exception.url, stage="validate", reason=exception.reason, status=status))

    def site_of(self, url: str) -> str:
        """The site a failed URL belongs to; a URL no server could have (port 99999) counts under "?"."""
        try:
            return getattr(self.crawler.spider, "site_of", site_name)(url)
        except ValueError:
            return "?"

    def record(self, failure: Failure) -> None:
        failure.time = failure.time or datetime.now(UTC).replace(microsecond=0).isoformat()
        self.stats.inc_value(f"newscrawler/failures/{failure.stage}/{failure.reason}")
        self.stats.inc_value("newscrawler/failures")
        self.stats.inc_value(f"{SITE_PREFIX}{self.site_of(failure.url)}/failures/{failure.reason}")
        logger.warning("failed %s at %s: %s", failure.url, failure.stage, failure.reason)
        try:
            self.write(failure)
        except Exception as error:
            if not (problem := disk_problem(error)):
                raise
            path = getattr(error, "filename", None) or (str(self.path) if isinstance(error, OSError) else self.state.location)
            stop_for_storage(self.crawler, path, problem)

    def write(self, failure: Failure) -> None:
        if self.state is not None:  # counts the attempt; the URL is tried again on a later run while attempts remain
            try:
                self.state.fail(failure.url, failure.reason, datetime.now(UTC))
            except Exception:
                if not self.state.is_broken():
                    raise
                logger.warning("failure of %s not kept in the state store, which is unreachable", failure.url)
        if self.file is not None:
            self.file.write(json.dumps(asdict(failure), ensure_ascii=False, sort_keys=True) + "\n")
            self.file.flush()
