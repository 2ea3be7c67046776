"""Backfill without Scrapy: which URLs are articles, what a sitemap lists, which listing pages to walk.

A feed lists only the newest 10-20 items; the rest of a site is reached through its sitemaps (an index, gzip
children, Google News sitemaps) and its archive listings (reference/dle.md §2.1). Scrapy's own Sitemap parser and
gunzip (with a size cap) read the sitemaps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from urllib.parse import urlencode, urljoin, urlsplit

from lxml import etree
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from newscrawler.extract.dates import parse_machine_date

GZIP_MAGIC = b"\x1f\x8b"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
NEWS_DATE = f"{NEWS}news/{NEWS}publication_date"  # a child path, not .//: a descendant search doubled the parse
# Never a record, whatever the CMS: engine and admin scripts, user, tag, author and category pages, listings,
# print and split/comment pages (DLE /cat/print:page,1,ID-alt.html and /cat/page,1,2,ID-alt.html), feeds, files.
NOT_RECORDS = re.compile(
    r"/(?:engine|admin|wp-admin|wp-content|wp-includes|wp-json|user|users|tags?|author|category|search|login"
    r"|register|feed|lastnews|newposts)(?:/|$)|print:|/page,|/page/\d+/?$|\.(?:xml|gz|php|jpe?g|png|gif|webp|css|js|pdf|txt)$",
    re.I,
)
# DLE article URL forms (seo_type 2, 1 and 0): /<cat>/<id>-<alt>.html, /<id>-<alt>.html, /YYYY/MM/DD/<alt>.html.
DLE_ARTICLE = re.compile(r"^/(?:[^/]+/)*\d+-[^/]+\.html$|^/\d{4}/\d{2}/\d{2}/[^/]+\.html$")
# Other CMSs: a slug of three or more words, or one with a number of 3+ digits (WordPress /2024/03/01/slug/).
SLUG_ARTICLE = re.compile(r"^/(?:[^/]+/)*(?:[^/]*\d{3,}[^/]*|[^/.]+-[^/.]+-[^/]+)/?$")
ARTICLE_SHAPES = {"dle": (DLE_ARTICLE,), "wordpress": (SLUG_ARTICLE,), "generic": (SLUG_ARTICLE,), "auto": (DLE_ARTICLE, SLUG_ARTICLE)}


def is_article_url(url: str, profile: str, pattern: str | None = None) -> bool:
    """Article-shaped by the profile's URL forms (or the site's own pattern), and not an engine/user/tag/print page."""
    path = urlsplit(url).path or "/"
    if NOT_RECORDS.search(path):
        return False
    if pattern:
        return re.search(pattern, path) is not None
    return any(shape.match(path) for shape in ARTICLE_SHAPES.get(profile, ARTICLE_SHAPES["auto"]))


class SitemapError(ValueError):
    """The document is not a usable sitemap; the message is the reason code of its failure line."""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    published_at: datetime | None  # news:publication_date, with the site's offset
    modified_at: datetime | None  # lastmod


@dataclass(frozen=True)
class SitemapDocument:
    children: list[str]  # a sitemap index's child sitemaps
    entries: list[SitemapEntry]


class NewsSitemap(Sitemap):
    """Scrapy's Sitemap, keeping the Google News publication date that its flat reading of <url> drops."""

    __slots__ = ()

    def _process_sitemap_element(self, elem: etree._Element) -> dict | None:
        published = elem.findtext(NEWS_DATE)
        found = super()._process_sitemap_element(elem)
        if found is not None and published:
            found["publication_date"] = published.strip()
        return found


def sitemap_body(body: bytes, max_size: int) -> bytes:
    """The XML of a sitemap response, gunzipped when it is a .gz file (HTTP-level gzip is Scrapy's already)."""
    if not body.startswith(GZIP_MAGIC):
        return body
    try:
        return gunzip(body, max_size=max_size)
    except _DecompressionMaxSizeExceeded:
        raise SitemapError("sitemap_too_large") from None
    except OSError:
        raise SitemapError("bad_gzip") from None


def parse_sitemap(body: bytes, url: str, max_size: int) -> SitemapDocument:
    """A sitemap index's children or a urlset's entries; SitemapError when the document is neither."""
    xml = sitemap_body(body, max_size)
    try:
        sitemap = NewsSitemap(xml)
    except (etree.XMLSyntaxError, StopIteration):
        raise SitemapError("not_a_sitemap") from None
    if sitemap.type == "sitemapindex":
        return SitemapDocument([_absolute(url, item["loc"]) for item in sitemap if item.get("loc")], [])
    if sitemap.type != "urlset":
        raise SitemapError("not_a_sitemap")
    entries = [
        SitemapEntry(_absolute(url, item["loc"]), _date(item.get("publication_date")), _date(item.get("lastmod")))
        for item in sitemap if item.get("loc")
    ]
    return SitemapDocument([], entries)


def _absolute(base: str, loc: str) -> str:
    """Sitemaps give absolute URLs (the protocol requires them); urljoin, the costliest step, only for the rest."""
    return loc if loc.startswith(("https://", "http://")) else urljoin(base, loc)


def _date(text: str | None) -> datetime | None:
    return parse_machine_date(text) if text else None


def looks_like_sitemap(body: bytes) -> bool:
    """A start URL may be a sitemap: its root element, gzipped or not."""
    head = body[:2048]
    return head.startswith(GZIP_MAGIC) or b"<urlset" in head or b"<sitemapindex" in head


def in_range(when: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    """Unknown dates are in range: the page is fetched and tells."""
    if when is None:
        return True
    return (since is None or when >= since) and (until is None or when < until)


def listing_url(base: str, root: str, page: int) -> str:
    """DLE listing page N of a root: /, /page/2/, /politics/page/3/ (page 1 is the root itself)."""
    return urljoin(base, root if page == 1 else f"{root}page/{page}/")


def date_archive_days(since: date, until: date) -> Iterator[date]:
    """Days from `until` back to `since`, newest first: DLE date archives /YYYY/MM/DD/."""
    day = until
    while day >= since:
        yield day
        day -= timedelta(days=1)


def date_archive_path(day: date) -> str:
    return f"/{day:%Y/%m/%d}/"


def wp_posts_url(base: str, page: int, since: datetime | None, until: datetime | None) -> str:
    """One page of WordPress's REST post list, only the fields backfill needs."""
    query = {"per_page": 100, "page": page, "orderby": "date", "order": "desc", "_fields": "link,date,date_gmt"}
    bounds = {"after": since.isoformat() if since else None, "before": until.isoformat() if until else None}
    query |= {name: value for name, value in bounds.items() if value}
    return urljoin(base, "/wp-json/wp/v2/posts?" + urlencode(query))


def wp_published(post: dict, zone: tzinfo) -> tuple[str | None, str | None]:
    """A post's date (ISO with the site's offset) and its raw `date`: WordPress gives naive local and GMT times."""
    raw, gmt = post.get("date"), post.get("date_gmt")
    try:
        when = datetime.fromisoformat(gmt).replace(tzinfo=UTC) if gmt else None
    except ValueError:
        return None, None
    return (when.astimezone(zone).isoformat(), raw) if when and raw else (None, None)
