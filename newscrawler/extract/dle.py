"""DataLife Engine profile: markup the engine prints itself (reference/dle.md); site selectors override it."""

from __future__ import annotations

import re
from itertools import chain
from urllib.parse import urlsplit

from lxml import etree, html

from newscrawler.extract.comments import dle_comments
from newscrawler.extract.dates import parse_site_date
from newscrawler.extract.generic import Dated, image_urls
from newscrawler.extract.page import Page
from newscrawler.extract.site import Site
from newscrawler.extract.text import collapse, is_hidden, paragraphs, parse_count
from newscrawler.urls import resolve

VERSION = "dle/1"  # goes into the record's `extractor` field; bump when output changes
DLE_CONTENT = "dle-content"
# Everything the engine renders around comments, and forms: never story metadata or text.
COMMENT_AREA_IDS = frozenset({"dle-comments-list", "dlemasscomments", "dle-comments-form", "dle-ajax-comments"})
NEWS_ID = re.compile(r"/(?:[^/]*,)?(\d+)-[^/]*\.html$")
ENGINE_SCRIPT = re.compile(r"/engine/(?:classes/(?:min|js)/|opensearch\.php)")
RELATED = re.compile(r"читайте также|похожие новости|другие новости по теме|смотрите также|по теме:", re.I)
RELATED_CLASS = re.compile(r"related|similar|share|social|ya-share|rating", re.I)
VIEWS_MARK = re.compile(r"view|eye|просм|перегляд|hits", re.I)
COMMENTS_MARK = re.compile(r"comm|коммент|reply", re.I)
# One number, its thousands maybe spaced ("1 234"): not a row of page links ("1 2 3") under a comment list.
COUNTER_TEXT = re.compile(r"\D{0,24}?(\d{1,3}(?:[\s\u00a0\u202f]\d{3})+|\d+)")
AUTHOR_LINE = re.compile(r"^(?:Автор|Author|Авторы)\s*:\s*(.+)$", re.I)
SPEEDBAR = "dle-speedbar"
IMAGE_BEGIN = re.compile(r"^\s*(?:dle_image_begin|TBegin):([^|]+)")
IMAGE_END = re.compile(r"^\s*(?:dle_image_end|TEnd)\b")
DATE_TEXT_MAX = 64


def is_dle(page: Page) -> bool:
    """The engine's own fingerprints; the generator meta can be renamed, the script markers rarely are."""
    if "datalife engine" in page.meta.get("generator", "").lower() or dle_content(page) is not None:
        return True
    for script in page.root.iter("script"):
        if ENGINE_SCRIPT.search(script.get("src") or "") or "dle_root" in (script.text or ""):
            return True
    return any(ENGINE_SCRIPT.search(link.get("href") or "") for link in page.root.iter("link"))


def news_id(url: str) -> str | None:
    """DLE's numeric news id from /<cat>/<id>-<alt>.html: the stable key when slug or category changes."""
    match = NEWS_ID.search(urlsplit(url).path)
    return match.group(1) if match else None


def _marker(element: html.HtmlElement) -> str:
    """Class, id and title of an element and of its icon children: where themes say what a number means."""
    icons = " ".join(child.get("class") or "" for child in element.iterchildren("i", "span", "svg"))
    return " ".join(filter(None, (element.get("class"), element.get("id"), element.get("title"), icons)))


def dle_content(page: Page) -> html.HtmlElement | None:
    """The engine's wrapper of the story, lists and comments: <div id='dle-content'>."""
    return page.ids.get(DLE_CONTENT)


def story_elements(page: Page) -> list[html.HtmlElement]:
    """Elements of the story area (#dle-content) in page order, without comments, forms and hidden parts."""
    def walk() -> list[html.HtmlElement]:
        content = dle_content(page)
        scope = page.root if content is None else content
        found: list[html.HtmlElement] = []
        walker = etree.iterwalk(scope, events=("start",))
        for _, element in walker:
            if element.get("id") in COMMENT_AREA_IDS or element.tag in ("form", "script", "style") or is_hidden(element):
                walker.skip_subtree()
            else:
                found.append(element)
        return found
    return page.memo("dle.story", walk)


def title(page: Page, site: Site) -> str | None:
    return page.text(site.selectors.title) or page.text("h1", within=dle_content(page)) or page.meta.get("og:title")


def published(page: Page, site: Site) -> Dated | None:
    """The visible date line: "22.11.2022, 17:37", "Вчера, 17:37", "22 ноября 2022", read in the site's zone."""
    if site.selectors.date:
        raw = _clean_date_text(page.text(site.selectors.date))
        when = parse_site_date(raw, fetched_at=page.fetched_at, tz=site.timezone) if raw else None
        return Dated(when.isoformat(), raw) if when and raw else None
    small = [el for el in story_elements(page) if len(el) <= 3]  # a date line is a leaf, not a container
    # Lazily: on almost every page the first marked leaf is the date line, and the leaves after it are never asked.
    marked = (el for el in small if el.tag == "time" or "date" in _marker(el).lower())
    for element in chain(marked, small):
        raw = _clean_date_text(collapse(element.text_content()))
        if raw and len(raw) <= DATE_TEXT_MAX and (when := parse_site_date(raw, fetched_at=page.fetched_at, tz=site.timezone)):
            return Dated(when.isoformat(), raw)
    return None


