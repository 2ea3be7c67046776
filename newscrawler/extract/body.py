"""The article's text: trafilatura finds the content block, then what readers do not read as the story goes.

Chosen by the numbers (benchmarks/extraction_quality.py on the Fundus pages, body F1): trafilatura 0.949 beats
readability-lxml 0.895, newspaper4k 0.891 and goose3 0.848 (the data set's reference figures); its text without
images and lists 0.954, without repeated and one-link lines too 0.957, with the standfirst put back 0.961. Lists go
because on news pages they are mostly "read also", fact boxes and link rails: the story lists this costs (a few
pages) weigh less than the junk it drops.
"""

from __future__ import annotations

import html as html_entities
from collections import Counter
from collections.abc import Iterable
from typing import Any

from lxml import html

from newscrawler.extract.page import Page
from newscrawler.extract.text import collapse

# A line this much link text is a teaser ("Les også: ...", "Read more: ..."), not the story.
LINK_SHARE = 0.7
# A fast reading shorter than this, in fewer lines (the whole page as one blob) or in shorter ones on average
# (a menu) may have missed the story; these re-read 10 % of the Fundus pages.
MIN_FAST_CHARS = 1500
MIN_FAST_LINES = 3
MIN_MEAN_LINE = 40
MIN_LINK_LINE = 12  # chars; a shorter link text ("Reuters", "mehr") is a credit or a button, not a headline
MIN_STANDFIRST = 40  # chars; a shorter description is a slogan or a section name
INLINE_TAGS = frozenset({"strong", "b", "em", "i", "span", "a"})
PROBE_CHARS = 30  # the standfirst is looked up by its start, then compared whole


def reading(page: Page) -> Any:
    """trafilatura's reading of the page, computed once per page and only when a field asks for it.

    Its fast mode first: its fallbacks (readability, justext) cost 40 % of its time and change the text of few
    pages, all of them where the fast reading came out short; so they run only then.
    """
    return page.memo("trafilatura", lambda: _fast_then_full(page))


def _fast_then_full(page: Page) -> Any:
    document = _read(page, fast=True)
    text = getattr(document, "text", None) or ""
    lines = text.count("\n") + 1
    good = len(text) >= MIN_FAST_CHARS and lines >= MIN_FAST_LINES and len(text) / lines >= MIN_MEAN_LINE
    return document if good else _read(page, fast=False)


def _read(page: Page, *, fast: bool) -> Any:
    # Imported on first use: 0.19 s, paid by every crawl process that only fetches (extraction is in the workers)
    # and by every worker whose sites' profiles (DLE, WordPress) find the story themselves.
    import trafilatura

    return trafilatura.bare_extraction(
        html.tostring(page.root), url=page.url, fast=fast,
        include_comments=False, include_images=False, include_tables=True,
    )


def body_paragraphs(page: Page, title: str | None) -> list[str]:
    """The story's paragraphs, in order; [] when trafilatura finds no content block."""
    document = reading(page)
    root = getattr(document, "body", None) if document else None
    if root is None:
        return []
    links = page.memo("link_texts", lambda: link_texts(page))
    parts = [text for text in _blocks(root) if not _is_link_line(text, links)]
    parts = _unrepeated(parts)
    if parts and title and parts[0].casefold() == title.casefold():
        parts = parts[1:]  # trafilatura keeps an <h1> inside <article>; the title is its own field
    lead = standfirst(page)
    if parts and lead and not any(lead in part for part in parts) and _shown(page, lead):
        parts.insert(0, lead)
    return parts


def standfirst(page: Page) -> str | None:
    """The summary printed above the story: the page's description (JSON-LD, then OpenGraph, then meta).

    Content extractors take the standfirst for part of the header and skip it; readers read it as the story's
    first paragraph. It goes into the body only where the page shows it as a block of its own (`_shown`).
    """
    article = page.json_ld_article.get("description")
    for raw in (article if isinstance(article, str) else None, page.meta.get("og:description"), page.meta.get("description")):
        text = collapse(html_entities.unescape(raw)) if raw else ""
        if len(text) >= MIN_STANDFIRST:
            return text
    return None


def _shown(page: Page, text: str) -> bool:
    """Whether an element of the body holds exactly this text: a <p>, or the block around a <strong> or <span>."""
    for node in page.root.xpath("//body//text()[contains(., $probe)]", probe=text[:PROBE_CHARS]):
        element = node.getparent()
        element = element.getparent() if node.is_tail else element
        if element is None:
            continue
        around = element.getparent() if element.tag in INLINE_TAGS else None
        if any(block is not None and collapse(block.text_content()) == text for block in (element, around)):
            return True
    return False


def _blocks(root: Any) -> Iterable[str]:
    """One text per block of trafilatura's tree; lists and images are not story text (see the module docstring)."""
    for block in root:
        if block.tag in ("list", "graphic"):
            continue
        if text := collapse("".join(block.itertext())):
            yield text


def _unrepeated(parts: list[str]) -> list[str]:
    """Lines printed more than once ("External content not available" per embed) are the page's, not the story's."""
    counts = Counter(parts)
    return [text for text in parts if counts[text] == 1]


def link_texts(page: Page) -> frozenset[str]:
    """The text of every link on the page long enough to be a headline."""
    found = (collapse(anchor.text_content()) for anchor in page.root.iter("a"))
    return frozenset(text for text in found if len(text) >= MIN_LINK_LINE)


def _is_link_line(text: str, links: frozenset[str]) -> bool:
    if text in links:
        return True
    for separator in (": ", " – ", " - ", "» "):
        head, found, tail = text.partition(separator)
        if found and tail in links and len(tail) >= LINK_SHARE * len(text):
            return True
    return False
