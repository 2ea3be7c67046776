"""Store each record version once, in the same transaction that marks its URL stored, then append it to the JSONL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from newscrawler.export import JsonlExport
from newscrawler.state import open_state
from newscrawler.storage import disk_problem, stop_for_storage


class Unchanged(DropItem):
    """Not a failure: a re-fetched article whose text and comments are as stored."""


class NotStored(DropItem):
    """The disk refused the write: the run stops, and the URL stays due for the next run."""


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWLER_STORE_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = open_state(settings)
        output = settings.get("NEWSCRAWLER_OUTPUT")
        self.export = JsonlExport(self.state, Path(output)) if output else None
        self.overwrite = settings.getbool("NEWSCRAWLER_OUTPUT_OVERWRITE")
        self.batch = settings.getint("NEWSCRAWLER_EXPORT_BATCH")
        self.unflushed = 0
        crawler.signals.connect(self.open, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open(self, spider: Spider) -> None:
        """Before the first page: bring the file level with the store (a killed run may have left it behind)."""
        if self.export is None:
            return
        if self.overwrite:
            self.export.reset()
        else:
            self.export.reconcile()
        self.stats.inc_value("newscrawler/export/lines", self.export.flush())

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        adapter = ItemAdapter(item)
        record = adapter.asdict()
        requested = getattr(self.crawler.spider, "requested_urls", {}).pop(record["url"], record["url"])
        try:
            stored = self.state.store(requested, record, datetime.now(UTC))
        except Exception as error:
            self.stop_if_disk(error, self.state.location)
            raise
        if not stored.new:
            self.stats.inc_value("newscrawler/store/unchanged")
            raise Unchanged(f"{record['url']}: unchanged since version {stored.version}", log_level="DEBUG")
        self.stats.inc_value("newscrawler/store/versions")
        self.unflushed += 1
        if self.unflushed >= self.batch:
            self.flush()
        for name, value in stored.version_fields.items():
            adapter[name] = value
        return item

    def flush(self) -> None:
        """Append the new versions to the JSONL; a disk error stops the run (the next run writes what is missing)."""
        if self.export is not None:
            try:
                self.stats.inc_value("newscrawler/export/lines", self.export.flush())
            except Exception as error:
                self.stop_if_disk(error, str(self.export.path))
                raise
        self.unflushed = 0

    def stop_if_disk(self, error: Exception, path: str) -> None:
        if problem := disk_problem(error):
            stop_for_storage(self.crawler, getattr(error, "filename", None) or path, problem)
            raise NotStored(f"not stored: {problem}", log_level="DEBUG") from error

    def close(self, spider: Spider) -> None:
        try:
            self.flush()
        except NotStored:
            pass  # already reported, and the run is stopping for it
        finally:
            self.state.close()
