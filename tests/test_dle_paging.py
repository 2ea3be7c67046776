"""Where DLE's comment pages are, read from an article page; which articles a lastcomments listing names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newscrawler.extract.dle_paging import CommentPaging, comment_paging
from newscrawler.extract.lastcomments import last_comments
from newscrawler.extract.page import Page

FETCHED = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("article", "page_url"),
    [
        ("https://news.kz/society/20500-slug.html", "https://news.kz/society/page,1,3,20500-slug.html"),
        ("https://news.kz/20500-slug.html", "https://news.kz/page,1,3,20500-slug.html"),  # seo_type 1
        ("https://news.kz/index.php?newsid=20500", None),  # no SEO URLs: the endpoint only
    ],
)
def test_the_comment_page_url_follows_the_article_url_form(article: str, page_url: str | None) -> None:
    assert CommentPaging(article, "20500", "Turan", 3).page_url(3) == page_url


def test_the_endpoint_url_carries_the_skin_only_when_the_page_names_one() -> None:
    paging = CommentPaging("https://news.kz/society/20500-slug.html", "20500", None, None)
    assert paging.ajax_url(2) == "https://news.kz/engine/ajax/controller.php?mod=comments&cstart=2&news_id=20500&massact=disable"


def test_news_id_from_the_comment_form_and_last_page_from_the_navigation() -> None:
    markup = """<html><body><script>var dle_skin = 'Green';</script><div id="dle-content">
    <a href="#" onclick="CommentsPage('2', '777', 'x'); return false;">2</a> <a href="/page,1,4,777-a.html#comment">4</a>
    <input type="hidden" name="post_id" id="post_id" value="777"></div></body></html>"""
    paging = comment_paging(Page.parse(markup, "https://news.kz/index.php?newsid=777", FETCHED), None)
    assert (paging.news_id, paging.skin, paging.last_page) == ("777", "Green", 4)


def test_lastcomments_names_each_comments_article_not_its_authors_profile() -> None:
    markup = """<html><body>
    <div id='comment-id-91'><a href="https://news.kz/user/aigul/">aigul</a> к новости:
      <a href="https://news.kz/society/20503-ceny.html#comment-id-91">Цены</a><div id='comm-id-91'>Текст</div></div>
    <div id='comment-id-90'><a href="https://elsewhere.kz/society/1-a.html">чужой сайт</a></div>
    <div id='comment-id-89'><a href="http://[::1/user/x/">no parser can split this link</a></div>
    </body></html>"""
    assert last_comments(markup, "https://news.kz/index.php?do=lastcomments") == [("https://news.kz/society/20503-ceny.html", "91")]


def test_a_row_of_comment_page_links_is_not_a_comment_counter() -> None:
    from newscrawler.extract import extract

    markup = """<html><head><meta name="generator" content="DataLife Engine"></head><body><div id='dle-content'>
    <h1>Заголовок</h1><div class="text"><p>Текст статьи достаточной длины для тела записи.</p></div>
    <li class="meta-views" title="Просмотров">1 234</li>
    <div class="dle-comments-navigation"><span>1</span> <a href="/page,1,2,5-a.html">2</a> <a href="/page,1,3,5-a.html">3</a></div>
    </div></body></html>"""
    record = extract(markup, "https://news.kz/society/5-a.html", FETCHED)
    assert (record.comment_count, record.views) == (None, 1234)
