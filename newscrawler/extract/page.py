"""Page: the HTML parsed once (lxml tree, meta, JSON-LD), read by every field function."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any, TypeVar

from lxml import etree, html
from lxml.cssselect import CSSSelector

from newscrawler.extract.text import collapse

ARTICLE_TYPES = frozenset(
    {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
     "OpinionNewsArticle", "BackgroundNewsArticle", "LiveBlogPosting", "WebPageElement", "Report"}
)
T = TypeVar("T")
# huge_tree: libxml2's default depth limit (256) silently drops everything below it, and page builders nest the
# article that deep; the size of what is parsed is bounded by DOWNLOAD_MAXSIZE (reliability.md §A.5 test 20).
_PARSER = html.HTMLParser(encoding="utf-8", remove_comments=False, remove_pis=True, huge_tree=True)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# Elements that carry an attribute, in page order. Through the attribute axis: libxml2 then tests attributes only,
# not every element against a predicate, which halves the cost (0.13 -> 0.07 ms a page for ids on the benchmark's
# DLE pages); tests/test_extract.py checks both forms find the same elements on every fixture page.
WITH_ID = etree.XPath("//@id/..")
WITH_ITEMPROP = etree.XPath("//@itemprop/..")

XPATH_START = ("/", "./", "(")  # a configured selector that starts so is XPath (sources.toml); else CSS


@lru_cache(maxsize=512)
def css(selector: str) -> CSSSelector | etree.XPath:
    """A compiled CSS selector, or XPath for a selector starting with '/', './' or '('; compiling costs more than
    matching, and sites reuse a handful."""
    if selector.startswith(XPATH_START):
        return etree.XPath(selector)
    return CSSSelector(selector, translator="html")


def parse_html(markup: str | bytes) -> html.HtmlElement:
    """An lxml tree of any input, never an exception: NUL bytes and encoding declarations are harmless here.

    Bytes must be valid UTF-8 without NUL (utf8_source): lxml reads them as they are.
    """
    data = markup if isinstance(markup, bytes) else markup.replace("\x00", "").encode("utf-8", "replace")
    try:
        return html.document_fromstring(data, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return html.document_fromstring(b"<html><body></body></html>", parser=_PARSER)


def utf8_source(body: bytes, encoding: str) -> str | bytes:
    """What parse_html takes for a response's body: valid UTF-8 without NUL as it came (decoding it to text and
    encoding that back for lxml cost 0.11 ms a 60 KB page); anything else decoded as Scrapy's `response.text` is,
    whose replacement of broken bytes lxml's own would not repeat."""
    if _is_utf8(encoding) and b"\x00" not in body:
        try:
            body.decode("utf-8")
            return body
        except UnicodeDecodeError:
            pass
    from w3lib.encoding import html_to_unicode

    return html_to_unicode(f"charset={encoding}", body)[1]


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:  # a name Python does not know: w3lib's decoding deals with it
        return False


def load_json_ld(text: str) -> Any:
    """JSON-LD as sites really write it: wrapped in comments/CDATA, trailing commas, or JSON inside a string."""
    cleaned = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    cleaned = cleaned.removeprefix("<![CDATA[").removesuffix("]]>").strip()
    for candidate in (cleaned, _TRAILING_COMMA.sub(r"\1", _CONTROL_CHARS.sub(" ", cleaned))):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, str):
            return load_json_ld(data)
        return data
    return None


NESTED_KEYS = ("@graph", "mainEntity")  # a WebPage often carries the article as its mainEntity


def flatten_json_ld(data: Any) -> list[dict[str, Any]]:
    """Every JSON-LD object of a script, with arrays, `@graph` and `mainEntity` unfolded."""
    if isinstance(data, list):
        return [obj for item in data for obj in flatten_json_ld(item)]
    if not isinstance(data, dict):
        return []
    return [data, *(obj for key in NESTED_KEYS if data.get(key) for obj in flatten_json_ld(data[key]))]


