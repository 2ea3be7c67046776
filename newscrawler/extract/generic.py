"""Any news page: JSON-LD, OpenGraph/article meta, microdata, Dublin Core, <time>; then the visible date line;
then the body (body.py). Bylines are cleaned in authors.py, titles chosen in titles.py."""

from __future__ import annotations

from dataclasses import dataclass
import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from newscrawler.extract.authors import clean_names
from newscrawler.extract.body import body_paragraphs
from newscrawler.extract.dates import parse_machine_date, states_offset
from newscrawler.extract.page import Page
from newscrawler.extract.site import Site
from newscrawler.extract.visible_dates import visible_date
from newscrawler.extract.titles import choose_title
from newscrawler.extract.text import collapse, parse_count
from newscrawler.urls import resolve

VERSION = "generic/2"
PUBLISHED_META = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
                  "dc.date", "dc.date.issued", "dcterms.created", "sailthru.date", "parsely-pub-date")
MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified")
AUTHOR_META = ("author", "article:author", "dc.creator", "sailthru.author", "parsely-author", "byl")
AUTHOR_LABELS = ("written by", "verfasst von", "geschrieben von", "escrito por", "écrit par", "scritto da", "author",
                 "autor", "auteur", "автор")
STORY_IMAGES = "article figure img, main figure img"
STORY_TIME = "article time[datetime], main time[datetime]"


@dataclass(frozen=True)
class Dated:
    """A date and the exact text it was read from."""

    iso: str
    raw: str


def _names(value: Any) -> list[str]:
    """Names out of a JSON-LD person/organisation field: a string, an object, or a list of either."""
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    if isinstance(value, dict):
        value = value.get("name")
    return [collapse(value)] if isinstance(value, str) and collapse(value) else []


def _first_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return collapse(value) or None if isinstance(value, str) else None


def _dated(raw: str | None, site: Site) -> Dated | None:
    when = parse_machine_date(raw, site.timezone) if raw else None
    return Dated(when.isoformat(), raw.strip()) if when else None


def _microdata(page: Page, prop: str) -> str | None:
    elements = page.itemprops.get(prop)
    if not elements:
        return None
    element = elements[0]
    return element.get("content") or element.get("datetime") or collapse(element.text_content()) or None


def title(page: Page, site: Site) -> str | None:
    """JSON-LD headline, then the social titles, then <h1> and <title>: editors write the first ones for readers
    elsewhere and leave the site's name out of them; every candidate still loses a trailing "| Site", and the chosen
    one its kicker when a social title is the headline without it (titles.drop_kicker)."""
    headline, twitter, social, document = head_titles(page)
    return choose_title((headline, twitter, social, page.text("h1"), document), site_names(page), (social, twitter))


def head_titles(page: Page) -> tuple[str | None, str | None, str | None, str | None]:
    """The titles the page states about itself rather than prints: JSON-LD headline, twitter:title, og:title and
    <title>, in that order (None where absent)."""
    return (_first_text(page.json_ld_article.get("headline")), page.meta.get("twitter:title"),
            page.meta.get("og:title"), page.text("title"))


def published(page: Page, site: Site) -> Dated | None:
    """JSON-LD, then article meta, microdata and <time datetime>; a date that states its offset beats one that
    does not, which we could only read in a zone guessed from the domain."""
    candidates = [_date_text(page.json_ld_article.get("datePublished"))]
    candidates += [page.meta.get(name) for name in PUBLISHED_META]
    candidates += [_microdata(page, "datePublished"), _time_element(page)]
    found = [dated for raw in candidates if raw and (dated := _dated(raw, site))]
    return next((dated for dated in found if states_offset(dated.raw)), found[0] if found else None)


def visible_published(page: Page, site: Site) -> Dated | None:
    """The date line the page prints, for a page whose markup dates nothing (see visible_dates)."""
    found = visible_date(page, site)
    return Dated(found[0].isoformat(), found[1]) if found else None


def _date_text(value: Any) -> str | None:
    """A JSON-LD date: a string, or a number of seconds since the epoch."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if math.isfinite(value) else None  # JSON allows NaN and Infinity
    return _first_text(value)


def _time_element(page: Page) -> str | None:
    """The story's first <time datetime>: in <article> or <main> when the page has them, where the byline is."""
    found = page.select(STORY_TIME) or page.select("time[datetime]")
    return found[0].get("datetime") if found else None


