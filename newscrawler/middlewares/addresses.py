"""Turns a connection the address filter refused into a "blocked_address" failure (see newscrawler/addresses.py)."""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from newscrawler.addresses import AddressFilteringResolver, parse_allow_list
from newscrawler.middlewares import Refused

logger = logging.getLogger(__name__)
RESOLVER = "newscrawler.addresses.AddressFilteringResolver"


class AddressFilterMiddleware:
    """Closest to the downloader, so a refused address is neither retried nor mistaken for a DNS failure.

    The filter itself lives in the process's name resolver; without it every request is refused (fail closed)."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSCRAWLER_ADDRESS_FILTER_ENABLED"):
            raise NotConfigured
        parse_allow_list(crawler.settings.getlist("NEWSCRAWLER_ALLOWED_ADDRESSES"))  # a typo stops the run here, named
        self.stats = crawler.stats
        self.resolver: AddressFilteringResolver | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if self.resolver is None:
            from twisted.internet import reactor

            resolver = getattr(reactor, "nameResolver", None)
            if not isinstance(resolver, AddressFilteringResolver):
                detail = f"the address filter is not installed: set TWISTED_DNS_RESOLVER = {RESOLVER!r}"
                logger.error("refusing %s: %s", request.url, detail)
                raise Refused("address_filter_missing", detail)
            self.resolver = resolver

    def process_exception(self, request: Request, exception: Exception) -> None:
        if self.resolver is None or not isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            return None
        host = urlparse_cached(request).hostname or ""
        if (refusal := self.resolver.refusal_for(host)) is None:
            return None
        self.stats.inc_value("newscrawler/address_filter/blocked")
        raise Refused("blocked_address", f"blocked address: {host} resolves to {refusal}")
