"""Crawl one RSS/Atom feed and every article it links to."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure as TwistedFailure

from newscrawler.charset import web_name
from newscrawler.extract import PROFILES, Hints
from newscrawler.extract.site import Site, load_zone, site_for_url
from newscrawler.failures import failure_recorded
from newscrawler.feeds import REASONS as FEED_REASONS
from newscrawler.feeds import FeedEntry, FeedError, read_feed
from newscrawler.fingerprint import signature, signed_extract
from newscrawler.items import Article, Failure
from newscrawler.middlewares import ERROR_REASONS, Refused
from newscrawler.middlewares.charset import FIXUP_META
from newscrawler.middlewares.retry import GIVE_UP_KEY
from newscrawler.spiders.comment_pages import CommentPages
from newscrawler.spiders.last_comments import LastComments
from newscrawler.spiders.wordpress import WordPressApi
from newscrawler.state import crawler_state
from newscrawler.urls import normalize_url
from newscrawler.workers import WorkerPool, default_workers

ALLOWED_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Fetched:
    """What the store needs of a page beside its record: the URL the feed gave (before redirects), and the body's
    MinHash signature, computed in the worker with the record so that the crawl process does not."""

    requested_url: str
    body_signature: list[int] | None


class FeedSpider(CommentPages, WordPressApi, LastComments, Spider):
    """`scrapy crawl feed -a url=URL [-a tz=Asia/Almaty] [-a profile=auto|dle|wordpress|generic]`; several feeds:
    `-a url="URL URL"`.

    Each feed is read on its own: one that fails (not a feed, an entity bomb, a 404) is a failure line and the
    crawl goes on with the others.
    """

    name = "feed"

    def __init__(
        self, url: str | list[str] | None = None, tz: str | None = None, profile: str = "auto", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        urls = url.split() if isinstance(url, str) else list(url or [])
        bad = [u for u in urls if urlsplit(u).scheme not in ALLOWED_SCHEMES or not urlsplit(u).hostname]
        if not urls or bad:
            raise ValueError(f"feed spider: -a url=... must be http(s) feed URLs, got {url!r}")
        if profile not in ("auto", *PROFILES):
            raise ValueError(f"feed spider: -a profile= must be auto, {', '.join(PROFILES)}, got {profile!r}")
        if tz:
            load_zone(tz)  # fails here, before any request, naming the zone
        self.feed_urls = urls
        self.tz = tz
        self.profile = profile

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FeedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        workers = settings.get("NEWSCRAWLER_EXTRACT_WORKERS")
        spider.pool = WorkerPool(default_workers() if workers is None else int(workers))
        spider.state = crawler_state(crawler)
        spider.refresh = settings.getbool("NEWSCRAWLER_REFRESH")
        spider.lease = timedelta(seconds=settings.getfloat("NEWSCRAWLER_LEASE_SECONDS"))
        spider.fetched = {}  # record URL -> Fetched, until the store pipeline takes it
        spider.scheduled = set()  # article URLs requested in this run: a URL due at start may be in the feed too
        spider.tracking_params = tuple(settings.getlist("NEWSCRAWLER_TRACKING_PARAMS"))
        crawler.signals.connect(spider.close_pool, signal=signals.spider_closed)
        crawler.signals.connect(spider.forget_dropped, signal=signals.item_dropped)
        return spider

    def forget_dropped(self, item: Any) -> None:
        self.fetched.pop(getattr(item, "url", None), None)

    def close_pool(self) -> None:
        self.pool.close()

    async def start(self) -> AsyncIterator[Request]:
        """The feed (conditional: an unchanged feed costs a 304), then what the store says is due: URLs a killed run
        left unfinished, and re-crawls."""
        for feed_url in self.feed_urls:
            yield Request(
                feed_url, callback=self.parse_feed, errback=self.failed, dont_filter=True, headers=self.feed_conditions(feed_url),
                meta={"stage": "feed", "feed_url": feed_url, "handle_httpstatus_list": [304]},
            )
        if self.state is not None:
            for request in self.article_requests(self.state.due(datetime.now(UTC), refresh=self.refresh)):
                yield request

    def feed_conditions(self, feed_url: str) -> dict[str, str]:
        etag, last_modified = self.state.feed_validators(feed_url) if self.state is not None else (None, None)
        headers = {"If-None-Match": etag, "If-Modified-Since": last_modified}
        return {name: value for name, value in headers.items() if value}

    def site_for(self, url: str) -> Site:
        return site_for_url(url, tz=self.tz, profile=self.profile, tracking_params=self.tracking_params)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        """In-process: the workers are still starting when the first feed arrives, and feeds are small."""
        if response.status == 304:
            self.crawler.stats.inc_value("newscrawler/feed/not_modified")
            return
        feed_url = response.meta.get("feed_url", response.url)
        try:
            feed = read_feed(response.body, response.url, web_name(response.encoding) if isinstance(response, TextResponse) else None)
        except FeedError as error:
            self.logger.error("%s: %s", response.url, FEED_REASONS.get(str(error), str(error)))
            self.fail(response.url, "feed", str(error), response.status)
            return
        for warning in feed.warnings:
            self.crawler.stats.inc_value(f"newscrawler/warnings/feed/{warning}")
            self.logger.warning("%s: %s", response.url, FEED_REASONS.get(warning, warning))
        self.crawler.stats.inc_value("newscrawler/feed/items", len(feed.entries))
        if self.state is not None:
            header = response.headers.get
            validators = [value.decode("latin-1") if (value := header(name)) else None for name in ("ETag", "Last-Modified")]
            self.state.save_feed(feed_url, *validators, datetime.now(UTC))
        yield from self.article_requests(self.due_of(self.article_urls(feed.entries), feed_url))
        yield from self.last_comments_request(response)

    def article_urls(self, entries: list[FeedEntry]) -> dict[str, dict[str, Any]]:
        """The feed's fetchable article URLs, normalised and once each, with their hints."""
        found: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if urlsplit(entry.url).scheme not in ALLOWED_SCHEMES:
                self.fail(entry.url, "feed", "scheme_not_allowed")
            elif (url := self.normalized(entry.url)) is None:
                self.fail(entry.url, "feed", "invalid_url")
            elif url in found:  # e.g. with utm_ parameters
                self.crawler.stats.inc_value("newscrawler/feed/duplicates")
            else:
                found[url] = asdict(entry.hints())
        return found

    def normalized(self, url: str) -> str | None:
        """The URL to fetch, or None for a link no server could be asked for (port 99999, a broken IPv6 literal)."""
        try:
            return normalize_url(url, self.tracking_params)
        except ValueError:
            return None

    def due_of(self, found: dict[str, dict[str, Any]], feed_url: str) -> list[tuple[str, dict[str, Any]]]:
        """The feed's URLs that need a fetch: all of them without a store, else the new and the due."""
        if self.state is None:
            return list(found.items())
        now = datetime.now(UTC)
        self.state.discover(self.site_for(feed_url).name, found.items(), now)
        return self.state.due(now, refresh=self.refresh, urls=found)

    def article_requests(self, due: list[tuple[str, dict[str, Any]]]) -> Iterator[Request]:
        due = [(url, hints) for url, hints in due if url not in self.scheduled]
        self.scheduled.update(url for url, _ in due)
        if self.state is not None:
            self.state.lease([url for url, _ in due], datetime.now(UTC) + self.lease)
        for url, hints in due:
            yield Request(
                url, callback=self.parse_article, errback=self.failed,
                cb_kwargs={"hints": Hints.from_dict(hints)}, meta={"stage": "download"},
            )

    async def parse_article(self, response: Response, hints: Hints) -> AsyncIterator[Article]:
        if not isinstance(response, TextResponse):
            self.fail(response.url, "extract", "not_html", response.status)
            return
        fetched_at, site = datetime.now(UTC), self.site_for(response.url)
        try:
            record, body_signature = await self.pool.run(
                signed_extract, response.text, response.url, fetched_at, site=site, hints=hints
            )
        except Exception as error:  # one bad page must not stop the crawl; it becomes a failure line
            self.logger.exception("extraction failed for %s", response.url)
            self.fail(response.url, "extract", f"error_{type(error).__name__}", response.status)
            return
        extracted = dataclasses.replace(record, charset=web_name(response.encoding), charset_fixup=response.meta.get(FIXUP_META))
        record = await self.complete_comments(response, extracted, site, hints)
        if record.body != extracted.body:  # wp-json gave the body the theme's markup lacked
            body_signature = await self.pool.run(signature, record.body)
        if self.state is not None:
            self.fetched[record.url] = Fetched(response.meta.get("redirect_urls", [response.url])[0], body_signature)
        yield record

    def failed(self, failure: TwistedFailure) -> None:
        """Errback: an HTTP error after retries, a timeout, a DNS or connection error, a refusal (newscrawler.middlewares).

        Recorded under the URL the spider asked for, not the redirect hop that failed, so that URL gets its state."""
        request = failure.request
        status = failure.value.response.status if failure.check(HttpError) else None
        url = request.meta.get("redirect_urls", [request.url])[0]
        attempts = request.meta.get("retry_times", 0) + 1
        self.fail(url, request.meta.get("stage", "download"), failure_reason(failure), status, attempts, failure_detail(failure))

    def fail(self, url: str, stage: str, reason: str, status: int | None = None, attempts: int | None = None,
             detail: str | None = None) -> None:
        failure = Failure(url, stage, reason, status, attempts=attempts, detail=detail)
        self.crawler.signals.send_catch_log(failure_recorded, failure=failure)


def failure_reason(failure: TwistedFailure) -> str:
    """A short code for the failures file and the stats: http_404, timeout, robots_disallowed..."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(Refused):
        return failure.value.reason
    if failure.check(IgnoreRequest):
        return "robots_disallowed" if "robots.txt" in str(failure.value) else "ignored"
    for errors, reason in ERROR_REASONS:
        if failure.check(*errors):
            return reason
    return f"error_{failure.type.__name__}"


def failure_detail(failure: TwistedFailure) -> str:
    """The failure in words for the failures file: "timeout after 30 s", "HTTP 503 after 3 attempts"..."""
    request = failure.request
    if failure.check(Refused):
        return failure.value.detail
    if failure.check(HttpError):
        attempts = request.meta.get("retry_times", 0) + 1
        give_up = request.meta.get(GIVE_UP_KEY)
        return f"HTTP {failure.value.response.status} after {attempts} attempt(s)" + (f": {give_up}" if give_up else "")
    if failure.check(*ERROR_REASONS[0][0]):
        return f"timeout after {request.meta.get('download_timeout', 0):g} s ({request.url})"
    return f"{failure.type.__name__}: {failure.value}"[:500]

