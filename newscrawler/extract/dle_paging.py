"""DLE comment pages beyond the first (reference/dle.md §2.4): where to ask for them and how to read the answers.

Every DLE comment mode (links, ajax, lazy load) is served by the JSON endpoint
`/engine/ajax/controller.php?mod=comments&cstart=C&news_id=ID&skin=SKIN&massact=disable`; a site that blocks it
still serves the same comments as an article page at `/<cat>/page,1,C,<id>-<alt>.html`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from newscrawler.extract.comments import dle_comments
from newscrawler.extract.page import Page
from newscrawler.extract.site import Site
from newscrawler.items import Comment

SKIN = re.compile(r"""\bdle_skin\s*=\s*['"]([\w.-]+)['"]""")
ARTICLE_FILE = re.compile(r"^(?:page,\d+,(?:\d+,)?)?(\d+-[^/]*\.html)$")
# A page number in DLE's comment navigation: CommentsPage('3', '20500', ...) or .../page,1,3,20500-alt.html
NAVIGATION_PAGE = re.compile(r"CommentsPage\(\s*'(\d+)'|/page,1,(\d+),\d+-")
AJAX_PATH = "/engine/ajax/controller.php"


@dataclass(frozen=True)
class CommentPaging:
    """What a DLE article page says about its comment pages."""

    article_url: str
    news_id: str
    skin: str | None
    last_page: int | None  # the highest page its navigation links to; None when it shows no navigation

    def ajax_url(self, page: int) -> str:
        query = {"mod": "comments", "cstart": page, "news_id": self.news_id}
        query |= {"skin": self.skin} if self.skin else {}
        parts = urlsplit(self.article_url)
        return urlunsplit((parts.scheme, parts.netloc, AJAX_PATH, urlencode(query | {"massact": "disable"}), ""))

    def page_url(self, page: int) -> str | None:
        """/<cat>/page,1,C,<id>-<alt>.html, the comment page as an article page; None for URLs of another form."""
        parts = urlsplit(self.article_url)
        folder, _, name = parts.path.rpartition("/")
        match = ARTICLE_FILE.match(name)
        if not match:
            return None
        return urlunsplit((parts.scheme, parts.netloc, f"{folder}/page,1,{page},{match.group(1)}", "", ""))


def comment_paging(page: Page, news_id: str | None) -> CommentPaging | None:
    """The paging of an article page, or None when the page has no news id (nothing to ask the endpoint for)."""
    news_id = news_id or _post_id(page)
    if not news_id:
        return None
    scripts = " ".join(script.text or "" for script in page.root.iter("script"))
    skin = SKIN.search(scripts)
    return CommentPaging(page.url, news_id, skin.group(1) if skin else None, last_page(page))


def _post_id(page: Page) -> str | None:
    """The comment form's hidden post_id: the news id when the URL does not carry it (index.php?newsid=...)."""
    field = page.ids.get("post_id")
    value = field.get("value", "") if field is not None else ""
    return value if value.isdigit() else None


def last_page(page: Page) -> int | None:
    numbers = [
        int(number)
        for link in page.root.iter("a")
        for found in NAVIGATION_PAGE.finditer(f"{link.get('onclick') or ''} {link.get('href') or ''}")
        for number in found.groups() if number
    ]
    return max(numbers, default=None)


def comments_from_json(text: str, url: str, fetched_at: datetime, site: Site) -> tuple[list[Comment], int | None] | None:
    """The comments of the endpoint's answer and the last page its navigation names; None when it is not that JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("comments"), str):
        return None
    fragment = f"<html><body>{data['comments']}{data.get('navigation') or ''}</body></html>"
    page = Page.parse(fragment, urljoin(url, "/"), fetched_at)
    return dle_comments(page, site), last_page(page)


def comments_from_page(html: str, url: str, fetched_at: datetime, site: Site) -> tuple[list[Comment], int | None]:
    """The comments of a /page,1,C,... article page and the last page its navigation names."""
    page = Page.parse(html, url, fetched_at)
    return dle_comments(page, site), last_page(page)


def merge_comments(*lists: list[Comment]) -> list[Comment]:
    """One list in page order, each comment once (pages may overlap when comments arrive between requests)."""
    merged: dict[str, Comment] = {}
    for comments in lists:
        for comment in comments:
            merged.setdefault(comment.id, comment)
    return list(merged.values())
