"""The generated DLE site that crash/resume and update crawls run against: checked with plain urllib, no crawler."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from xml.etree import ElementTree

from tests.generated_site import FIRST_COMMENT_ID, FIRST_ID, GeneratedSite, serve_generated

PAGES = 25
TITLE = re.compile(r"<h1 class=\"full-story__title\">(.*?)</h1>")


def get(site: GeneratedSite, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers and text of a response; urllib raises on 3xx/4xx, which are answers here, not failures."""
    request = urllib.request.Request(site.url(path), headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


def title_of(page: str) -> str:
    match = TITLE.search(page)
    return match.group(1) if match else ""


def feed_links(text: str) -> list[str]:
    return [item.findtext("link") or "" for item in ElementTree.fromstring(text).iter("item")]


def test_feed_lists_every_article_and_each_link_answers_with_its_own_title() -> None:
    with serve_generated(PAGES) as site:
        links = feed_links(get(site, "/rss.xml")[2])
        pages = [get(site, link.removeprefix(site.base)) for link in links]
        assert sorted(link.removeprefix(site.base) for link in links) == sorted(site.article_paths())
        assert [status for status, _, _ in pages] == [200] * PAGES
        titles = {title_of(text) for _, _, text in pages}
        assert len(titles) == PAGES
        assert all("Last-Modified" in headers for _, headers, _ in pages)


def test_feed_items_carry_creator_and_dates_with_the_sites_offset() -> None:
    with serve_generated(3) as site:
        text = get(site, "/rss.xml")[2]
    assert "<dc:creator>editor</dc:creator>" in text
    assert "<pubDate>Tue, 01 Nov 2022 10:02:00 +0600</pubDate>" in text  # newest first: the third article


def test_article_page_has_the_dle_markup_the_profile_reads() -> None:
    with serve_generated(1) as site:
        text = get(site, f"/news/{FIRST_ID}-statya-{FIRST_ID}.html")[2]
    for marker in ("DataLife Engine", "var dle_root", "<div id='dle-content'>", "01.11.2022, 10:00",
                   "ShowProfile('editor'", "comments-tree-item-", "id='comm-id-", f"Новость номер {FIRST_ID}"):
        assert marker in text


def test_article_responses_wait_for_the_delay() -> None:
    with serve_generated(2, delay=0.2) as site:
        started = time.monotonic()
        status = get(site, site.article_paths()[0])[0]
        assert status == 200
        assert time.monotonic() - started >= 0.2


def test_edit_and_add_comment_change_the_served_page() -> None:
    with serve_generated(2) as site:
        path = site.article_paths()[1]
        before = get(site, path)[2]
        site.edit(FIRST_ID + 1, "Дополнение редакции к новости.")
        comment_id = site.add_comment(FIRST_ID + 1, "Новый комментарий читателя")
        after = get(site, path)[2]
    assert "Дополнение редакции" not in before and "<p>Дополнение редакции к новости.</p>" in after
    assert f"id='comm-id-{comment_id}'>Новый комментарий читателя<" in after
    assert comment_id == FIRST_COMMENT_ID + 2  # the next site-wide id after the two seeded comments


def test_feed_answers_304_to_its_etag_and_200_otherwise() -> None:
    with serve_generated(3) as site:
        status, headers, _ = get(site, "/rss.xml")
        assert status == 200 and "Last-Modified" in headers
        assert get(site, "/rss.xml", {"If-None-Match": headers["ETag"]})[0] == 304
        assert get(site, "/rss.xml", {"If-None-Match": '"stale"'})[0] == 200


def test_unknown_paths_are_404() -> None:
    with serve_generated(2) as site:
        beyond = FIRST_ID + 2
        missing = [f"/news/{beyond}-statya-{beyond}.html", f"/news/{FIRST_ID}-statya-1.html", "/sitemap.xml"]
        assert [get(site, path)[0] for path in missing] == [404, 404, 404]


def test_every_request_path_is_logged() -> None:
    with serve_generated(2) as site:
        for path in ("/robots.txt", "/rss.xml", "/nowhere?x=1"):
            get(site, path)
        assert site.requests == ["/robots.txt", "/rss.xml", "/nowhere?x=1"]


def test_server_listens_on_loopback_only() -> None:
    with serve_generated(1) as site:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.base)
