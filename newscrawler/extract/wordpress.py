"""WordPress profile: what WordPress itself prints, in classic and block themes alike, not one theme's classes.

The engine's own output: `<meta name=generator content="WordPress …">`, `/wp-content/` and `/wp-includes/` assets,
the `https://api.w.org/` link to wp-json, `post_class()` (`article#post-N.type-post`), `body_class()` (`postid-N`),
`rel="author"`, `rel="category tag"` and `rel="tag"` links, the post-title/post-date/post-content blocks, and the
comment walker's `li#comment-N` with replies in `ol.children`. Theme conventions every default theme shares
(`entry-title`, `entry-content`, `time.entry-date`) come after them.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import html

from newscrawler.extract import generic
from newscrawler.extract.body import standfirst
from newscrawler.extract.generic import Dated, head_titles
from newscrawler.extract.page import Page
from newscrawler.extract.dates import parse_machine_date
from newscrawler.extract.site import Site
from newscrawler.extract.text import collapse, is_hidden, paragraphs, parse_count
from newscrawler.extract.titles import clean_title
from newscrawler.extract.wp_comments import COMMENT_AREA, comments_of
from newscrawler.urls import resolve
from newscrawler.items import Comment

VERSION = "wordpress/2"  # goes into the record's `extractor` field; bump when output changes
ASSET = re.compile(r"/wp-(?:content|includes)/")
API_REL = "https://api.w.org/"
POST_ID = re.compile(r"^post-(\d+)$")
BODY_POST_ID = re.compile(r"\bpostid-(\d+)\b")
SHORTLINK_ID = re.compile(r"[?&]p=(\d+)\b")
# Each a list in order of trust: the first selector that finds something outside the comments wins.
POST = "article.type-post, article[id^=post-]"
TITLE = ("h1.wp-block-post-title", "h1.entry-title", ".wp-block-post-title", ".entry-title")
DATE = (".wp-block-post-date time[datetime]", "time.entry-date.published[datetime]", "time.published[datetime]",
        "time.entry-date[datetime]")
MODIFIED = (".wp-block-post-date__modified-date time[datetime]", "time.updated[datetime]")
BODY = (".wp-block-post-content", ".entry-content", "[itemprop=articleBody]")
AUTHOR = ("a[rel~=author]", ".wp-block-post-author-name", ".author.vcard .fn")
CATEGORY = ("a[rel~=category]", ".taxonomy-category a")
TAG = (".taxonomy-post_tag a", "a[rel=tag]")
COMMENTS_TITLE = ".wp-block-comments-title, .comments-title"
WORD = re.compile(r"\w+")
MIN_LINE_WORDS = 4  # a shorter line of the block is kept only where it is a paragraph of the generic reading
QUOTE_MARKS = re.compile("[«“\"]")
# Plugin blocks inside post content that are not the article: share buttons, related posts, post navigation.
NOT_TEXT = re.compile(r"sharedaddy|jp-relatedposts|yarpp|post-navigation|wp-block-buttons|addtoany|social", re.I)


def is_wordpress(page: Page) -> bool:
    """The generator meta can be removed (security plugins do); the asset paths and the wp-json link rarely are, and
    body_class()'s `postid-N` with the comment walker's `li#comment-N` items stay whatever a site hides."""
    if page.meta.get("generator", "").lower().startswith("wordpress"):
        return True
    for link in page.root.iter("link"):
        if link.get("rel") == API_REL or ASSET.search(link.get("href") or ""):
            return True
    if any(ASSET.search(script.get("src") or "") for script in page.root.iter("script")):
        return True
    body = page.root.find("body")
    walker = page.select("ol.children > li[id^=comment-], ol.comment-list > li[id^=comment-], ol.wp-block-comment-template > li")
    return body is not None and bool(BODY_POST_ID.search(body.get("class") or "")) and (bool(walker) or page.first("time[datetime]") is not None)


def _outside_comments(elements: list[html.HtmlElement]) -> list[html.HtmlElement]:
    """Comment areas print authors, dates and links too: never the post's own."""
    return [el for el in elements if not any(_is_comment_area(a) for a in el.iterancestors()) and not is_hidden(el)]


