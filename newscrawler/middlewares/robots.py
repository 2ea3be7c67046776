"""robots.txt per RFC 9309, which Scrapy's RobotsTxtMiddleware does not follow (reference/reliability.md §A.1.4).

- 2xx: the rules apply; `Crawl-delay` raises the host's download delay, up to NEWSCRAWLER_ROBOTS_MAX_CRAWL_DELAY.
- 4xx ("unavailable", §2.3.1.3): no rules, the host may be crawled.
- 5xx, 429, or no answer at all ("unreachable", §2.3.1.4): complete disallow; each URL of the host fails with
  "robots_unavailable" (Scrapy parses a 5xx error page as allow-all), or with the network error that made
  robots.txt unreachable ("timeout", "connection_refused"...) or the address filter's "blocked_address".
- Each verdict is kept at most NEWSCRAWLER_ROBOTS_CACHE_SECONDS (RFC: 24 h), then fetched again.
Stats: newscrawler/robots/{rules,missing,unavailable} per host fetched, newscrawler/robots/forbidden per URL."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

from newscrawler.middlewares import Refused, error_reason

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What a host's robots.txt said: rules (parser), nothing (parser None), or a refusal for every URL."""

    parser: RobotParser | None
    refusal: tuple[str, str] | None  # (reason, detail) of the Refused each URL of the host gets
    fetched: float  # time.monotonic()


class RobotsPolicyMiddleware:
    DOWNLOAD_PRIORITY = 1000

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT")
        self.parser_class = load_object(settings.get("ROBOTSTXT_PARSER"))
        self.ttl = settings.getfloat("NEWSCRAWLER_ROBOTS_CACHE_SECONDS")
        self.max_crawl_delay = settings.getfloat("NEWSCRAWLER_ROBOTS_MAX_CRAWL_DELAY")
        self.verdicts: dict[str, Verdict] = {}
        self.pending: dict[str, list[Deferred[Verdict]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        verdict = await self.verdict_for(request)
        if verdict.refusal is not None:
            raise Refused(*verdict.refusal)
        if verdict.parser is not None and not verdict.parser.allowed(request.url, self.user_agent):
            self.stats.inc_value("newscrawler/robots/forbidden")
            raise Refused("robots_disallowed", f"forbidden by {robots_url(request)}")

    async def verdict_for(self, request: Request) -> Verdict:
        netloc = robots_url(request)  # RFC 9309 §2.3: one robots.txt per scheme, host and port
        verdict = self.verdicts.get(netloc)
        if verdict is not None and time.monotonic() - verdict.fetched < self.ttl:
            return verdict
        if netloc in self.pending:  # robots.txt is on its way: wait for it (one Deferred per waiter)
            waiter: Deferred[Verdict] = Deferred()
            self.pending[netloc].append(waiter)
            return await maybe_deferred_to_future(waiter)
        self.pending[netloc] = []
        try:
            verdict = self.verdicts[netloc] = await self.fetch(request)
        except Exception as error:
            for waiter in self.pending.pop(netloc):
                waiter.errback(error)
            raise
        for waiter in self.pending.pop(netloc):
            waiter.callback(verdict)
        return verdict

    async def fetch(self, request: Request) -> Verdict:
        url = robots_url(request)
        robots = Request(url, priority=self.DOWNLOAD_PRIORITY, meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
        self.stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(robots)
        except Refused as error:
            if error.reason in ("redirect_loop", "too_many_redirects"):  # RFC 9309 §2.3.1.2: treat as unavailable
                return self.missing(url, error.detail)
            return self.unavailable(url, error.detail, reason=error.reason)
        except Exception as error:  # noqa: BLE001 (timeout, refused connection, DNS: "unreachable")
            return self.unavailable(url, f"{type(error).__name__}: {error}", reason=error_reason(error, "robots_unavailable"))
        self.stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        if response.status >= 500 or response.status == 429:
            return self.unavailable(url, f"HTTP {response.status}")
        if response.status >= 400:
            return self.missing(url, f"HTTP {response.status}")
        return self.rules(request, response)

    def rules(self, request: Request, response: Response) -> Verdict:
        self.stats.inc_value("newscrawler/robots/rules")
        parser = build_from_crawler(self.parser_class, self.crawler, response.body)
        if (delay := parser.crawl_delay(self.user_agent)) is not None:
            self.slow_down(request, delay)
        return Verdict(parser, None, time.monotonic())

    def missing(self, url: str, detail: str) -> Verdict:
        self.stats.inc_value("newscrawler/robots/missing")
        logger.info("no robots.txt at %s (%s): the host may be crawled", url, detail)
        return Verdict(None, None, time.monotonic())

    def unavailable(self, url: str, detail: str, reason: str = "robots_unavailable") -> Verdict:
        self.stats.inc_value("newscrawler/robots/unavailable")
        logger.warning("robots.txt unavailable at %s (%s): the host is not crawled", url, detail)
        return Verdict(None, (reason, f"robots unavailable: {url} ({detail})"), time.monotonic())

    def slow_down(self, request: Request, crawl_delay: float) -> None:
        """Raise the host's download slot delay to its Crawl-delay (as AutoThrottle does), capped."""
        delay = min(crawl_delay, self.max_crawl_delay)
        if crawl_delay > self.max_crawl_delay:
            self.stats.inc_value("newscrawler/robots/crawl_delay_capped")
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None and slot.delay < delay:
            slot.delay = delay
            self.stats.inc_value("newscrawler/robots/crawl_delay")
            logger.info("Crawl-delay %g s for %s (asked %g s)", delay, urlparse_cached(request).netloc, crawl_delay)


def robots_url(request: Request) -> str:
    parts = urlparse_cached(request)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"
