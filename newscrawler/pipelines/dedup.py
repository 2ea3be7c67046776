"""One record per article id within a run: the same article reached under two URLs is written once."""

from __future__ import annotations

from typing import Any, Self

from itemadapter import ItemAdapter
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured


class DuplicateRecord(DropItem):
    """Not a failure: the article is already in this run's output."""


class DedupPipeline:
    """For runs without the state store; the store dedupes by id itself, and also records the second URL as an
    alias (dropping it here first would leave that URL to be fetched again on every run)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWLER_DEDUP_ENABLED") or settings.getbool("NEWSCRAWLER_STORE_ENABLED"):
            raise NotConfigured
        self.stats = crawler.stats
        self.seen: dict[str, str] = {}  # record id -> first URL

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        record = ItemAdapter(item)
        first_url = self.seen.setdefault(record["id"], record["url"])
        if first_url == record["url"]:
            return item
        self.stats.inc_value("newscrawler/dedup/duplicates")
        raise DuplicateRecord(f"{record['url']}: same article as {first_url}")