def _is_comment_area(element: html.HtmlElement) -> bool:
    return element.get("id") == "comments" or bool(set((element.get("class") or "").split()) & COMMENT_AREA)


def _post(page: Page) -> html.HtmlElement:
    """The post's own element (post_class), else the document: block themes print no article element."""
    post = page.first(POST)
    return page.root if post is None else post


def _select(page: Page, selectors: tuple[str, ...]) -> list[html.HtmlElement]:
    """What the first selector that matches finds in the post (else in the page), outside the comments."""
    post = _post(page)
    for scope in (post, page.root) if post is not page.root else (page.root,):
        for selector in selectors:
            if found := _outside_comments(page.select(selector, within=scope)):
                return found
    return []


def post_id(page: Page) -> str | None:
    """The post's id, for wp-json: post_class's article#post-N, body_class's postid-N, the ?p=N shortlink."""
    for element in page.select("article[id^=post-]"):
        if match := POST_ID.match(element.get("id") or ""):
            return match.group(1)
    body = page.root.find("body")
    if body is not None and (match := BODY_POST_ID.search(body.get("class") or "")):
        return match.group(1)
    for link in page.root.iter("link"):
        if "shortlink" in (link.get("rel") or "") and (match := SHORTLINK_ID.search(link.get("href") or "")):
            return match.group(1)
    return None


def api_root(page: Page) -> str:
    """Where wp-json is: the engine's `<link rel="https://api.w.org/">`, else /wp-json/ on the page's host."""
    for link in page.root.iter("link"):
        if link.get("rel") == API_REL and link.get("href") and (api := resolve(page.url, link.get("href"))):
            return api
    return urljoin(page.url, "/wp-json/")


def slug(url: str) -> str | None:
    """The post slug of a pretty permalink (/2024/05/03/slug/); None for ?p=N links."""
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    return segments[-1] if segments and not segments[-1].isdigit() and "." not in segments[-1] else None


def title(page: Page, site: Site) -> str | None:
    """The theme's post title, if the page's head titles (og:title, JSON-LD headline, <title>) contain it.

    `.entry-title` is also what themes print over every post of a grid or a "latest news" block, and a page whose
    own post element is not found would take the first of those; the head always names the post itself. A page
    whose head names nothing keeps the theme's first title; where none is confirmed, the generic chooser decides.
    """
    found = [text for element in _select(page, TITLE) if (text := collapse(element.text_content()))]
    named = [name.casefold() for raw in head_titles(page) if (name := clean_title(raw))]
    return next((text for text in found if not named or any(text.casefold() in name for name in named)), None)


def _dated(elements: list[html.HtmlElement]) -> Dated | None:
    for element in elements:
        raw = (element.get("datetime") or "").strip()
        when = parse_machine_date(raw) if raw else None
        if when and when.tzinfo is not None:
            return Dated(when.isoformat(), raw)
    return None


def published_structured(page: Page, site: Site) -> Dated | None:
    """`get_the_date('c')` in the post's <time datetime>: the site's own offset, so it outranks the feed's GMT pubDate."""
    return _dated(_select(page, DATE))


def modified_at(page: Page, site: Site) -> str | None:
    dated = _dated(_select(page, MODIFIED))
    published = published_structured(page, site)
    return dated.iso if dated and (published is None or dated.iso != published.iso) else None


def authors(page: Page, site: Site) -> list[str] | None:
    names = [collapse(element.text_content()) for element in _select(page, AUTHOR)]
    return list(dict.fromkeys(name for name in names if name)) or None


def category(page: Page, site: Site) -> str | None:
    names = [collapse(element.text_content()) for element in _select(page, CATEGORY)]
    return next((name for name in names if name), None)


