"""RSS/Atom parsing with feedparser: feed bytes to the article links and what each item says about its page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin
from xml.sax import SAXException

import feedparser

from newscrawler.extract import Hints
from newscrawler.extract.dates import parse_machine_date
from newscrawler.safexml import XmlError, defuse


class FeedError(ValueError):
    """The document is not a usable feed; the message is the reason code of its failure line."""


# What the codes mean, for the log line beside the code (the failures file keeps the code).
REASONS = {
    "empty_feed": "feed is empty (0 bytes)",
    "not_rss_or_atom": "feed is not RSS/Atom",
    "xml_entity_expansion": "feed is malformed: its XML entities would expand past the limit (entity bomb)",
    "xml_external_entity": "feed declares external entities: removed, not read",
    "not_well_formed": "feed is not well-formed XML: read with feedparser's lenient parser",
}


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


@dataclass(frozen=True)
class Feed:
    entries: list[FeedEntry]
    warnings: tuple[str, ...]  # reason codes of what was wrong but did not stop the parse


def read_feed(body: bytes, url: str) -> Feed:
    """The feed's items that have a link (any scheme: the spider decides what it fetches), and parse warnings.

    FeedError when the document is empty, not RSS/Atom, or an entity bomb.
    """
    if not body.strip():
        raise FeedError("empty_feed")
    try:
        defused = defuse(body)
    except XmlError as error:
        raise FeedError(str(error)) from None
    parsed = feedparser.parse(defused.body, response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not_rss_or_atom")
    warnings = defused.warnings
    if isinstance(parsed.get("bozo_exception"), SAXException):  # not CharacterEncodingOverride, which is harmless
        warnings += ("not_well_formed",)
    return Feed([entry for item in parsed.entries if (entry := _entry(item, url))], warnings)


def parse_feed(body: bytes, url: str) -> list[FeedEntry]:
    """read_feed's entries, for callers that do not report warnings."""
    return read_feed(body, url).entries


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
