"""A WordPress article completed from wp-json: the post (`/wp/v2/posts?slug=…`) when the theme's markup left a
field out, and every comment (`/wp/v2/comments?post=ID`, page by page), else the theme's `/comment-page-N/` pages."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urljoin

from scrapy.http import Response, TextResponse

from newscrawler.extract import Hints, wordpress
from newscrawler.extract.dle_paging import merge_comments
from newscrawler.extract.page import Page
from newscrawler.extract.site import Site
from newscrawler.extract.wp_comments import comment_pages, comments_of_page, comments_of_rest, current_comment_page, threaded
from newscrawler.extract.wp_json import EMBED, completed, post_of_rest
from newscrawler.items import Article, Comment

COMMENTS_PER_PAGE = 100  # NEWSCRAWLER_WP_COMMENTS_PER_PAGE: wp-json's largest page


@dataclass(frozen=True)
class PostPage:
    """What an article page says about where the rest of it is."""

    api: str
    post_id: str | None
    slug: str | None
    comment_pages: dict[int, str]
    current_page: int


def post_page_of(markup: str, url: str, fetched_at: datetime) -> PostPage:
    """In a worker: the wp-json root, post id, slug and comment pages an article page shows."""
    page = Page.parse(markup, url, fetched_at)
    return PostPage(wordpress.api_root(page), wordpress.post_id(page), wordpress.slug(url), comment_pages(page), current_comment_page(page))


def lacks_post_fields(record: Article, hints: Hints) -> bool:
    """A field wp-json has that the page did not give (a date from the feed is GMT, not the site's offset)."""
    from_feed = record.published_at is None or (hints.published_at_raw is not None and record.published_at_raw == hints.published_at_raw)
    return from_feed or not record.authors or None in (record.title, record.body, record.category)


class WordPressApi:
    """Mixin for the feed spider, beside CommentPages (whose `_fetch` and `_read` it uses)."""

    crawler: Any
    pool: Any
    logger: Any
    _fetch: Callable[..., Any]
    _read: Callable[..., Any]
    fail: Callable[..., None]

    async def complete_wordpress(self, response: TextResponse, record: Article, site: Site, hints: Hints) -> Article:
        if not self.crawler.settings.getbool("NEWSCRAWLER_WP_JSON", True):
            return record
        fetched_at = datetime.fromisoformat(record.fetched_at)
        info = await self.pool.run(post_page_of, response.text, response.url, fetched_at)
        post = await self._post(info) if lacks_post_fields(record, hints) else None
        if post is not None:
            record = completed(record, post, hints.published_at_raw)
        post_id = info.post_id or (str(post["id"]) if post else None)
        if not info.comment_pages and (record.comment_count or 0) <= len(record.comments):
            return record
        rest = await self._rest_comments(info.api, post_id, fetched_at, site) if post_id else None
        if rest is not None:
            comments, total = rest
            count = record.comment_count if record.comment_count is not None else total
            return dataclasses.replace(record, comments=threaded(merge_comments(comments, record.comments)), comment_count=count)
        return dataclasses.replace(record, comments=await self._markup_pages(info, record.comments, fetched_at, site))

    async def _post(self, info: PostPage) -> dict[str, Any] | None:
        if not info.slug:
            return None
        response = await self._fetch(urljoin(info.api, "wp/v2/posts") + "?" + urlencode({"slug": info.slug, "_embed": EMBED}))
        post = _json(response, post_of_rest)
        self.crawler.stats.inc_value("newscrawler/wordpress/posts" if post else "newscrawler/wordpress/posts_unavailable")
        return post

    async def _rest_comments(self, api: str, post_id: str, fetched_at: datetime, site: Site) -> tuple[list[Comment], int | None] | None:
        """Every page of /wp/v2/comments?post=ID, and the total it states; None when wp-json does not serve them."""
        settings = self.crawler.settings
        per_page = settings.getint("NEWSCRAWLER_WP_COMMENTS_PER_PAGE", COMMENTS_PER_PAGE)
        found: list[Comment] = []
        page, pages, total = 1, 1, None
        while page <= min(pages, settings.getint("NEWSCRAWLER_COMMENT_PAGES_MAX", 100)):
            url = urljoin(api, "wp/v2/comments") + "?" + urlencode({"post": post_id, "per_page": per_page, "page": page})
            response = await self._fetch(url)
            comments = _json(response, comments_of_rest)
            if comments is None:
                self.crawler.stats.inc_value("newscrawler/wordpress/comments_unavailable")
                return None if page == 1 else (found, total)
            found += comments
            pages, total = _header_int(response, b"X-WP-TotalPages") or pages, _header_int(response, b"X-WP-Total")
            self.crawler.stats.inc_value("newscrawler/comments/pages")
            page += 1
        return found, total

    async def _markup_pages(self, info: PostPage, first: list[Comment], fetched_at: datetime, site: Site) -> list[Comment]:
        """The theme's comment pages, each once, in page order, however many the navigation shows at a time."""
        by_page: dict[int, list[Comment]] = {info.current_page: first}
        pending = dict(info.comment_pages)
        while pending and len(by_page) < self.crawler.settings.getint("NEWSCRAWLER_COMMENT_PAGES_MAX", 100):
            number = min(pending)
            url = pending.pop(number)
            if number in by_page:
                continue
            response = await self._fetch(url)
            found = await self._read(response, comments_of_page, fetched_at, site) if response is not None else None
            if found is None:  # a download error is a failure line already (_fetch)
                if response is not None:
                    self.fail(url, "comments", f"http_{response.status}" if response.status != 200 else "not_html", response.status)
                continue
            by_page[number] = found[0]
            pending |= {n: link for n, link in found[1].items() if n not in by_page}
            self.crawler.stats.inc_value("newscrawler/comments/pages")
        return merge_comments(*(by_page[number] for number in sorted(by_page)))


def _json(response: Response | None, reader: Callable[[str], Any]) -> Any:
    """A small JSON answer, read in the crawl's process; None unless it is a 200 with text."""
    if response is None or response.status != 200 or not isinstance(response, TextResponse):
        return None
    return reader(response.text)


def _header_int(response: Response, name: bytes) -> int | None:
    value = response.headers.get(name)
    return int(value) if value and value.strip().isdigit() else None