def _clean_date_text(text: str | None) -> str | None:
    return text.strip(" ,;|•·\u00a0") or None if text else None


def _counter(page: Page, selector: str | None, mark: re.Pattern[str]) -> int | None:
    if selector:
        return parse_count(page.text(selector))
    for element in story_elements(page):
        if mark.search(_marker(element)):
            match = COUNTER_TEXT.fullmatch(collapse(element.text_content()))
            if match:
                return parse_count(match.group(1))
    return None


def views(page: Page, site: Site) -> int | None:
    return _counter(page, site.selectors.views, VIEWS_MARK)


def comment_count(page: Page, site: Site) -> int | None:
    return _counter(page, site.selectors.comment_count, COMMENTS_MARK)


def authors(page: Page, site: Site) -> list[str] | None:
    """DLE's {author} is a ShowProfile link printing the login, not a display name."""
    if site.selectors.author:
        return [collapse(el.text_content()) for el in page.select(site.selectors.author)] or None
    elements = story_elements(page)
    logins = [collapse(el.text_content()) for el in elements if "ShowProfile" in (el.get("onclick") or "")]
    if not logins:
        lines = (AUTHOR_LINE.match(collapse(el.text_content())) for el in elements if el.tag in ("li", "span", "div", "p"))
        logins = [match.group(1) for match in lines if match][:1]
    return list(dict.fromkeys(login for login in logins if login)) or None


def _is_boilerplate(element: html.HtmlElement) -> bool:
    """Related-news, share and rating blocks inside the story: never article text."""
    if RELATED_CLASS.search(_marker(element)):
        return True
    if element.tag not in ("div", "section", "aside"):
        return False
    first_child = next(element.iterchildren(tag=etree.Element), None)  # elements only, not comments
    first_text = collapse(element.text or "") or (collapse(first_child.text_content()) if first_child is not None else "")
    return bool(RELATED.match(first_text))


def _body_element(page: Page, site: Site) -> html.HtmlElement | None:
    """The configured body, else the story element with the most text directly in it (its own text and <p>s)."""
    if site.selectors.body:
        return page.first(site.selectors.body)
    best, best_score = None, 0
    for element in story_elements(page):
        if element.tag not in ("div", "article", "section", "td"):
            continue
        score = len((element.text or "").strip()) + sum(
            (len(child.text_content()) if child.tag == "p" else 0) + len((child.tail or "").strip()) for child in element
        )
        if score > best_score:
            best, best_score = element, score
    return best


def body(page: Page, site: Site) -> str | None:
    element = page.memo("dle.body", lambda: _body_element(page, site))
    if element is None:
        return None
    related = set(page.select(site.selectors.related)) if site.selectors.related else set()
    parts = paragraphs(element, skip=lambda el: el in related or el.get("id") in COMMENT_AREA_IDS or _is_boilerplate(el))
    return "\n\n".join(parts) or None


def images(page: Page, site: Site) -> list[str]:
    """Images of the story: DLE's image markers (full-size URL for thumbnails), other <img>s, else og:image."""
    element = page.memo("dle.body", lambda: _body_element(page, site))
    sources: list[str] = []
    inside_marker = False
    for event, node in etree.iterwalk(element, events=("start", "comment")) if element is not None else ():
        if event == "comment":
            begin = IMAGE_BEGIN.match(node.text or "")
            if begin:
                sources.append(begin.group(1).strip())
            inside_marker = bool(begin) or (inside_marker and not IMAGE_END.match(node.text or ""))
        elif node.tag == "img" and not inside_marker and node.get("src") and not is_hidden(node):
            sources.append(node.get("src"))
    return image_urls(page, sources)


def category(page: Page, site: Site) -> str | None:
    """The last linked crumb of DLE's speedbar, else the link to the URL's category folder."""
    speedbar = page.ids.get(SPEEDBAR)
    items = page.select("[itemprop=itemListElement]", within=speedbar) if speedbar is not None else []
    crumbs = [page.text("[itemprop=name]", within=item) for item in items if item.find(".//a") is not None]
    if len(crumbs) > 1:
        return crumbs[-1]
    folder = urlsplit(page.url).path.rsplit("/", 1)[0] + "/"
    for element in story_elements(page):
        href = element.get("href") if element.tag == "a" else None
        if href and folder != "/" and urlsplit(resolve(page.url, href) or "").path == folder:
            return collapse(element.text_content()) or None
    return None


def tags(page: Page, site: Site) -> list[str] | None:
    """DLE prints {tags} as links to /tags/<tag>/."""
    found = [collapse(el.text_content()) for el in story_elements(page) if el.tag == "a" and "/tags/" in (el.get("href") or "")]
    return list(dict.fromkeys(tag for tag in found if tag)) or None


def comments(page: Page, site: Site) -> list:
    return dle_comments(page, site)


FIELDS = {
    "title": title, "published": published, "views": views, "comment_count": comment_count, "authors": authors,
    "body": body, "images": images, "category": category, "tags": tags, "comments": comments,
}
