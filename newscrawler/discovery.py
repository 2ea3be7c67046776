"""Feed discovery: a home page's feeds, and the full-text feeds a DLE site serves beside its plain one."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from newscrawler.extract.page import parse_html
from newscrawler.urls import resolve

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})
# Tried in order when a home page names no feed: DLE's and WordPress's standard addresses.
FALLBACK_FEEDS = ("/rss.xml", "/feed/")
# DLE 16 serves the whole story in these (reference/dle.md §2.6); absent on many sites, so a 404 is not a failure.
FULL_TEXT_FEEDS = ("/rssturbo.xml", "/rssdzen.xml")
DLE_FEED_MARK = b"DataLife Engine"


def alternate_feeds(markup: str, url: str) -> list[str]:
    """`<link rel=alternate type=application/rss+xml|atom+xml href=…>` of a page, absolute, in page order, once each."""
    root = parse_html(markup)
    found = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in FEED_TYPES and link.get("href"):
            target = resolve(url, link.get("href").strip())
            if target and urlsplit(target).scheme in ("http", "https"):
                found.append(target)
    return list(dict.fromkeys(found))


def fallback_feeds(url: str) -> list[str]:
    return [urljoin(url, path) for path in FALLBACK_FEEDS]


def full_text_feeds(feed_url: str) -> list[str]:
    """DLE's full-text feeds beside a plain feed, except the one already read."""
    return [target for path in FULL_TEXT_FEEDS if (target := urljoin(feed_url, path)) != feed_url]


def is_dle_feed(body: bytes) -> bool:
    """DLE writes <generator>DataLife Engine</generator> into every feed's channel."""
    return DLE_FEED_MARK in body[:4096]
