"""Comments beyond an article's first page: the spider asks for them before it yields the record, so the record
is written once, complete, with one threaded comment list.

DLE pages come from the JSON endpoint, else the `/page,1,C,` article pages (reference/dle.md §2.4); WordPress
through spiders/wordpress.py. The requests go through the downloader (middlewares, politeness, retries) with
`engine.download_async`, Scrapy's way of awaiting a response inside a callback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from scrapy import Request
from scrapy.http import Response, TextResponse

from newscrawler.extract import Hints, dle
from newscrawler.extract.dle_paging import CommentPaging, comment_paging, comments_from_json, comments_from_page, merge_comments
from newscrawler.extract.page import Page
from newscrawler.extract.site import Site
from newscrawler.items import Article, Comment
from newscrawler.middlewares import Refused, error_reason

COMMENT_PAGES_MAX = 100  # NEWSCRAWLER_COMMENT_PAGES_MAX: a bound against a navigation that never ends
# Comment navigation in a DLE page, found without parsing it: CommentsPage('2', ...) or /page,1,2,ID-alt.html links.
DLE_NAVIGATION = ("CommentsPage(", "/page,1,")
COMMENT_PROFILES = ("dle/", "wordpress/")  # profiles that read comments: a generic record's counter has nothing to match
PageReader = Callable[[str, str, datetime, Site], Any]


def dle_paging_of(html: str, url: str, fetched_at: datetime) -> CommentPaging | None:
    """In a worker: the comment paging an article page shows."""
    page = Page.parse(html, url, fetched_at)
    return comment_paging(page, dle.news_id(url))


def count_mismatch(record: Article) -> str | None:
    """The warning of a record whose comment counter and comment list still disagree."""
    if not record.extractor.startswith(COMMENT_PROFILES) or record.comment_count in (None, len(record.comments)):
        return None
    return f"comment_count_mismatch: the page counts {record.comment_count} comments, {len(record.comments)} were found"


class CommentPages:
    """Mixin for a spider with `crawler`, `pool` (extraction workers), `fail()` and `logger`."""

    crawler: Any
    pool: Any
    logger: Any
    fail: Callable[..., None]

    complete_wordpress: Callable[..., Awaitable[Article]]

    async def complete_comments(self, response: TextResponse, record: Article, site: Site, hints: Hints) -> Article:
        """The record with every comment the site serves for it, and a warning when the counter still differs."""
        if record.extractor.startswith("dle/") and self._dle_has_more(response, record):
            record = await self._dle_pages(response, record, site)
        elif record.extractor.startswith("wordpress/"):
            record = await self.complete_wordpress(response, record, site, hints)
        warning = count_mismatch(record)
        if warning:
            self.crawler.stats.inc_value("newscrawler/comments/count_mismatch")
            self.logger.warning("%s: %s", record.url, warning)
            record = dataclasses.replace(record, warnings=[*record.warnings, warning])
        return record

    def _dle_has_more(self, response: TextResponse, record: Article) -> bool:
        """The counter says so, or, where the theme prints no counter, the page links to other comment pages."""
        if record.comment_count is not None:
            return record.comment_count > len(record.comments)
        return any(mark in response.text for mark in DLE_NAVIGATION)

    async def _dle_pages(self, response: TextResponse, record: Article, site: Site) -> Article:
        fetched_at = datetime.fromisoformat(record.fetched_at)
        paging = await self.pool.run(dle_paging_of, response.text, response.url, fetched_at)
        if paging is None:
            return record
        cap = self.crawler.settings.getint("NEWSCRAWLER_COMMENT_PAGES_MAX", COMMENT_PAGES_MAX)
        comments, use_ajax, last, page = list(record.comments), True, paging.last_page, 2
        while page <= min(last or cap, cap) and (record.comment_count is None or len(comments) < record.comment_count):
            found = await self._ajax_page(paging, page, fetched_at, site) if use_ajax else None
            if found is None:
                use_ajax = False  # the endpoint is off on this site: the article pages serve the rest
                found = await self._article_page(paging, page, fetched_at, site)
            merged = merge_comments(comments, found[0]) if found else comments
            if len(merged) == len(comments):
                break  # no page, or nothing new on it: asking further would only repeat
            self.crawler.stats.inc_value("newscrawler/comments/pages")
            comments, last, page = merged, max(last or 0, found[1] or 0) or None, page + 1
        return dataclasses.replace(record, comments=comments)

    async def _ajax_page(self, paging: CommentPaging, page: int, fetched_at: datetime, site: Site) -> tuple[list[Comment], int | None] | None:
        url = paging.ajax_url(page)
        response = await self._fetch(url, headers={"X-Requested-With": "XMLHttpRequest", "Referer": paging.article_url})
        found = await self._read(response, comments_from_json, fetched_at, site) if response is not None else None
        if found is None:
            self.crawler.stats.inc_value("newscrawler/comments/ajax_unavailable")
            self.logger.info("DLE comment endpoint gave no comments at %s: reading the article's comment pages", url)
        return found

    async def _article_page(self, paging: CommentPaging, page: int, fetched_at: datetime, site: Site) -> tuple[list[Comment], int | None] | None:
        url = paging.page_url(page)
        if url is None:
            return None
        response = await self._fetch(url)
        found = await self._read(response, comments_from_page, fetched_at, site) if response is not None else None
        if found is None and response is not None:
            self.fail(url, "comments", f"http_{response.status}" if response.status != 200 else "not_html", response.status)
        return found

    async def _read(self, response: Response, reader: PageReader, fetched_at: datetime, site: Site) -> Any:
        if response.status != 200 or not isinstance(response, TextResponse):
            return None
        return await self.pool.run(reader, response.text, response.url, fetched_at, site)

    async def _fetch(self, url: str, headers: dict[str, str] | None = None) -> Response | None:
        """A response of any status (the caller judges it), or None after a download error, which is a failure line."""
        request = Request(url, headers=headers, meta={"stage": "comments", "handle_httpstatus_all": True}, dont_filter=True)
        try:
            return await self.crawler.engine.download_async(request)
        except Exception as error:  # a timeout, a refused address, robots.txt: the record goes on without this page
            reason = error.reason if isinstance(error, Refused) else error_reason(error, f"error_{type(error).__name__}")
            self.fail(url, "comments", reason)
            return None
