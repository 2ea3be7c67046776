"""New comments on old articles: DLE's lastcomments listing names the articles whose comments changed, and the
spider fetches those again (the store then writes a new version with `changed_fields: ["comments"]`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from scrapy import Request
from scrapy.http import Response, TextResponse

from newscrawler.extract.lastcomments import last_comments
from newscrawler.urls import normalize_url

LAST_COMMENTS_PATH = "/index.php?do=lastcomments"
# DLE's rss.php prints its name in the channel head; a feed answered 304 carries nothing, so --profile dle always asks.
DLE_FEED = re.compile(rb"<generator>\s*DataLife Engine", re.I)
HEAD_BYTES = 8192


class LastComments:
    """Mixin for the feed spider: with a state store, after a DLE feed, one request for the lastcomments listing."""

    crawler: Any
    state: Any
    profile: str
    tracking_params: tuple[str, ...]
    logger: Any
    failed: Callable[..., None]
    article_requests: Callable[..., Iterator[Request]]

    def last_comments_request(self, feed: Response) -> Iterator[Request]:
        enabled = self.crawler.settings.getbool("NEWSCRAWLER_DLE_LASTCOMMENTS", True)
        if self.state is None or not enabled:
            return
        if self.profile == "dle" or DLE_FEED.search(feed.body[:HEAD_BYTES]):
            yield Request(
                urljoin(feed.url, LAST_COMMENTS_PATH), callback=self.parse_last_comments, errback=self.failed,
                dont_filter=True, meta={"stage": "lastcomments", "handle_httpstatus_list": [404]},
            )

    def parse_last_comments(self, response: Response) -> Iterator[Request]:
        """Articles in the store whose listed comments it lacks are fetched again; unknown articles are left to the feed."""
        stats = self.crawler.stats
        if response.status == 404 or not isinstance(response, TextResponse):
            stats.inc_value("newscrawler/lastcomments/missing")
            self.logger.info("no lastcomments listing at %s (HTTP %s)", response.url, response.status)
            return
        listed: dict[str, set[str]] = {}
        for url, comment_id in last_comments(response.text, response.url):
            listed.setdefault(normalize_url(url, self.tracking_params), set()).add(comment_id)
        known = self.state.comment_ids(list(listed))
        changed = [url for url, ids in listed.items() if url in known and not ids <= known[url]]
        stats.inc_value("newscrawler/lastcomments/articles", len(listed))
        stats.inc_value("newscrawler/lastcomments/changed", len(changed))
        hints = dict(self.state.due(datetime.now(UTC), refresh=True, urls=changed))
        yield from self.article_requests([(url, hints.get(url, {})) for url in changed])
