"""Backfill and discovery helpers, offline: article URL shapes, sitemaps, feed links, full text from feeds."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from newscrawler.backfill import SitemapError, is_article_url, parse_sitemap, wp_published
from newscrawler.discovery import alternate_feeds, full_text_feeds
from newscrawler.extract import Hints, extract
from newscrawler.feeds import parse_feed

BASE = "http://127.0.0.1:9"
ALMATY_2022 = timezone(timedelta(hours=6))


@pytest.mark.parametrize(
    ("path", "profile", "article"),
    [
        ("/regions/12345-44-inostrannyh-smi.html", "dle", True),  # seo_type 2
        ("/12345-44-inostrannyh-smi.html", "dle", True),  # seo_type 1
        ("/2022/11/22/44-inostrannyh-smi.html", "dle", True),  # seo_type 0
        ("/regions/print:page,1,12345-44-inostrannyh-smi.html", "dle", False),  # print page
        ("/regions/page,1,2,12345-44-inostrannyh-smi.html", "dle", False),  # comment page 2
        ("/user/NTleukesh/", "dle", False),
        ("/tags/выборы/", "dle", False),
        ("/engine/go.php?url=aHR0cA", "dle", False),
        ("/admin.php?mod=editnews&id=12345", "dle", False),
        ("/regions/page/3/", "dle", False),
        ("/about.html", "dle", False),  # a static page: no news id
        ("/2024/03/01/tokayev-signs-the-budget-law/", "wordpress", True),
        ("/category/politics/", "wordpress", False),
        ("/author/admin/", "wordpress", False),
        ("/wp-admin/post.php", "wordpress", False),
        ("/news/tokayev-signs-the-budget-law", "generic", True),
        ("/contacts/", "generic", False),
        ("/regions/12345-44-inostrannyh-smi.html", "auto", True),
        ("/politics/tokayev-signs-the-budget-law/", "auto", True),
    ],
)
def test_article_shaped_urls_per_profile(path: str, profile: str, article: bool) -> None:
    assert is_article_url(BASE + path, profile) is article


def test_a_sites_own_pattern_overrides_the_profile_but_not_the_exclusions() -> None:
    assert is_article_url(BASE + "/a/b", "dle", r"^/a/")
    assert not is_article_url(BASE + "/tags/a/", "dle", r"/a/")


URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>http://127.0.0.1:9/regions/1-a.html</loc><lastmod>2022-11-22</lastmod></url>
<url><loc>http://127.0.0.1:9/regions/2-b.html</loc><news:news><news:publication><news:name>T</news:name></news:publication>
<news:publication_date>2022-11-22T17:37:00+06:00</news:publication_date><news:title>B</news:title></news:news></url>
</urlset>"""


def test_a_urlset_gives_urls_with_lastmod_and_the_google_news_date() -> None:
    document = parse_sitemap(URLSET, BASE + "/sitemap.xml", max_size=1 << 20)
    assert document.children == []
    assert [(e.url, e.published_at, e.modified_at) for e in document.entries] == [
        (BASE + "/regions/1-a.html", None, datetime(2022, 11, 22, tzinfo=UTC)),
        (BASE + "/regions/2-b.html", datetime(2022, 11, 22, 17, 37, tzinfo=ALMATY_2022), None),
    ]
    assert document.entries[1].published_at.utcoffset() == timedelta(hours=6)


def test_a_gzipped_sitemap_index_gives_its_children() -> None:
    index = b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>/news_pages1.xml.gz</loc></sitemap></sitemapindex>'
    document = parse_sitemap(gzip.compress(index), BASE + "/sitemap.xml.gz", max_size=1 << 20)
    assert document.children == [BASE + "/news_pages1.xml.gz"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<html><body>502</body></html>", "not_a_sitemap"), (b"", "not_a_sitemap"),
     (gzip.compress(b"<urlset>" + b" " * 5000 + b"</urlset>"), "sitemap_too_large"), (b"\x1f\x8bnot gzip", "bad_gzip")],
)
def test_what_is_not_a_usable_sitemap_is_rejected_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(SitemapError, match=reason):
        parse_sitemap(body, BASE + "/sitemap.xml", max_size=1000)


def test_a_home_page_names_its_feeds_rss_and_atom_in_page_order() -> None:
    page = """<html><head><link rel="stylesheet" href="/s.css">
    <link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">
    <link rel="alternate" type="application/atom+xml" href="https://127.0.0.1:9/feed.atom">
    <link rel="alternate" hreflang="kk" href="/kz/"><link rel="alternate" type="application/rss+xml" href="/rss.xml">
    <link rel="alternate" type="application/rss+xml" href="http://[::1/rss.xml">
    </head><body></body></html>"""
    assert alternate_feeds(page, BASE + "/") == [BASE + "/rss.xml", "https://127.0.0.1:9/feed.atom"]


