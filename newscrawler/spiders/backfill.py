"""`--backfill`: article URLs from robots.txt sitemaps (index, gzip children, Google News), DLE archive listings
(/page/N/, /<cat>/page/N/, date archives /YYYY/MM/DD/) and WordPress's REST post list, within --since/--until.

A mixin of the feed spider: backfilled URLs go through the same state, lease and article requests as feed items.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.utils.sitemap import sitemap_urls_from_robots

from newscrawler.backfill import (
    SitemapEntry,
    SitemapError,
    date_archive_days,
    date_archive_path,
    in_range,
    is_article_url,
    listing_url,
    parse_sitemap,
    wp_posts_url,
    wp_published,
)
from newscrawler.extract.dates import parse_machine_date
from newscrawler.extract.site import load_zone
from newscrawler.urls import normalize_url, resolve

if TYPE_CHECKING:
    from newscrawler.sources import Source

OPTIONAL = {"handle_httpstatus_all": True}  # a site may lack any of these: a missing one ends a walk, it is no failure


class BackfillMixin:
    """Needs the feed spider's request(), source_of(), article_requests(), due_of(), fail(), since_arg/until_arg,
    max_sitemap_size and `listed` (article URLs seen per listing walk)."""

    def bounds(self, source: Source) -> tuple[datetime | None, datetime | None]:
        """--since/--until (else the site's limits.since) as moments in the site's zone."""
        from newscrawler.spiders.feed import bound

        zone = load_zone(source.zone_name)
        since = bound(self.since_arg, zone) if self.since_arg else source.since
        return since, bound(self.until_arg, zone, end=True)

    def backfill_requests(self, source: Source) -> Iterator[Request]:
        base = source.start_urls[0]
        if source.backfill.sitemaps:
            yield self.request(source, urljoin(base, "/robots.txt"), self.parse_robots, stage="backfill", meta=OPTIONAL,
                               dont_filter=True)
        since, until = self.bounds(source)
        if since and source.backfill.date_archives and source.profile in ("dle", "auto"):
            last = ((until - timedelta(microseconds=1)) if until else datetime.now(UTC)).astimezone(since.tzinfo).date()
            for day in date_archive_days(since.date(), last):
                yield self.listing_request(source, date_archive_path(day), 1)
        else:
            for root in source.backfill.listings:
                yield self.listing_request(source, root, 1)
        if source.backfill.wp_json:
            yield self.request(source, wp_posts_url(base, 1, since, until), self.parse_wp_posts, stage="backfill",
                               meta=OPTIONAL, cb_kwargs={"page": 1})

    def parse_robots(self, response: Response) -> Iterator[Request]:
        """robots.txt's Sitemap: lines, else the conventional /sitemap.xml."""
        source = self.source_of(response)
        found = list(sitemap_urls_from_robots(response.body, base_url=response.url)) if response.status == 200 else []
        for url in found or [urljoin(response.url, "/sitemap.xml")]:
            yield self.request(source, url, self.parse_sitemap, stage="backfill", meta={"optional": not found, **OPTIONAL})

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """An index: its children (the site's own hosts only). A urlset: its article URLs within the date bounds."""
        source = self.source_of(response)
        if response.status != 200:
            if not response.meta.get("optional"):
                self.fail(response.url, "backfill", f"http_{response.status}", response.status)
            return
        try:
            document = parse_sitemap(response.body, response.url, self.max_sitemap_size)
        except SitemapError as error:
            self.fail(response.url, "backfill", str(error), response.status)
            return
        for child in document.children:
            if source.owns(child):
                yield self.request(source, child, self.parse_sitemap, stage="backfill", meta=OPTIONAL)
        self.crawler.stats.inc_value("newscrawler/backfill/sitemap_urls", len(document.entries))
        yield from self.backfill_articles(source, [(entry.url, sitemap_hints(entry)) for entry in document.entries
                                                   if self.wanted(source, entry)])

    def wanted(self, source: Source, entry: SitemapEntry) -> bool:
        """Within the bounds by its publication date; before --since by lastmod too (published <= modified)."""
        since, until = self.bounds(source)
        if not in_range(entry.published_at or entry.modified_at, since, None) or not in_range(entry.published_at, None, until):
            self.crawler.stats.inc_value("newscrawler/limits/out_of_range")
            return False
        return True

    def within_bounds(self, source: Source, found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Feed items dated outside --since/--until (or the site's limits.since) are not fetched."""
        since, until = self.bounds(source)
        if since is None and until is None:
            return found
        kept = {url: hints for url, hints in found.items()
                if in_range(parse_machine_date(hints.get("published_at") or ""), since, until)}
        if skipped := len(found) - len(kept):
            self.crawler.stats.inc_value("newscrawler/limits/out_of_range", skipped)
        return kept

    def listing_request(self, source: Source, root: str, page: int) -> Request:
        url = listing_url(source.start_urls[0], root, page)
        return self.request(source, url, self.parse_listing, stage="backfill", meta=OPTIONAL, dont_filter=True,
                            cb_kwargs={"root": root, "page": page})

    def parse_listing(self, response: Response, root: str, page: int) -> Iterator[Request]:
        """A listing page's article links, then the next page; a page without articles (or a 404) ends the walk."""
        source = self.source_of(response)
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        links = [url for href in response.xpath("//a/@href").getall() if (url := resolve(response.url, href))]
        same_site = [url for url in links if source.owns(url)]
        articles = list(dict.fromkeys(url for url in same_site if is_article_url(url, source.profile, source.article_pattern)))
        self.crawler.stats.inc_value("newscrawler/backfill/listing_pages")
        walked = self.listed.setdefault((source.name, root), set())
        if not set(articles) - walked:  # no articles, or a site that repeats its last page for any N
            return
        walked.update(articles)
        self.crawler.stats.inc_value("newscrawler/backfill/listing_urls", len(articles))
        yield from self.backfill_articles(source, [(url, {}) for url in articles])
        yield self.listing_request(source, root, page + 1)

    def parse_wp_posts(self, response: Response, page: int) -> Iterator[Request]:
        """One page of /wp-json/wp/v2/posts, then the next while X-WP-TotalPages says there is one."""
        source = self.source_of(response)
        if response.status != 200:
            return
        try:
            posts = json.loads(response.body)
        except ValueError:
            self.fail(response.url, "backfill", "not_json", response.status)
            return
        zone = load_zone(source.zone_name)
        found = []
        for post in posts if isinstance(posts, list) else []:
            if isinstance(post, dict) and isinstance(post.get("link"), str):
                published, raw = wp_published(post, zone)
                found.append((post["link"], {"published_at": published, "published_at_raw": raw}))
        self.crawler.stats.inc_value("newscrawler/backfill/wp_json_urls", len(found))
        yield from self.backfill_articles(source, found)
        total = int(response.headers.get("X-WP-TotalPages", b"0") or 0)
        if found and page < total:
            since, until = self.bounds(source)
            yield self.request(source, wp_posts_url(source.start_urls[0], page + 1, since, until), self.parse_wp_posts,
                               stage="backfill", meta=OPTIONAL, cb_kwargs={"page": page + 1})

    def backfill_articles(self, source: Source, urls: list[tuple[str, dict[str, Any]]]) -> Iterator[Request]:
        """Article-shaped URLs of the site, once each; the rest are counted, never fetched as records."""
        found: dict[str, dict[str, Any]] = {}
        for url, hints in urls:
            normal = normalize_url(url, self.tracking_params)
            if not source.owns(normal) or not is_article_url(normal, source.profile, source.article_pattern):
                self.crawler.stats.inc_value("newscrawler/backfill/not_articles")
            else:
                found.setdefault(normal, hints)
        yield from self.article_requests(self.due_of(source, found), source)


def sitemap_hints(entry: SitemapEntry) -> dict[str, Any]:
    """A Google News sitemap's publication date is machine-readable, with the site's offset: a date hint."""
    if entry.published_at is None:
        return {}
    return {"published_at": entry.published_at.isoformat(), "published_at_raw": entry.published_at.isoformat()}

