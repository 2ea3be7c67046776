"""Drop records that break the schema; each becomes a failure line with its reason."""

from __future__ import annotations

from typing import Any, Self

from itemadapter import ItemAdapter
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawler.failures import InvalidRecord


def find_problem(record: ItemAdapter) -> str | None:
    """The first schema problem of a record ("missing_title", "missing_body"), or None."""
    if not (record.get("title") or "").strip():
        return "missing_title"
    if not (record.get("body") or "").strip():
        return "missing_body"
    return None


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSCRAWLER_VALIDATE_ENABLED"):
            raise NotConfigured
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        record = ItemAdapter(item)
        if (reason := find_problem(record)) is None:
            return item
        self.stats.inc_value(f"newscrawler/validate/dropped/{reason}")
        raise InvalidRecord(record.get("url") or "", reason)
