"""The start requests of a distributed crawl go to the shared frontier once a pass, from the one worker that
claims the pass (or from `newscrawler seed`); the other workers take their work from the frontier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Self

from scrapy.crawler import Crawler


class FrontierSeeding:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        seeder = getattr(self.crawler, "newscrawler_seeder", None)
        if seeder is None:  # not distributed
            async for item in start:
                yield item
            return
        if not seeder.claim():
            return
        count = 0
        async for item in start:
            yield item
            count += 1
        seeder.opened(count)
