"""CPython's cyclic garbage collector, tuned for the crawl process while the spider runs.

Each collection walks every tracked object of the generations it collects. When the spider opens, the crawl process
holds about 100 000 such objects (Scrapy, Twisted, the settings, the store); then it allocates fast, and with the
default thresholds (700, 10, 10) the benchmark's 2 000 pages ran 8 full collections of 40-90 ms and 80 of the
middle generation: 0.7 s of the crawl process's 4.6 s of CPU. Each full collection also stalled the extraction
worker, whose next page waits on the reactor (benchmarks/crawl_throughput.py). Freezing what start-up made
(gc.freeze) takes it out of every later collection, and a larger first threshold makes collections rarer. Both are
undone when the spider closes, for a process that runs more than one crawl (a test session). The stats keep the
count of frozen objects and the collections of each generation while the spider ran (`newscrawler/gc/...`).
"""

from __future__ import annotations

import gc
from typing import Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class CollectorTuning:
    def __init__(self, crawler: Crawler, thresholds: tuple[int, int, int]) -> None:
        self.stats = crawler.stats
        self.thresholds = thresholds
        self.previous = gc.get_threshold()
        self.collections = collections()
        crawler.signals.connect(self.tune, signal=signals.spider_opened)
        crawler.signals.connect(self.restore, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NEWSCRAWLER_GC_ENABLED"):
            raise NotConfigured
        return cls(crawler, gc_thresholds(crawler.settings.getlist("NEWSCRAWLER_GC_THRESHOLDS")))

    def tune(self, spider: Spider) -> None:
        gc.freeze()  # start-up's few garbage cycles too: not worth a full collection (70 ms), they go at unfreeze
        self.previous, self.collections = gc.get_threshold(), collections()
        gc.set_threshold(*self.thresholds)
        self.stats.set_value("newscrawler/gc/frozen", gc.get_freeze_count())

    def restore(self, spider: Spider) -> None:
        gc.set_threshold(*self.previous)
        gc.unfreeze()
        for generation, (now, before) in enumerate(zip(collections(), self.collections, strict=True)):
            self.stats.set_value(f"newscrawler/gc/collections/{generation}", now - before)


def collections() -> list[int]:
    return [generation["collections"] for generation in gc.get_stats()]


def gc_thresholds(values: list[str | int]) -> tuple[int, int, int]:
    """The three thresholds of gc.set_threshold; ValueError names the setting and what it takes."""
    try:
        numbers = tuple(int(value) for value in values)
    except (TypeError, ValueError):
        numbers = ()
    if len(numbers) != 3 or min(numbers) < 1:
        raise ValueError(f"NEWSCRAWLER_GC_THRESHOLDS must be three whole numbers of at least 1 (as for gc.set_threshold), "
                         f"e.g. -s NEWSCRAWLER_GC_THRESHOLDS=10000,10,10; got {values!r}")
    return numbers  # type: ignore[return-value]
