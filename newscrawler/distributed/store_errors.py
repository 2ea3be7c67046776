"""A callback that failed because the state store's server went away is no spider bug: one warning, no traceback.

Its request goes back to the frontier (ReliableScheduler.wait_for_store), so it runs again once the store is back.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.http import Response

from newscrawler.state import crawler_state

logger = logging.getLogger(__name__)


class StoreErrorsMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> list[Any] | None:
        state = crawler_state(self.crawler)
        if state is None or not state.is_broken():
            return None
        logger.warning("%s: not processed, the state store is unreachable (%s)", response.url, type(exception).__name__)
        return []
