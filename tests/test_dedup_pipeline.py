"""DedupPipeline serves runs without the state store; with the store, the store dedupes and keeps aliases."""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from newscrawler.pipelines.dedup import DedupPipeline, DuplicateRecord


def test_without_the_store_a_second_url_of_an_article_is_dropped_and_counted() -> None:
    crawler = get_crawler(settings_dict={"NEWSCRAWLER_DEDUP_ENABLED": True, "NEWSCRAWLER_STORE_ENABLED": False})
    pipeline = build_from_crawler(DedupPipeline, crawler)
    pipeline.process_item({"id": "r1", "url": "http://127.0.0.1:8080/regions/1-a.html"})
    with pytest.raises(DuplicateRecord, match="same article as http://127.0.0.1:8080/regions/1-a.html"):
        pipeline.process_item({"id": "r1", "url": "http://127.0.0.1:8080/politics/1-a.html"})
    assert crawler.stats.get_value("newscrawler/dedup/duplicates") == 1


def test_with_the_store_the_pipeline_stands_aside() -> None:
    crawler = get_crawler(settings_dict={"NEWSCRAWLER_DEDUP_ENABLED": True, "NEWSCRAWLER_STORE_ENABLED": True})
    with pytest.raises(NotConfigured):
        build_from_crawler(DedupPipeline, crawler)
