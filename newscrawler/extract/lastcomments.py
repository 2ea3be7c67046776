"""DLE's `index.php?do=lastcomments` (engine/modules/lastcomments.php): the newest comments site-wide, each
linking to its article, which tells which stored articles have comments the store has not seen."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from newscrawler.extract.dle import news_id
from newscrawler.extract.page import parse_html
from newscrawler.urls import resolve

COMMENT_BOX_PREFIX = "comment-id-"


def last_comments(html: str, url: str) -> list[tuple[str, str]]:
    """(article URL without fragment, comment id) of every comment box on the listing, in page order."""
    found = []
    host = urlsplit(url).netloc
    for box in parse_html(html).xpath("//*[starts-with(@id, 'comment-id-')]"):
        comment_id = box.get("id").removeprefix(COMMENT_BOX_PREFIX)
        links = (urlsplit(target) for link in box.iter("a") if (target := resolve(url, link.get("href") or "")))
        article = next((link for link in links if link.netloc == host and news_id(urlunsplit(link._replace(fragment=""))) and "/user/" not in link.path), None)
        if comment_id.isdigit() and article is not None:
            found.append((urlunsplit(article._replace(fragment="")), comment_id))
    return found
