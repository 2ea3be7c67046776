"""HeadMetaRefreshMiddleware redirects exactly where Scrapy's MetaRefreshMiddleware does, in every encoding, and
leaves a page without a refresh undecoded."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from newscrawler.middlewares.refresh import HEAD_CHARS, HeadMetaRefreshMiddleware

URL = "http://127.0.0.1:9/news/1-a.html"
REFRESH = '<meta http-equiv="Refresh" content="0; url=/news/2-b.html">'
STORY = "<p>Депутаты одобрили законопроект в первом чтении.</p>" * 400  # about 50 KB of Cyrillic


def page(head: str, body: str = STORY) -> str:
    return f"<html><head><title>Мажилис одобрил поправки</title>{head}</head><body>{body}</body></html>"


TARGET = "http://127.0.0.1:9/news/2-b.html"
CASES = {  # markup, encoding, the page it redirects to (None: the page goes on to the spider)
    "no refresh": (page(""), "utf-8", None),
    "refresh in the head": (page(REFRESH), "utf-8", TARGET),
    "refresh in windows-1251": (page(REFRESH), "cp1251", TARGET),
    "refresh in UTF-16": (page(REFRESH), "utf-16", TARGET),  # no ASCII "refresh" among its bytes
    "refresh after 4 096 characters": (page("", STORY[:HEAD_CHARS] + REFRESH), "utf-8", None),  # Scrapy's limit
    "refresh after 4 000 Cyrillic characters": (page("<!--" + "ж" * 3900 + "-->" + REFRESH), "utf-8", TARGET),
    "the word in a script": (page("<script>location.refresh()</script>"), "utf-8", None),
    "a delay over METAREFRESH_MAXDELAY": (page(REFRESH.replace('"0;', '"500;')), "utf-8", None),
}


def respond(markup: str, encoding: str) -> HtmlResponse:
    return HtmlResponse(URL, body=markup.encode(encoding), headers={"Content-Type": f"text/html; charset={encoding}"})


def redirect_of(result: Request | HtmlResponse) -> str | None:
    return result.url if isinstance(result, Request) else None


@pytest.mark.parametrize("name", CASES)
def test_the_same_redirects_as_scrapys_middleware(name: str) -> None:
    crawler = get_crawler()
    ours, scrapys = (build_from_crawler(cls, crawler) for cls in (HeadMetaRefreshMiddleware, MetaRefreshMiddleware))
    markup, encoding, target = CASES[name]
    assert redirect_of(scrapys.process_response(Request(URL), respond(markup, encoding))) == target
    assert redirect_of(ours.process_response(Request(URL), respond(markup, encoding))) == target


def test_a_page_without_a_refresh_is_passed_on_undecoded() -> None:
    response = respond(page(""), "utf-8")
    middleware = build_from_crawler(HeadMetaRefreshMiddleware, get_crawler())
    assert middleware.process_response(Request(URL), response) is response
    assert response._cached_ubody is None  # Scrapy's own middleware decodes the whole page here
