"""The trap filter and budgets as a component: built from settings, asserted on what it lets through and its stats."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from newscrawler.traps import CrawlBudgetMiddleware, repeated_segment


@pytest.mark.parametrize(
    ("url", "segment"),
    [
        ("http://127.0.0.1:9/news/news/news/1.html", "news"),
        ("http://127.0.0.1:9/a/b/a/c/a/", "a"),  # not only side by side, as Nutch's rule
        ("http://127.0.0.1:9/news/news/1.html", None),  # twice happens on real sites
        ("http://127.0.0.1:9/2001/01/01/01-title.html", None),
        ("http://127.0.0.1:9/?q=/x/x/x/", None),  # the query is not the path
    ],
)
def test_repeated_segment(url: str, segment: str | None) -> None:
    assert repeated_segment(url, 2) == segment


def budget(**settings: object) -> CrawlBudgetMiddleware:
    crawler = get_crawler(settings_dict={"NEWSCRAWLER_BUDGET_ENABLED": True, "NEWSCRAWLER_MAX_SEGMENT_REPEATS": 2,
                                         "DEPTH_LIMIT": 0, "NEWSCRAWLER_MAX_PAGES_PER_SITE": 0, **settings})
    return build_from_crawler(CrawlBudgetMiddleware, crawler)


def test_past_the_page_budget_a_site_waits_and_other_sites_do_not() -> None:
    middleware = budget(NEWSCRAWLER_MAX_PAGES_PER_SITE=2)
    requests = [Request(f"http://127.0.0.1:9/{n}.html") for n in range(4)] + [Request("http://127.0.0.2:9/1.html")]
    kept = [r.url for r in requests if middleware.get_processed_request(r, None) is not None]
    assert kept == ["http://127.0.0.1:9/0.html", "http://127.0.0.1:9/1.html", "http://127.0.0.2:9/1.html"]
    assert middleware.stats.get_value("newscrawler/budget/postponed") == 2
    assert middleware.stats.get_value("newscrawler/budget/postponed/127.0.0.1:9") == 2


def test_depth_counts_from_the_response_and_depth_reset_starts_again() -> None:
    middleware = budget(DEPTH_LIMIT=3)
    deep = HtmlResponse("http://127.0.0.1:9/c/", request=Request("http://127.0.0.1:9/c/", meta={"depth": 3}))
    assert middleware.get_processed_request(Request("http://127.0.0.1:9/d/"), deep) is None
    assert middleware.get_processed_request(Request("http://127.0.0.1:9/d/", meta={"depth_reset": True}), deep) is not None
