"""RSS/Atom parsing with feedparser: feed bytes to the article links and what each item says about its page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import feedparser

from newscrawler.extract import Hints
from newscrawler.extract.dates import parse_machine_date


class FeedError(ValueError):
    """The document is not a usable feed; the message is the reason code of its failure line."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None
    published_at: str | None
    published_at_raw: str | None
    authors: tuple[str, ...]

    def hints(self) -> Hints:
        """What the item says about its page: the feed's date beats a visible date line."""
        return Hints(self.published_at, self.published_at_raw, self.authors)


def parse_feed(body: bytes, url: str, encoding: str | None = None) -> list[FeedEntry]:
    """The feed's items that have a link (any scheme: the spider decides what it fetches); FeedError when the document is empty or not RSS/Atom.

    `encoding` is the charset the crawl found the bytes in (newscrawler.charset): a KOI8-R feed that declares none
    would otherwise be read as windows-1252."""
    if not body.strip():
        raise FeedError("empty_feed")
    headers = {"content-location": url} | ({"content-type": f"application/xml; charset={encoding}"} if encoding else {})
    parsed = feedparser.parse(body, response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not_rss_or_atom")
    return [entry for item in parsed.entries if (entry := _entry(item, url))]


def _entry(item: feedparser.FeedParserDict, feed_url: str) -> FeedEntry | None:
    link = item.get("link") or (item.get("id") if item.get("guidislink") else None)
    if not link:
        return None
    link = urljoin(feed_url, link.strip())
    raw = item.get("published") or item.get("updated")
    when = parse_machine_date(raw) if raw else None
    names = [author.get("name", "").strip() for author in item.get("authors", [])] or [item.get("author", "")]
    return FeedEntry(
        url=link,
        title=item.get("title"),
        published_at=when.isoformat() if when else None,
        published_at_raw=raw.strip() if when and raw else None,
        authors=tuple(name.strip() for name in names if name and name.strip()),
    )
