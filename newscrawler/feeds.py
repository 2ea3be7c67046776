"""RSS/Atom parsing with feedparser: feed bytes to the article links and what each item says about its page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import feedparser

from newscrawler.extract import Hints
from newscrawler.extract.dates import parse_machine_date
from newscrawler.extract.page import parse_html
from newscrawler.extract.text import paragraphs

# Where full-text feeds put the whole story (reference/dle.md §2.6): DLE's Yandex, Turbo and Dzen feeds, and
# RSS content:encoded (feedparser names unknown namespaces by the document's prefix).
FULL_TEXT_KEYS = ("yandex_full-text", "turbo_content")
FULL_TEXT_DROP = ("header", "figure", "figcaption")  # Turbo repeats the title and the lead image in a <header>


class FeedError(ValueError):
    """The document is not a usable feed; the message is the reason code of its failure line."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None
    published_at: str | None
    published_at_raw: str | None
    authors: tuple[str, ...]
    body: str | None = None  # the full story, from a full-text feed: the record's body when the page has none

    def hints(self) -> Hints:
        """What the item says about its page: the feed's date beats a visible date line."""
        return Hints(self.published_at, self.published_at_raw, self.authors, self.body)


def parse_feed(body: bytes, url: str) -> list[FeedEntry]:
    """The feed's items that have a link (any scheme: the spider decides what it fetches); FeedError when the document is empty or not RSS/Atom."""
    if not body.strip():
        raise FeedError("empty_feed")
    parsed = feedparser.parse(body, response_headers={"content-location": url})
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
        body=full_text(item),
    )


def full_text(item: feedparser.FeedParserDict) -> str | None:
    """The item's full story as plain paragraphs: yandex:full-text, turbo:content or content:encoded."""
    markup = next((item[key] for key in FULL_TEXT_KEYS if item.get(key)), None)
    if markup is None and item.get("content"):
        markup = item["content"][0].get("value")
    if not markup or not markup.strip():
        return None
    root = parse_html(f"<div>{markup}</div>")
    text = "\n\n".join(paragraphs(root.body if root.body is not None else root, skip=lambda el: el.tag in FULL_TEXT_DROP))
    return text or None
