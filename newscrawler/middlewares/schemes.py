"""Only http and https are fetched: a feed or a redirect may point at file:///etc/passwd, data:, ftp: or s3:."""

from __future__ import annotations

from typing import Self
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from newscrawler.middlewares import Refused


class SchemeAllowListMiddleware:
    """First in line, so a refused scheme costs no robots.txt fetch; its process_response sees a redirect last,
    after RedirectMiddleware has left a redirect to another scheme unfollowed."""

    def __init__(self, crawler: Crawler) -> None:
        self.allowed = frozenset(scheme.lower() for scheme in crawler.settings.getlist("NEWSCRAWLER_ALLOWED_SCHEMES"))
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def refuse(self, url: str, what: str) -> Refused:
        self.stats.inc_value("newscrawler/scheme/refused")
        scheme = urlsplit(url).scheme or "(none)"
        return Refused("scheme_not_allowed", f"scheme not allowed: {what} {url[:200]} ({scheme}:)")

    def process_request(self, request: Request) -> None:
        if urlsplit(request.url).scheme.lower() not in self.allowed:
            raise self.refuse(request.url, "request to")

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location") if 300 <= response.status < 400 else None
        if location:
            target = urljoin(request.url, location.decode("latin-1").strip())
            if urlsplit(target).scheme.lower() not in self.allowed:
                raise self.refuse(target, f"redirect from {request.url} to")
        return response
