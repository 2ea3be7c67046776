"""The crawl process's garbage collector: tuned while the spider runs, as it was before and after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from newscrawler.collector import CollectorTuning


@pytest.fixture
def own_collector() -> Iterator[None]:
    """The test session's collector settings, put back whatever the test did."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def tuning(**settings: object) -> tuple[CollectorTuning, object]:
    crawler = get_crawler(Spider, {"NEWSCRAWLER_GC_ENABLED": True, **settings})
    crawler.spider = Spider("test")
    return build_from_crawler(CollectorTuning, crawler), crawler


def test_while_the_spider_runs_startup_objects_are_frozen_and_thresholds_raised(own_collector: None) -> None:
    before = gc.get_threshold()
    extension, crawler = tuning(NEWSCRAWLER_GC_THRESHOLDS="9000,15,25")
    extension.tune(crawler.spider)
    assert gc.get_threshold() == (9000, 15, 25)
    assert gc.get_freeze_count() > 10_000  # pytest, Scrapy and Twisted's objects at least
    assert crawler.stats.get_value("newscrawler/gc/frozen") > 10_000
    garbage = [[] for _ in range(20_000)]  # containers enough to make the youngest generation collect
    del garbage
    extension.restore(crawler.spider)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert crawler.stats.get_value("newscrawler/gc/collections/0") >= 1
    assert {f"newscrawler/gc/collections/{generation}" for generation in range(3)} <= set(crawler.stats.get_stats())


@pytest.mark.parametrize("value", ["10000,20", "a,b,c", "0,10,10", "10000,20,20,5"])
def test_a_wrong_threshold_setting_names_itself_and_an_example(value: str) -> None:
    with pytest.raises(ValueError, match=r"NEWSCRAWLER_GC_THRESHOLDS must be three whole numbers .* e\.g\. -s NEWSCRAWLER_GC_THRESHOLDS=10000,10,10"):
        tuning(NEWSCRAWLER_GC_THRESHOLDS=value)


def test_off_leaves_the_collector_alone() -> None:
    with pytest.raises(NotConfigured):
        tuning(NEWSCRAWLER_GC_ENABLED=False)
