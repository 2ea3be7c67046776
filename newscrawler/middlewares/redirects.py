"""Redirect loops and long chains end as one failure, not a silent drop.

Scrapy's RedirectMiddleware stops a chain only at REDIRECT_MAX_TIMES, and a loop back to a URL already requested
is dropped without a word by the scheduler's duplicate filter. This middleware sits just before it (on the response
path) and refuses the hop that closes a loop or goes past the limit. A loop made of `<meta http-equiv=refresh>`
pages (MetaRefreshMiddleware, later on the response path) is caught when the duplicate filter drops the hop back."""

from __future__ import annotations

from typing import Self
from urllib.parse import urljoin

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from newscrawler.failures import failure_recorded
from newscrawler.items import Failure
from newscrawler.middlewares import Refused

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class RedirectGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES")
        self.stats = crawler.stats
        self.signals = crawler.signals
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in REDIRECT_STATUSES or not location or request.meta.get("dont_redirect"):
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            self.stats.inc_value("newscrawler/redirect/loop")
            raise Refused("redirect_loop", f"redirect loop: {' -> '.join([*chain, target])[:500]}")
        if len(chain) > self.max_redirects:
            self.stats.inc_value("newscrawler/redirect/too_many")
            raise Refused("too_many_redirects", f"too many redirects: more than {self.max_redirects} from {chain[0]}")
        return response

    def request_dropped(self, request: Request) -> None:
        """A redirect hop back into its own chain, dropped as a duplicate: the first URL of the chain fails."""
        chain = request.meta.get("redirect_urls", [])
        if request.url not in chain:
            return
        self.stats.inc_value("newscrawler/redirect/loop")
        detail = f"redirect loop: {' -> '.join([*chain, request.url])[:500]}"
        failure = Failure(chain[0], request.meta.get("stage", "download"), "redirect_loop", attempts=1, detail=detail)
        self.signals.send_catch_log(failure_recorded, failure=failure)