def modified_at(page: Page, site: Site) -> str | None:
    candidates = [_date_text(page.json_ld_article.get("dateModified"))]
    candidates += [page.meta.get(name) for name in MODIFIED_META]
    candidates.append(_microdata(page, "dateModified"))
    dated = next((dated for raw in candidates if raw and (dated := _dated(raw, site))), None)
    return dated.iso if dated else None


def authors(page: Page, site: Site) -> list[str]:
    """The first source that names a person: JSON-LD, author meta, the "Written by" label, microdata, rel=author.

    Where no source names anyone but the site itself, the site is what the page credits (the newsroom).
    """
    sources = [list(found) for found in _author_sources(page)]
    own = site_names(page)
    people = next((names for found in sources if (names := clean_names(found, own))), [])
    return people or next((names for found in sources if (names := clean_names(found))), [])


def _author_sources(page: Page) -> Iterator[list[str]]:
    yield _names(page.resolve(page.json_ld_article.get("author")))
    yield [name for key in AUTHOR_META for name in page.metas.get(key, ())]
    yield _labelled_author(page)
    yield [el.get("content") or _itemprop_name(el) for el in page.itemprops.get("author", ())]
    yield [el.text_content() for el in page.select('a[rel~="author"]')]


def _itemprop_name(element: Any) -> str:
    """`itemprop=author` is either the name itself or a Person holding `itemprop=name`."""
    inner = element.xpath('.//*[@itemprop="name"]')
    return (inner[0].get("content") or inner[0].text_content()) if inner else element.text_content()


def _labelled_author(page: Page) -> list[str]:
    """Yoast's twitter:label1 "Written by" / "Verfasst von" with the name in twitter:data1."""
    for number in ("1", "2"):
        label = (page.meta.get(f"twitter:label{number}") or "").casefold()
        if any(word in label for word in AUTHOR_LABELS):
            return [page.meta.get(f"twitter:data{number}", "")]
    return []


def site_names(page: Page) -> list[str]:
    """What the site calls itself: its name is never an article's author."""
    publisher = page.resolve(page.json_ld_article.get("publisher"))
    host = (urlsplit(page.url).hostname or "").removeprefix("www.")
    return [*_names(publisher), *page.metas.get("og:site_name", ()), *page.metas.get("application-name", ()),
            host, host.split(".")[0]]


def lead(page: Page, site: Site) -> str | None:
    return page.meta.get("og:description") or page.meta.get("description") or page.meta.get("twitter:description")


def category(page: Page, site: Site) -> str | None:
    return _first_text(page.json_ld_article.get("articleSection")) or page.meta.get("article:section")


def tags(page: Page, site: Site) -> list[str]:
    keywords = page.json_ld_article.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    found = [collapse(k) for k in keywords if isinstance(k, str)] if isinstance(keywords, list) else []
    found = found or page.metas.get("article:tag", [])
    if not found and page.meta.get("news_keywords"):
        found = [collapse(k) for k in page.meta["news_keywords"].split(",")]
    return list(dict.fromkeys(tag for tag in found if tag))


def comment_count(page: Page, site: Site) -> int | None:
    value = page.json_ld_article.get("commentCount")
    return parse_count(str(value)) if value is not None else None


def body(page: Page, site: Site) -> str | None:
    return "\n\n".join(body_paragraphs(page, title(page, site))) or None


def images(page: Page, site: Site) -> list[str]:
    """Pictures of the story (<figure> in <article> or <main>), else the page's social image."""
    return image_urls(page, [src for el in page.select(STORY_IMAGES) if (src := el.get("src")) and not src.startswith("data:")])


def image_urls(page: Page, sources: list[str]) -> list[str]:
    """The story's image sources made absolute, each once, else the page's og:image; a source no URL parser can
    split is left out (urls.resolve). Every profile's images end here."""
    found = [url for src in sources if (url := resolve(page.url, src))]
    if not found and page.meta.get("og:image"):
        found = [url for url in (resolve(page.url, page.meta["og:image"]),) if url]
    return list(dict.fromkeys(found))


FIELDS = {
    "title": title, "published": published, "modified_at": modified_at, "authors": authors, "lead": lead,
    "category": category, "tags": tags, "comment_count": comment_count, "body": body, "images": images,
}
