"""Reader comments as DLE renders them: div#comment-id-N inside nested ol.comments-tree-list (reference/dle.md §2.4)."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import chain

from lxml import etree, html

from newscrawler.extract.dates import parse_site_date
from newscrawler.extract.page import Page
from newscrawler.extract.site import Site
from newscrawler.extract.text import collapse, paragraphs
from newscrawler.items import Comment

COMMENT_BOX_PREFIX = "comment-id-"
TREE_ITEM_PREFIX = "comments-tree-item-"
# Quoted text of another comment, and text hidden from guests: not this comment's own words.
QUOTE_CLASSES = frozenset({"quote", "title_quote", "dlehidden"})
AUTHOR_CLASS = re.compile(r"author|name|login|nick|user", re.I)
DATE_CLASS = re.compile(r"date|time", re.I)
SHORT_TEXT = 80


def dle_comments(page: Page, site: Site) -> list[Comment]:
    """Every comment on the page in page order, threaded by the enclosing comments-tree-item."""
    found = []
    for element_id, box in page.ids.items():
        comment_id = element_id.removeprefix(COMMENT_BOX_PREFIX)
        if element_id.startswith(COMMENT_BOX_PREFIX) and comment_id.isdigit():
            found.append(_comment(page, site, box, comment_id))
    return found


def _comment(page: Page, site: Site, box: html.HtmlElement, comment_id: str) -> Comment:
    raw, when = _dated(page, site, box)
    return Comment(
        id=comment_id,
        parent_id=_parent_id(box, comment_id),
        author=_author(box),
        published_at=when.isoformat() if when else None,
        published_at_raw=raw,
        text=_text(page.ids.get(f"comm-id-{comment_id}", box)),
    )


def _parent_id(box: html.HtmlElement, comment_id: str) -> str | None:
    """The nearest enclosing tree item that is not the comment's own is its parent."""
    own = TREE_ITEM_PREFIX + comment_id
    for item in box.iterancestors("li"):
        item_id = item.get("id") or ""
        if item_id.startswith(TREE_ITEM_PREFIX) and item_id != own:
            return item_id.removeprefix(TREE_ITEM_PREFIX)
    return None


def _classes(element: html.HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


def _text(holder: html.HtmlElement) -> str:
    """The comment's own words: DLE's comm-id-N holder without quotes of other comments."""
    return "\n\n".join(paragraphs(holder, skip=lambda el: bool(_classes(el) & QUOTE_CLASSES)))


def _author(box: html.HtmlElement) -> str | None:
    """A member's ShowProfile link prints the login; a guest's name is plain text in the theme's author slot."""
    for link in box.iter("a"):
        if "ShowProfile" in (link.get("onclick") or ""):
            return collapse(link.text_content()) or None
    for element in box.iter():
        if isinstance(element.tag, str) and AUTHOR_CLASS.search(element.get("class") or ""):
            text = collapse(element.text_content())
            if text and len(text) <= SHORT_TEXT:
                return text
    return None


def _dated(page: Page, site: Site, box: html.HtmlElement) -> tuple[str | None, datetime | None]:
    """The comment's date text and instant: a leaf the theme marks as a date or time first, then any leaf."""
    leaves = [el for el in box.iter(etree.Element) if len(el) <= 3 and not (el.get("id") or "").startswith("comm-id-")]
    marked = (el for el in leaves if el.tag == "time" or DATE_CLASS.search(el.get("class") or ""))
    for element in chain(marked, leaves):
        text = collapse(element.text_content()).strip(" ,;|•")
        if text and len(text) <= SHORT_TEXT and (when := parse_site_date(text, fetched_at=page.fetched_at, tz=site.timezone)):
            return text, when
    return None, None
