"""WordPress comments: the comment walker's `li#comment-N` threaded by `ol.children` (classic and block themes
print the same), its comment pages (`/comment-page-N/`), and `/wp/v2/comments` threaded by `parent`."""

from __future__ import annotations

import html as entities
import json
import re
from datetime import datetime, timedelta, timezone

from lxml import html

from newscrawler.extract.dates import parse_machine_date
from newscrawler.extract.page import Page, parse_html
from newscrawler.extract.site import Site
from newscrawler.extract.text import collapse, paragraphs
from newscrawler.items import Comment
from newscrawler.urls import resolve

COMMENT_ID = re.compile(r"^comment-(\d+)$")
COMMENT_PAGE = re.compile(r"/comment-page-(\d+)/?")
# The comment areas of the walker (comment-list, children) and of the comments blocks: not the post's text.
COMMENT_AREA = frozenset({"comment-list", "commentlist", "children", "comments-area", "wp-block-comments", "wp-block-comment-template"})
AUTHOR = (".wp-block-comment-author-name", ".comment-author .fn", ".comment-author")
TEXT = (".wp-block-comment-content", ".comment-content", ".comment-text")


def comments_of(page: Page, site: Site) -> list[Comment]:
    """Every comment on the page in page order (a depth-first walk), its parent the enclosing comment item."""
    found = []
    for element_id, item in page.ids.items():
        match = COMMENT_ID.match(element_id)
        if match and item.tag == "li":
            found.append(_comment(page, item, match.group(1)))
    return found


def _own(page: Page, item: html.HtmlElement, selectors: tuple[str, ...]) -> html.HtmlElement | None:
    """The first match inside this comment and not inside one of its replies."""
    for selector in selectors:
        for element in page.select(selector, within=item):
            if next(element.iterancestors("li"), None) is item:
                return element
    return None


def _comment(page: Page, item: html.HtmlElement, comment_id: str) -> Comment:
    parent = next((li for li in item.iterancestors("li") if COMMENT_ID.match(li.get("id") or "")), None)
    author = _own(page, item, AUTHOR)
    text = _own(page, item, TEXT)
    time = _own(page, item, ("time[datetime]",))
    raw = time.get("datetime").strip() if time is not None else None
    when = parse_machine_date(raw) if raw else None
    return Comment(
        id=comment_id,
        parent_id=COMMENT_ID.match(parent.get("id")).group(1) if parent is not None else None,
        author=(collapse(author.text_content()) or None) if author is not None else None,
        published_at=when.isoformat() if when else None,
        published_at_raw=raw if when else None,
        text="\n\n".join(paragraphs(text)) if text is not None else "",
    )


def comment_pages(page: Page) -> dict[int, str]:
    """Comment page number -> URL, from the comment navigation links (`…/comment-page-2/#comments`)."""
    found = {}
    for link in page.root.iter("a"):
        href = link.get("href") or ""
        if (match := COMMENT_PAGE.search(href)) and (url := resolve(page.url, href.split("#", 1)[0])):
            found[int(match.group(1))] = url
    return found


def current_comment_page(page: Page) -> int:
    """The number the navigation marks current (`page-numbers current`), else the URL's, else 1."""
    for element in page.select(".page-numbers.current"):
        if collapse(element.text_content()).isdigit():
            return int(collapse(element.text_content()))
    match = COMMENT_PAGE.search(page.url)
    return int(match.group(1)) if match else 1


def comments_of_page(markup: str, url: str, fetched_at: datetime, site: Site) -> tuple[list[Comment], dict[int, str]]:
    """A comment page's comments and the other comment pages it links to."""
    page = Page.parse(markup, url, fetched_at)
    return comments_of(page, site), comment_pages(page)


def _rest_date(local: str | None, gmt: str | None) -> tuple[str, str] | None:
    """WordPress gives local wall time and GMT without offsets: their difference is the site's offset then."""
    when, utc = (parse_machine_date(local) if local else None), (parse_machine_date(gmt) if gmt else None)
    if when is None or utc is None:
        return None
    offset = when.replace(tzinfo=None) - utc.replace(tzinfo=None)
    if abs(offset) > timedelta(hours=14):
        return None
    return when.replace(tzinfo=timezone(offset)).isoformat(), local.strip()


def rest_text(rendered: str | None) -> str:
    """Plain text of a `rendered` HTML field."""
    return "\n\n".join(paragraphs(parse_html(f"<div>{rendered or ''}</div>").find(".//div"))) if rendered else ""


def comments_of_rest(text: str) -> list[Comment] | None:
    """The comments of a /wp/v2/comments answer, in its order; None when it is not that JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(item, dict) and "id" in item for item in data):
        return None
    found = []
    for item in data:
        dated = _rest_date(item.get("date"), item.get("date_gmt"))
        parent = item.get("parent") or None
        found.append(Comment(
            id=str(item["id"]), parent_id=str(parent) if parent else None,
            author=collapse(entities.unescape(item.get("author_name") or "")) or None,
            published_at=dated[0] if dated else None, published_at_raw=dated[1] if dated else None,
            text=rest_text((item.get("content") or {}).get("rendered")),
        ))
    return found


def threaded(comments: list[Comment]) -> list[Comment]:
    """Depth-first: each comment followed by its replies, oldest first, as the walker prints them."""
    ids = {comment.id for comment in comments}
    children: dict[str | None, list[Comment]] = {}
    for comment in comments:
        children.setdefault(comment.parent_id if comment.parent_id in ids else None, []).append(comment)
    order: list[Comment] = []
    stack = list(reversed(sorted(children.get(None, []), key=_age)))
    while stack:
        comment = stack.pop()
        order.append(comment)
        stack.extend(reversed(sorted(children.get(comment.id, []), key=_age)))
    return order


def _age(comment: Comment) -> tuple[float, int]:
    when = parse_machine_date(comment.published_at) if comment.published_at else None
    return (when.timestamp() if when else 0.0, int(comment.id) if comment.id.isdigit() else 0)