def tags(page: Page, site: Site) -> list[str] | None:
    categories = set(_select(page, CATEGORY))
    names = [collapse(el.text_content()) for el in _select(page, TAG) if el not in categories and "category" not in (el.get("rel") or "")]
    return list(dict.fromkeys(name for name in names if name)) or None


def _body_element(page: Page) -> html.HtmlElement | None:
    found = _body_elements(page)
    return found[0] if found else None


def _body_elements(page: Page) -> list[html.HtmlElement]:
    """The post content block; where the mark is on each paragraph (`<p itemprop="articleBody">` over and over),
    the first one's siblings that bear it too: taking the first alone would give the story's first paragraph."""
    found = _select(page, BODY)
    if not found:
        return []
    first = found[0]
    parent = first.getparent()
    return [first, *(el for el in found[1:] if parent is not None and el.getparent() is parent)]


def body(page: Page, site: Site) -> str | None:
    """The post content block, less the lines the generic reading of the page drops from it, plus its standfirst.

    `.entry-content` holds what plugins and themes put into the_content() besides the story: captions and photo
    credits, share buttons, "read also" and "most read" teasers, ad labels, author boxes. The generic reading
    (trafilatura and body.py's rules) drops those; it stands for the block's story when most of its text lies in the
    block, and then the block keeps only the lines it also has. A reading mostly outside the block (the whole page as
    one blob on a short page, or another story) leaves the block whole.
    """
    elements = _body_elements(page)
    if not elements:
        return None
    skip = lambda el: bool(NOT_TEXT.search(f"{el.get('class') or ''} {el.get('id') or ''}"))  # noqa: E731
    parts = [part for element in elements for part in paragraphs(element, skip=skip)]
    return "\n\n".join(_as_read(page, site, parts)) or None


def _words(text: str) -> str:
    return " ".join(WORD.findall(text))


def _as_read(page: Page, site: Site, parts: list[str]) -> list[str]:
    """The block's lines that the generic reading also has, when that reading lies mostly in the block; with the
    standfirst the reading puts first (body.standfirst) where the block leaves it out. A line is looked up by its
    words, since the reading may join lines the block splits at a <br>; a line of a few words ("0", a name under a
    photo) counts only as a whole paragraph of the reading, as words it would be found inside any story."""
    read = generic.body_paragraphs(page, generic.title(page, site))
    if not read:
        return parts
    words = _words(" ".join(read))
    whole = {_words(paragraph) for paragraph in read}
    kept = [part for part in parts if _has_line(_words(part), whole, words)]
    if 2 * sum(len(_words(part)) for part in kept) < len(words):
        return parts
    lead = read[0]
    if lead == standfirst(page) and not any(lead in part for part in kept):
        kept.insert(0, lead)
    return kept


def _has_line(line: str, whole: set[str], text: str) -> bool:
    return bool(line) and (line in whole or (line.count(" ") >= MIN_LINE_WORDS - 1 and line in text))


def images(page: Page, site: Site) -> list[str]:
    element = _body_element(page)
    sources = [img.get("src") for img in element.iter("img") if img.get("src")] if element is not None else []
    return generic.image_urls(page, sources)


def comment_count(page: Page, site: Site) -> int | None:
    """The comments heading's number ("14 комментариев", "14 responses to …"): theme text, so only where it says one."""
    heading = page.first(COMMENTS_TITLE)
    text = QUOTE_MARKS.split(heading.text_content(), maxsplit=1)[0] if heading is not None else ""
    return parse_count(text)  # the post's title follows in quotes, and may hold numbers of its own


def comments(page: Page, site: Site) -> list[Comment]:
    return comments_of(page, site)


FIELDS = {
    "title": title, "published_structured": published_structured, "modified_at": modified_at, "authors": authors,
    "category": category, "tags": tags, "body": body, "images": images, "comment_count": comment_count,
    "comments": comments,
}