def test_dle_full_text_feeds_sit_beside_the_plain_one() -> None:
    assert full_text_feeds(BASE + "/rss.xml") == [BASE + "/rssturbo.xml", BASE + "/rssdzen.xml"]
    assert full_text_feeds(BASE + "/rssturbo.xml") == [BASE + "/rssdzen.xml"]


FULL_TEXT_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:yandex="http://news.yandex.ru" xmlns:turbo="http://turbo.yandex.ru"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>
<item><link>/1-a.html</link><pubDate>Tue, 22 Nov 2022 17:37:00 +0600</pubDate><turbo:content><![CDATA[<header><h1>Заголовок</h1>
<figure><img src="/i.jpg"></figure></header><p>Первый абзац.</p><p>Второй абзац.</p>]]></turbo:content></item>
<item><link>/2-b.html</link><yandex:full-text>Полный текст из Яндекс-ленты.</yandex:full-text></item>
<item><link>/3-c.html</link><content:encoded><![CDATA[<p>Из Дзена.</p>]]></content:encoded></item>
<item><link>/4-d.html</link><description>Только анонс</description></item>
</channel></rss>""".encode()


def test_full_text_feeds_give_the_story_as_plain_paragraphs() -> None:
    bodies = [entry.body for entry in parse_feed(FULL_TEXT_FEED, BASE + "/rssturbo.xml")]
    assert bodies == ["Первый абзац.\n\nВторой абзац.", "Полный текст из Яндекс-ленты.", "Из Дзена.", None]


def test_a_feeds_full_text_is_the_body_of_a_page_that_has_none() -> None:
    page = "<html><head><title>Новость</title></head><body><h1>Новость</h1><script>loadStory()</script></body></html>"
    hints = Hints("2022-11-22T17:37:00+06:00", "Tue, 22 Nov 2022 17:37:00 +0600", (), "Первый абзац.\n\nВторой абзац.")
    record = extract(page, BASE + "/1-a.html", datetime(2022, 11, 23, tzinfo=UTC), hints=hints)
    assert record.body == "Первый абзац.\n\nВторой абзац."
    assert record.published_at == "2022-11-22T17:37:00+06:00"


def test_a_wordpress_posts_gmt_date_gets_the_sites_offset() -> None:
    post = {"link": BASE + "/2022/11/22/a/", "date": "2022-11-22T17:37:00", "date_gmt": "2022-11-22T11:37:00"}
    from zoneinfo import ZoneInfo

    assert wp_published(post, ZoneInfo("Asia/Almaty")) == ("2022-11-22T17:37:00+06:00", "2022-11-22T17:37:00")
    assert wp_published({"date": "x", "date_gmt": "not a date"}, ZoneInfo("Asia/Almaty")) == (None, None)


def test_listing_pages_and_date_archives_are_walked_newest_first() -> None:
    from datetime import date

    from newscrawler.backfill import date_archive_days, date_archive_path, listing_url

    assert [listing_url(BASE + "/", "/politics/", n) for n in (1, 2)] == [BASE + "/politics/", BASE + "/politics/page/2/"]
    days = [date_archive_path(day) for day in date_archive_days(date(2024, 2, 28), date(2024, 3, 1))]
    assert days == ["/2024/03/01/", "/2024/02/29/", "/2024/02/28/"]


def test_the_pages_body_wins_unless_it_is_under_half_the_feeds_story() -> None:
    from newscrawler.extract import with_feed_story

    story = "Полный текст новости из Турбо-ленты, три абзаца." * 4
    assert with_feed_story("Текст страницы. " * 20, story) == "Текст страницы. " * 20
    assert with_feed_story("Главная » Новости » 17.11.2022", story) == story  # the page's frame, not its story
    assert with_feed_story(None, story) == story
    assert with_feed_story("Текст страницы.", None) == "Текст страницы."


def test_hints_kept_in_the_store_come_back_as_the_feed_gave_them() -> None:
    """Hints go into the store as JSON (to_dict) and come back with from_dict when a resumed run fetches the page."""
    hints = Hints("2022-11-22T17:37:00+06:00", "Tue, 22 Nov 2022 17:37:00 +0600", ("Айгуль Нурланова",), "Первый абзац.")
    assert Hints.from_dict(json.loads(json.dumps(hints.to_dict(), ensure_ascii=False))) == hints
    assert Hints.from_dict(Hints().to_dict()) == Hints()