def json_ld_types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type", ())
    names = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
    return {str(name).rsplit("/", 1)[-1] for name in names}


@dataclass
class Page:
    url: str
    fetched_at: datetime
    root: html.HtmlElement
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, markup: str | bytes, url: str, fetched_at: datetime) -> Page:
        return cls(url=url, fetched_at=fetched_at, root=parse_html(markup))

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A costly reading of this page (e.g. trafilatura's) computed once, by the first field that needs it."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def select(self, selector: str, within: html.HtmlElement | None = None) -> list[html.HtmlElement]:
        compiled = css(selector)
        found = compiled(self.root if within is None else within)
        if isinstance(compiled, CSSSelector):
            return found
        return [node for node in found if isinstance(node, etree._Element)] if isinstance(found, list) else []

    def first(self, selector: str | None, within: html.HtmlElement | None = None) -> html.HtmlElement | None:
        if not selector:
            return None
        found = self.select(selector, within)
        return found[0] if found else None

    def text(self, selector: str | None, within: html.HtmlElement | None = None) -> str | None:
        """Collapsed text of the first match, or None when absent or empty."""
        element = self.first(selector, within)
        return (collapse(element.text_content()) or None) if element is not None else None

    @cached_property
    def metas(self) -> dict[str, list[str]]:
        """All <meta> values by lower-cased name/property/itemprop, in page order."""
        found: dict[str, list[str]] = {}
        for meta in self.root.iter("meta"):
            key = meta.get("property") or meta.get("name") or meta.get("itemprop")
            value = collapse(meta.get("content") or "")
            if key and value:
                found.setdefault(key.strip().lower(), []).append(value)
        return found

    @cached_property
    def meta(self) -> dict[str, str]:
        """The first <meta> value by lower-cased name/property/itemprop."""
        return {key: values[0] for key, values in self.metas.items()}

    @cached_property
    def ids(self) -> dict[str, html.HtmlElement]:
        """Elements by id in page order (the first of duplicates wins): one pass, then every lookup is free."""
        found: dict[str, html.HtmlElement] = {}
        for element in WITH_ID(self.root):
            found.setdefault(element.get("id").strip(), element)
        return found

    @cached_property
    def itemprops(self) -> dict[str, list[html.HtmlElement]]:
        """Microdata elements by itemprop name, in page order."""
        found: dict[str, list[html.HtmlElement]] = {}
        for element in WITH_ITEMPROP(self.root):
            for name in element.get("itemprop").split():
                found.setdefault(name, []).append(element)
        return found

    @cached_property
    def json_ld(self) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = []
        for script in self.root.iter("script"):
            if (script.get("type") or "").strip().lower() == "application/ld+json" and script.text:
                objects.extend(flatten_json_ld(load_json_ld(script.text)))
        return objects

    @cached_property
    def json_ld_article(self) -> dict[str, Any]:
        """The page's JSON-LD article object, or {} when it has none; the one with a headline beats a stub."""
        articles = [obj for obj in self.json_ld if json_ld_types(obj) & ARTICLE_TYPES]
        return next((obj for obj in articles if obj.get("headline")), articles[0] if articles else {})

    @cached_property
    def json_ld_ids(self) -> dict[str, dict[str, Any]]:
        """JSON-LD objects by `@id`, to follow references such as Yoast's `"author": {"@id": ...}`."""
        return {obj["@id"]: obj for obj in self.json_ld if isinstance(obj.get("@id"), str) and len(obj) > 1}

    def resolve(self, value: Any) -> Any:
        """A JSON-LD reference replaced by the object it names, when the page has it."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict) and set(value) == {"@id"}:
            return self.json_ld_ids.get(value["@id"], value)
        return value

    @cached_property
    def canonical_href(self) -> str | None:
        for link in self.root.iter("link"):
            if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
                return link.get("href").strip()
        return None
