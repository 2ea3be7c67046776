"""Crawl the sites of sources.toml (or one feed URL): their feeds, found from a home page if need be, and every
article the feeds link to; with `backfill`, every article their sitemaps and archive listings reach too."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import EllipsisType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure as TwistedFailure

from newscrawler.backfill import looks_like_sitemap
from newscrawler.discovery import alternate_feeds, fallback_feeds, full_text_feeds, is_dle_feed
from newscrawler.charset import web_name
from newscrawler.extract import PROFILES, Hints
from newscrawler.extract.site import Site, site_for_url
from newscrawler.failures import failure_recorded
from newscrawler.feeds import REASONS as FEED_REASONS
from newscrawler.feeds import Feed, FeedEntry, FeedError, read_feed
from newscrawler.fingerprint import signature, signed_extract
from newscrawler.items import Article, Failure
from newscrawler.middlewares import ERROR_REASONS, Refused
from newscrawler.middlewares.charset import FIXUP_META
from newscrawler.middlewares.retry import GIVE_UP_KEY
from newscrawler.sources import Source, SourcesError, load_sources, select_sources
from newscrawler.spiders.backfill import BackfillMixin
from newscrawler.spiders.comment_pages import CommentPages
from newscrawler.spiders.last_comments import LastComments
from newscrawler.spiders.wordpress import WordPressApi
from newscrawler.report import SITE_PREFIX
from newscrawler.state import crawler_state
from newscrawler.urls import normalize_url, site_name
from newscrawler.workers import WorkerPool, worker_count

ALLOWED_SCHEMES = ("http", "https")
MIN_SLOT_DELAY = 0.001
Found = dict[str, dict[str, Any]]  # normalised article URL -> its hints (as the state store keeps them)


@dataclass(frozen=True)
class Fetched:
    """What the store needs of a page beside its record: the URL the feed gave (before redirects), and the body's
    MinHash signature when the worker computed it with the record (`...`: the store signs the body)."""

    requested_url: str
    body_signature: list[int] | None | EllipsisType


class FeedSpider(BackfillMixin, CommentPages, WordPressApi, LastComments, Spider):
    """`scrapy crawl feed -a url=URL [-a tz=Asia/Almaty] [-a profile=auto|dle|wordpress|generic]`, or
    `-a config=sources.toml [-a site=NAME] [-a backfill=1 -a since=2024-01-01 -a until=2024-02-01]`."""

    name = "feed"

    def __init__(
        self, url: str | None = None, tz: str | None = None, profile: str = "auto", config: str | None = None,
        site: str | None = None, sources: list[Source] | None = None, backfill: bool | str = False,
        since: date | str | None = None, until: date | str | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.adhoc = sources is None and config is None  # one feed URL: sites are named by host, as before sources.toml
        self.tz, self.profile = tz, profile
        self.sources = sources if sources is not None else spider_sources(url, tz, profile, config, site)
        self.by_name = {source.name: source for source in self.sources}
        self.by_host = {host: source for source in self.sources for host in source.hosts}
        self.backfill = backfill is True or str(backfill).lower() in ("1", "true", "yes")
        self.since_arg, self.until_arg = as_date(since, "since"), as_date(until, "until")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FeedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        apply_site_settings(settings, spider.sources)
        spider.pool = WorkerPool(worker_count(settings.get("NEWSCRAWLER_EXTRACT_WORKERS")))
        spider.state = crawler_state(crawler)
        spider.refresh = settings.getbool("NEWSCRAWLER_REFRESH")
        spider.lease = timedelta(seconds=settings.getfloat("NEWSCRAWLER_LEASE_SECONDS"))
        spider.max_sitemap_size = settings.getint("DOWNLOAD_MAXSIZE")
        spider.listed = {}  # (site, listing root) -> article URLs its walk has seen
        spider.fetched = {}  # record URL -> Fetched, until the store pipeline takes it
        spider.scheduled = set()  # article URLs requested in this run: a URL due at start may be in the feed too
        spider.new_pass()
        spider.tracking_params = tuple(settings.getlist("NEWSCRAWLER_TRACKING_PARAMS"))
        crawler.signals.connect(spider.close_pool, signal=signals.spider_closed)
        crawler.signals.connect(spider.start_backfill, signal=signals.spider_idle)
        spider.backfill_started = False
        spider.distributed = bool(settings.get("NEWSCRAWLER_REDIS_URL"))  # one worker of a shared frontier
        crawler.signals.connect(spider.forget_dropped, signal=signals.item_dropped)
        return spider

    def new_pass(self) -> None:
        """Forget what this process scheduled, and renew the page budgets: a run, or a pass of a distributed crawl
        (whose frontier may have been rebuilt after Redis lost it, and needs every URL again)."""
        self.scheduled.clear()
        self.budget = {s.name: s.limits.max_pages for s in self.sources if s.limits.max_pages}  # fetches left
        self.over_budget = set()  # URLs max_pages left for a later run

    def start_backfill(self) -> None:
        """Backfill starts once the feeds are read and their articles fetched, so an article that a feed and a sitemap
        both list is fetched once, with what the (full-text) feeds said of it."""
        if not self.backfill or self.backfill_started or self.distributed:
            return
        self.backfill_started = True
        for source in self.sources:
            for request in self.backfill_requests(source):
                self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def forget_dropped(self, item: Any) -> None:
        self.fetched.pop(getattr(item, "url", None), None)

    def close_pool(self) -> None:
        self.pool.close()

    async def start(self) -> AsyncIterator[Request]:
        """Each site's start URLs (feeds conditionally: an unchanged feed costs a 304), then what the store says is
        due: URLs a killed run left unfinished, and re-crawls. Backfill comes after them (start_backfill)."""
        for source in self.sources:
            for url in source.start_urls:
                yield self.request(source, url, self.parse_start, stage="feed", headers=self.feed_conditions(url),
                                   meta={"handle_httpstatus_list": [304]}, dont_filter=True)
        if self.state is not None:
            for request in self.article_requests(self.state.due(datetime.now(UTC), refresh=self.refresh)):
                yield request
        if self.distributed and self.backfill:  # workers start together: the backfill is part of the pass's seeds
            for source in self.sources:
                for request in self.backfill_requests(source):
                    yield request

    def request(self, source: Source, url: str, callback: Any, *, stage: str, meta: dict[str, Any] | None = None,
                **kwargs: Any) -> Request:
        """A request of a site: its stage for failure lines, and its own download slot when it sets politeness."""
        slot = {"download_slot": source.name} if source.politeness.delay is not None or source.politeness.concurrency else {}
        kwargs.setdefault("errback", self.failed)
        return Request(url, callback=callback, meta={"stage": stage, "source": source.name, **slot, **(meta or {})}, **kwargs)

    def site_of(self, url: str) -> str:
        """The name of the site a URL belongs to, for per-site figures (its host when no site claims it)."""
        source = self.by_host.get(site_name(url)) or (self.sources[0] if self.adhoc else None)
        return source.name if source is not None else site_name(url)

    def source_of(self, response: Response) -> Source:
        return self.by_name[response.meta["source"]]

    def by_source(self, due: list[tuple[str, dict[str, Any]]]) -> list[tuple[Source, list[tuple[str, dict[str, Any]]]]]:
        """Due URLs grouped by the site their host belongs to (of one feed URL: all of them); other sites' wait."""
        grouped: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for url, hints in due:
            source = self.by_host.get(site_name(url)) or (self.sources[0] if self.adhoc else None)
            if source is not None:
                grouped.setdefault(source.name, []).append((url, hints))
        return [(self.by_name[name], urls) for name, urls in grouped.items()]

    def feed_conditions(self, url: str) -> dict[str, str]:
        etag, last_modified = self.state.feed_validators(url) if self.state is not None else (None, None)
        headers = {"If-None-Match": etag, "If-Modified-Since": last_modified}
        return {name: value for name, value in headers.items() if value}

    def site_for(self, url: str, source: Source | None = None) -> Site:
        if self.adhoc or source is None:
            return site_for_url(url, tz=self.tz, profile=self.profile, tracking_params=self.tracking_params)
        return source.site(self.tracking_params)

    def parse_start(self, response: Response) -> Iterator[Request]:
        """A start URL is a feed, a sitemap, or a home page whose feeds are to be found."""
        source = self.source_of(response)
        if response.status == 304:
            self.crawler.stats.inc_value("newscrawler/feed/not_modified")
        elif looks_like_sitemap(response.body):
            yield from self.parse_sitemap(response)
        elif isinstance(response, HtmlResponse) and looks_like_html(response.body):  # served as a page, not a feed
            yield from self.discover_feeds(response, source)
        else:
            yield from self.read_feed(response, source)

    def discover_feeds(self, response: Response, source: Source) -> Iterator[Request]:
        """The home page's <link rel=alternate> feeds, else /rss.xml, then /feed/."""
        found = alternate_feeds(response.text, response.url)
        self.crawler.stats.inc_value("newscrawler/discovery/feeds", len(found))
        if found:
            for url in found:
                yield self.request(source, url, self.parse_feed, stage="feed", headers=self.feed_conditions(url),
                                   meta={"handle_httpstatus_list": [304]})
            return
        yield from self.try_fallback_feed(source, fallback_feeds(response.url), response.url)

    def try_fallback_feed(self, source: Source, candidates: list[str], home: str) -> Iterator[Request]:
        if not candidates:
            self.fail(home, "discovery", "no_feed_found")
            return
        yield self.request(source, candidates[0], self.parse_fallback_feed, stage="discovery",
                           meta={"handle_httpstatus_all": True, "home": home, "candidates": candidates[1:]})

    def parse_fallback_feed(self, response: Response) -> Iterator[Request]:
        source, meta = self.source_of(response), response.meta
        if response.status == 200 and is_feed(response):
            self.crawler.stats.inc_value("newscrawler/discovery/feeds")
            yield from self.read_feed(response, source)
        else:
            yield from self.try_fallback_feed(source, meta["candidates"], meta["home"])

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if response.status == 304:
            self.crawler.stats.inc_value("newscrawler/feed/not_modified")
            return
        yield from self.read_feed(response, self.source_of(response))

    def read_feed(self, response: Response, source: Source) -> Iterator[Request]:
        """In-process: the workers are still starting when the first feed arrives, and feeds are small. A DLE
        feed is followed by the site's full-text feeds, whose stories fill bodies the pages lack."""
        try:
            feed = feed_of(response)
        except FeedError as error:
            self.logger.error("%s: %s", response.url, FEED_REASONS.get(str(error), str(error)))
            self.fail(response.url, "feed", str(error), response.status)
            return
        for warning in feed.warnings:
            self.crawler.stats.inc_value(f"newscrawler/warnings/feed/{warning}")
            self.logger.warning("%s: %s", response.url, FEED_REASONS.get(warning, warning))
        entries = feed.entries
        self.crawler.stats.inc_value("newscrawler/feed/items", len(entries))
        self.crawler.stats.inc_value(f"{SITE_PREFIX}{source.name}/feed_items", len(entries))
        self.save_validators(response)
        found = self.article_urls(entries)
        if source.profile == "dle" or (source.profile == "auto" and is_dle_feed(response.body)):
            yield from self.next_full_text_feed(source, found, full_text_feeds(response.url))
        else:
            yield from self.article_requests(self.due_of(source, found), source)
        yield from self.last_comments_request(response)

    def save_validators(self, response: Response) -> None:
        """ETag and Last-Modified of a feed, for the next run's conditional request."""
        if self.state is not None:
            header = response.headers.get
            validators = [value.decode("latin-1") if (value := header(name)) else None for name in ("ETag", "Last-Modified")]
            self.state.save_feed(response.meta.get("redirect_urls", [response.url])[0], *validators, datetime.now(UTC))

    def next_full_text_feed(self, source: Source, found: Found, pending: list[str]) -> Iterator[Request]:
        """Full-text feeds one after another, then the articles with what all the feeds said."""
        if not pending:
            yield from self.article_requests(self.due_of(source, found), source)
            return
        rest = {"found": found, "pending": pending[1:]}
        yield self.request(source, pending[0], self.parse_full_text_feed, stage="feed", dont_filter=True,
                           headers=self.feed_conditions(pending[0]), meta={"handle_httpstatus_all": True}, cb_kwargs=rest,
                           errback=self.full_text_feed_failed)

    def parse_full_text_feed(self, response: Response, found: Found, pending: list[str]) -> Iterator[Request]:
        """Optional: a site without it answers 404, which is no failure."""
        entries: list[FeedEntry] = []
        if response.status == 200:
            try:
                entries = feed_entries(response)
            except FeedError:
                pass
            else:
                self.save_validators(response)
        stat = "full_text_items" if entries else ("not_modified" if response.status == 304 else "full_text_absent")
        self.crawler.stats.inc_value(f"newscrawler/feed/{stat}", max(len(entries), 1))
        for url, hints in self.article_urls(entries, count_duplicates=False).items():
            known = found.setdefault(url, hints)
            for key, value in hints.items():
                if not known.get(key):
                    known[key] = value
        yield from self.next_full_text_feed(self.source_of(response), found, pending)

    def full_text_feed_failed(self, failure: TwistedFailure) -> Iterator[Request]:
        """Optional too: a full-text feed that robots.txt disallows or that times out ends no chain, and no failure."""
        request = failure.request
        self.logger.info("full-text feed %s not read: %s", request.url, failure_reason(failure))
        self.crawler.stats.inc_value("newscrawler/feed/full_text_absent")
        yield from self.next_full_text_feed(self.by_name[request.meta["source"]], **request.cb_kwargs)

    def article_urls(self, entries: list[FeedEntry], count_duplicates: bool = True) -> Found:
        """The feed's fetchable article URLs, normalised and once each, with their hints."""
        found: Found = {}
        for entry in entries:
            # Normalised first: a link urlsplit cannot split (a broken IPv6 literal) must be a failure line, not an error.
            if (url := self.normalized(entry.url)) is None:
                self.fail(entry.url, "feed", "invalid_url")
            elif urlsplit(url).scheme not in ALLOWED_SCHEMES:
                self.fail(entry.url, "feed", "scheme_not_allowed")
            elif url in found:  # e.g. with utm_ parameters
                if count_duplicates:
                    self.crawler.stats.inc_value("newscrawler/feed/duplicates")
            else:
                found[url] = entry.hints().to_dict()
        return found

    def normalized(self, url: str) -> str | None:
        """The URL to fetch, or None for a link no server could be asked for (port 99999, a broken IPv6 literal)."""
        try:
            return normalize_url(url, self.tracking_params)
        except ValueError:
            return None

    def due_of(self, source: Source, found: Found) -> list[tuple[str, dict[str, Any]]]:
        """URLs within the date bounds that need a fetch: all of them without a store, else the new and the due."""
        found = self.within_bounds(source, found)
        if self.state is None:
            return list(found.items())
        now = datetime.now(UTC)
        self.state.discover(source.name, found.items(), now)
        return self.state.due(now, refresh=self.refresh, urls=found)

    def article_requests(self, due: Iterable[tuple[str, dict[str, Any]]], source: Source | None = None) -> Iterator[Request]:
        """Each URL once a run, within its site's max_pages; URLs over the limit stay discovered for a later run.
        Without a source (URLs the store or lastcomments gave), each URL goes with the site of its host."""
        if source is None:
            for owner, urls in self.by_source(list(due)):
                yield from self.article_requests(urls, owner)
            return
        # Across workers, the shared frontier's fingerprints do this.
        due = [(url, hints) for url, hints in due if self.distributed or url not in self.scheduled]
        if source.name in self.budget:
            left = self.budget[source.name]
            if over := {url for url, _ in due[left:]} - self.over_budget:
                self.over_budget.update(over)
                self.crawler.stats.inc_value(f"newscrawler/limits/max_pages/{source.name}", len(over))
            due = due[:left]
            self.budget[source.name] -= len(due)
        self.scheduled.update(url for url, _ in due)
        if self.state is not None:
            self.state.lease([url for url, _ in due], datetime.now(UTC) + self.lease)
        for url, hints in due:
            yield self.request(source, url, self.parse_article, stage="download", cb_kwargs={"hints": Hints.from_dict(hints)})

    async def parse_article(self, response: Response, hints: Hints) -> AsyncIterator[Article]:
        if not isinstance(response, TextResponse):
            self.fail(response.url, "extract", "not_html", response.status)
            return
        fetched_at, site = datetime.now(UTC), self.site_for(response.url, self.source_of(response))
        # The worker signs the body too, unless calls already wait for the workers: then this process, which waits
        # on them, has the time, and the store signs it (2 cores, 1 worker: 8 % less crawl time).
        sign = not self.pool.backlog
        try:
            record, body_signature = await self.pool.run(
                signed_extract, response.body, response.encoding, response.url, fetched_at, site=site, hints=hints, sign=sign
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


def feed_of(response: Response) -> Feed:
    """A feed response's entries and parse warnings, read in the charset the crawl found its bytes in
    (newscrawler.charset), after the entity checks of newscrawler.safexml."""
    return read_feed(response.body, response.url, web_name(response.encoding) if isinstance(response, TextResponse) else None)


def feed_entries(response: Response) -> list[FeedEntry]:
    return feed_of(response).entries


def is_feed(response: Response) -> bool:
    try:
        feed_entries(response)
    except FeedError:
        return False
    return True


def looks_like_html(body: bytes) -> bool:
    """An HTML page (a home page to find feeds on), not a feed mislabelled text/html."""
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or (b"<html" in head and not head.startswith(b"<?xml"))


def spider_sources(
    url: str | list[str] | None, tz: str | None, profile: str, config: str | None, name: str | None
) -> list[Source]:
    """The sites of `-a config=FILE [-a site=NAME]`, or of `-a url=URL` (several: `-a url="URL URL"`, one site a host);
    ValueError names what is wrong."""
    if config:
        from pathlib import Path

        try:
            return select_sources(load_sources(Path(config)), name, Path(config))
        except SourcesError as error:
            raise ValueError(str(error)) from None
    urls = url.split() if isinstance(url, str) else list(url or [])
    if not urls or any(urlsplit(u).scheme not in ALLOWED_SCHEMES or not urlsplit(u).hostname for u in urls):
        raise ValueError(f"feed spider: -a url=... must be http(s) feed URLs (or -a config=sources.toml), got {url!r}")
    if profile not in ("auto", *PROFILES):
        raise ValueError(f"feed spider: -a profile= must be auto, {', '.join(PROFILES)}, got {profile!r}")
    try:
        by_site: dict[str, list[str]] = {}
        for each in urls:
            by_site.setdefault(site_name(each), []).append(each)
        return [Source(name=host, start_urls=starts, profile=profile, timezone=tz) for host, starts in by_site.items()]
    except ValueError as error:  # pydantic's ValidationError is one: an unknown zone, named
        raise ValueError(f"feed spider: {error}") from None


def apply_site_settings(settings: Any, sources: list[Source]) -> None:
    """Per-site politeness as Scrapy download slots, and per-site re-crawl windows for the store."""
    slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
    for source in sources:
        polite = {"delay": source.politeness.delay, "concurrency": source.politeness.concurrency}
        if polite["concurrency"] and not polite["delay"]:
            # Scrapy 2.19 (asyncio) checks a slot's free transfers before the started downloads claim theirs, so with
            # no delay all queued requests of a slot start at once; a 1 ms delay makes it check between requests.
            polite["delay"] = MIN_SLOT_DELAY
        if any(value is not None for value in polite.values()):
            slots[source.name] = {key: value for key, value in polite.items() if value is not None}
    windows = {source.name: source.recrawl_days for source in sources if source.recrawl_days is not None}
    settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
    settings.set("NEWSCRAWLER_RECRAWL_DAYS_BY_SITE", windows, priority="spider")


def as_date(value: date | str | None, name: str) -> date | None:
    """A --since/--until bound: a date (a whole day in each site's zone) or an aware time."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"feed spider: -a {name}={value!r} is not a date such as 2024-03-01") from None


def bound(value: date | None, zone: ZoneInfo, *, end: bool = False) -> datetime | None:
    """A day bound as a moment in the site's zone: since = the day's start, until = the next day's start."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=zone)
    return datetime.combine(value + timedelta(days=1 if end else 0), time(), zone)


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
