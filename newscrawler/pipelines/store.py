"""Store each record version once, in the same transaction that marks its URL stored, then append it to the JSONL.

Records are committed in batches (NEWSCRAWLER_EXPORT_BATCH records, or NEWSCRAWLER_COMMIT_SECONDS, whichever
comes first): one commit a record cost the crawl process 10 % of its time per page. A killed run loses at most
the open batch, whose URLs are not yet marked stored and so are fetched again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from twisted.internet.task import LoopingCall

from newscrawler.export import JsonlExport
from newscrawler.items import plain
from newscrawler.report import SITE_PREFIX
from newscrawler.state import crawler_state
from newscrawler.storage import disk_problem, stop_for_storage


class Unchanged(DropItem):
    """Not a failure: a re-fetched article whose text and comments are as stored."""


class StoreUnreachable(DropItem):
    """The state store's server went away: the record is not stored now, and its URL stays due."""


class NotStored(DropItem):
    """The disk refused the write: the run stops, and the URL stays due for the next run."""


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWLER_STORE_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = crawler_state(crawler)
        output = settings.get("NEWSCRAWLER_OUTPUT")
        self.export = JsonlExport(self.state, Path(output)) if output else None
        self.overwrite = settings.getbool("NEWSCRAWLER_OUTPUT_OVERWRITE")
        self.batch = settings.getint("NEWSCRAWLER_EXPORT_BATCH")
        self.unflushed = 0
        self.timer = LoopingCall(self.timed_flush)
        self.commit_seconds = settings.getfloat("NEWSCRAWLER_COMMIT_SECONDS")
        crawler.signals.connect(self.open, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open(self, spider: Spider) -> None:
        """Before the first page: bring the file level with the store (a killed run may have left it behind)."""
        self.timer.start(self.commit_seconds, now=False)
        if self.export is None:
            return
        if self.overwrite:
            self.export.reset()
        else:
            self.export.reconcile()
        self.stats.inc_value("newscrawler/export/lines", self.export.flush())

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        adapter = ItemAdapter(item)
        record = {name: plain(value) for name, value in adapter.items()}
        fetched = getattr(self.crawler.spider, "fetched", {}).pop(record["url"], None)
        try:
            self.state.begin_batch()
            if fetched is None:  # another spider's item: its URL as requested, its signature computed here
                stored = self.state.store(record["url"], record, datetime.now(UTC))
            else:
                stored = self.state.store(fetched.requested_url, record, datetime.now(UTC), fetched.body_signature)
        except Exception as error:
            self.stop_if_disk(error, self.state.location)
            self.drop_if_unreachable(error, record["url"])
            raise
        if not stored.new:
            self.stats.inc_value("newscrawler/store/unchanged")
            self.stats.inc_value(f"{SITE_PREFIX}{record['site']}/unchanged")
            raise Unchanged(f"{record['url']}: unchanged since version {stored.version}", log_level="DEBUG")
        self.stats.inc_value("newscrawler/store/versions")
        self.stats.inc_value("newscrawler/store/new" if stored.version == 1 else "newscrawler/store/updated")
        self.stats.inc_value(f"{SITE_PREFIX}{record['site']}/stored")
        self.unflushed += 1
        if self.unflushed >= self.batch:
            self.flush()
        for name, value in stored.version_fields.items():
            adapter[name] = value
        return item

    def flush(self) -> None:
        """Commit the batch (records, and the leases and failures written meanwhile), then append it to the JSONL.

        A disk error stops the run: the batch is not committed, so its URLs stay due and the next run fetches them.
        """
        try:
            self.state.commit_batch()
        except Exception as error:
            self.stop_if_disk(error, self.state.location)
            self.drop_if_unreachable(error, "the open batch")
            raise
        if self.export is not None:
            try:
                self.stats.inc_value("newscrawler/export/lines", self.export.flush())
            except Exception as error:
                self.stop_if_disk(error, str(self.export.path))
                raise
        self.unflushed = 0

    def timed_flush(self) -> None:
        try:
            self.flush()
        except (NotStored, StoreUnreachable):
            pass  # the run is stopping or waiting for it; the timer must not die with an unhandled error

    def drop_if_unreachable(self, error: Exception, what: str) -> None:
        """A store server that went away: one warning line a record, no traceback; the URL stays due."""
        if self.state.is_broken():
            raise StoreUnreachable(f"{what}: not stored, the state store {self.state.location} is unreachable "
                                   f"({str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__})",
                                   log_level="WARNING") from error

    def stop_if_disk(self, error: Exception, path: str) -> None:
        if problem := disk_problem(error):
            stop_for_storage(self.crawler, getattr(error, "filename", None) or path, problem)
            raise NotStored(f"not stored: {problem}", log_level="DEBUG") from error

    def close(self, spider: Spider) -> None:
        if self.timer.running:
            self.timer.stop()
        try:
            self.flush()
        except (NotStored, StoreUnreachable):
            pass  # already reported, and the run is stopping for it
        self.stats.set_value("newscrawler/state/statements", self.state.statements)
