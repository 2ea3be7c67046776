"""The WordPress profile: a crawl from /feed/ of fixtures/sites/wp-news (classic and block themes) gives the records
written by hand, comments threaded across pages, from wp-json or the theme's comment pages."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from newscrawler.extract import extract
from newscrawler.extract.site import site_for_url
from tests.site_server import SITES, SiteServer
from tests.test_crawl import BIN, FAST, read_jsonl, run

EXPECTED = SITES / "wp-news" / "expected-crawl"
CLOCK_FIELDS = ("fetched_at", "id", "content_hash", "version", "previous_version_hash", "changed_fields", "duplicate_of")
PARK = "/2024/05/03/v-almaty-otkrylsya-novyy-park/"
SUBSIDIES = "/2024/05/09/fermery-poluchat-subsidii/"
GRAIN = "/2024/05/06/eksport-zerna-vyros/"


@pytest.fixture(scope="module")
def wp_site() -> Iterator[SiteServer]:
    site = SiteServer("wp-news")
    server = site.start()
    yield site
    server.shutdown()


@pytest.fixture(scope="module")
def wp_crawl(wp_site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    output = tmp_path_factory.mktemp("wordpress") / "articles.jsonl"
    command = [str(BIN / "newscrawler"), "crawl", wp_site.url("/feed/"), "-o", str(output), "--tz", "Asia/Almaty",
               "--state", str(output.with_suffix(".state")), "-s", "NEWSCRAWLER_WP_COMMENTS_PER_PAGE=10", *FAST]
    result = run(command)
    return result, read_jsonl(output) if output.exists() else []


def expected(site: SiteServer) -> dict[str, dict[str, Any]]:
    found = {}
    for case in EXPECTED.glob("*.json"):
        record = json.loads(case.read_text(encoding="utf-8").replace(site.placeholder, site.base))
        record["site"] = urlsplit(site.base).netloc
        found[urlsplit(record["url"]).path] = record
    return found


def without_clock(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in CLOCK_FIELDS}


def test_a_crawl_from_the_feed_gives_the_records_written_by_hand(wp_crawl: tuple, wp_site: SiteServer) -> None:
    result, records = wp_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    want = expected(wp_site)
    assert sorted(urlsplit(r["url"]).path for r in records) == sorted(want)
    assert len(records) == 10
    for record in records:
        assert without_clock(record) == without_clock(want[urlsplit(record["url"]).path]), record["url"]


def test_both_themes_give_the_site_offset_not_the_feeds_gmt(wp_crawl: tuple) -> None:
    _, records = wp_crawl
    assert {r["extractor"] for r in records} == {"wordpress/2"}
    assert all(r["published_at"].endswith("+05:00") for r in records)


def test_comments_over_two_pages_come_from_wp_json_threaded_by_parent(wp_crawl: tuple, wp_site: SiteServer) -> None:
    _, records = wp_crawl
    record = next(r for r in records if urlsplit(r["url"]).path == PARK)
    assert record["comments"] == expected(wp_site)[PARK]["comments"]
    assert [c["parent_id"] for c in record["comments"]][:3] == [None, record["comments"][0]["id"], record["comments"][1]["id"]]
    assert "/wp-json/wp/v2/comments?post=101&per_page=10&page=2" in wp_site.requests
    assert PARK + "comment-page-2/" not in wp_site.requests


def test_without_the_comments_route_the_themes_comment_pages_are_read(wp_crawl: tuple, wp_site: SiteServer) -> None:
    _, records = wp_crawl
    record = next(r for r in records if urlsplit(r["url"]).path == SUBSIDIES)
    assert "/wp-json/wp/v2/comments?post=107&per_page=10&page=1" in wp_site.requests  # answered 404
    assert SUBSIDIES + "comment-page-2/" in wp_site.requests
    assert record["comments"] == expected(wp_site)[SUBSIDIES]["comments"]
    assert len(record["comments"]) == record["comment_count"] == 9


def test_wp_json_post_is_asked_for_only_where_the_theme_leaves_fields_out(wp_crawl: tuple, wp_site: SiteServer) -> None:
    _, records = wp_crawl
    posts = [path for path in wp_site.requests if path.startswith("/wp-json/wp/v2/posts")]
    assert posts == ["/wp-json/wp/v2/posts?slug=eksport-zerna-vyros&_embed=author%2Cwp%3Aterm"]
    record = next(r for r in records if urlsplit(r["url"]).path == GRAIN)
    assert (record["published_at"], record["authors"], record["tags"]) == ("2024-05-06T18:30:00+05:00", ["Марат Ахметов"], ["зерно", "экспорт"])


CLASSIC = """<html><head><link rel='stylesheet' href='/wp-content/themes/x/style.css' /></head><body class="single postid-7">
<article id="post-7" class="post-7 post type-post"><h1 class="entry-title">Заголовок записи</h1>
<div class="entry-content"><p>Первый абзац записи.</p><p>Второй абзац записи.</p></div>
<time class="entry-date published" datetime="2024-05-03T09:15:00+05:00">3 мая</time> <a href="/author/a/" rel="author">Автор Один</a></article>
<ol class="comment-list"><li id="comment-1" class="comment"><div class="comment-author"><b class="fn">Читатель</b></div>
<time datetime="2024-05-03T10:00:00+05:00">10:00</time><div class="comment-content"><p>Первый!</p></div>
<ol class="children"><li id="comment-2" class="comment"><div class="comment-author"><b class="fn">Второй</b></div>
<div class="comment-content"><p>Ответ.</p></div></li></ol></li></ol></body></html>"""


def test_profile_is_detected_by_engine_output_and_chosen_by_name() -> None:
    fetched = datetime(2024, 5, 4, tzinfo=UTC)
    record = extract(CLASSIC, "https://news.example/2024/05/03/zapis/", fetched)
    assert (record.extractor, record.title, record.published_at) == ("wordpress/2", "Заголовок записи", "2024-05-03T09:15:00+05:00")
    assert [(c.id, c.parent_id, c.author, c.text) for c in record.comments] == [("1", None, "Читатель", "Первый!"), ("2", "1", "Второй", "Ответ.")]
    hidden = CLASSIC.replace("/wp-content/themes/x/style.css", "/static/style.css")  # assets moved to a CDN path
    assert extract(hidden, "https://news.example/a/", fetched).extractor == "wordpress/2"  # postid-7 and the walker's items
    plain = hidden.replace("postid-7", "")
    assert extract(plain, "https://news.example/a/", fetched).extractor == "generic/2"
    forced = extract(plain, "https://news.example/a/", fetched, site=site_for_url("https://news.example/a/", profile="wordpress"))
    assert forced.extractor == "wordpress/2"


MICRODATA_PARAGRAPHS = """<html><head><link rel='stylesheet' href='/wp-content/themes/x/style.css' /></head><body>
<article id="post-9" class="post-9 post type-post"><h1 class="entry-title">Заголовок</h1><div class="story">
<p itemprop="articleBody">Первый абзац записи о новом парке в центре города.</p>
<p itemprop="articleBody">Второй абзац: парк открыт каждый день с восьми утра.</p></div>
<aside><p itemprop="articleBody">Анонс другой записи в боковой колонке.</p></aside></article></body></html>"""


def test_a_theme_marking_each_paragraph_articlebody_gives_them_all() -> None:
    record = extract(MICRODATA_PARAGRAPHS, "https://news.example/2024/05/03/park/", datetime(2024, 5, 4, tzinfo=UTC))
    assert record.body == ("Первый абзац записи о новом парке в центре города.\n\n"
                           "Второй абзац: парк открыт каждый день с восьми утра.")


SENTENCES = (
    "The city council approved the riverside housing plan on Tuesday after a debate that lasted more than four hours.",
    "Residents who opposed the plan said they would ask the regional court for a judicial review of the decision.",
    "Building work is due to start next spring, and the first of the four hundred homes should be ready in two years.",
    "The mayor said the plan would ease a shortage of affordable flats that has pushed young families out of the centre.",
    "Opponents argue that the site floods every few winters and that the new embankment has not yet been tested.",
    "The developer has promised a park along the water and a new footbridge to the old town on the other bank.",
)
TEASER = "Ferry service to the island resumes after two months"


def plugin_filled_post(sentences: tuple[str, ...] = SENTENCES) -> str:
    """A post whose the_content() carries a caption, share buttons and a "Read next" teaser besides the story."""
    story = "".join(f"<p>{s}</p>" for s in sentences[:3])
    story += '<figure><img src="/wp-content/uploads/a.jpg"><figcaption>The riverside site seen from the old bridge</figcaption></figure>'
    story += "".join(f"<p>{s}</p>" for s in sentences[3:])
    story += f'<div class="share-row"><span>Share</span> <span>Tweet</span> <span>0</span></div><p><strong>Read next: <a href="/2024/05/02/ferry/">{TEASER}</a></strong></p>'
    return f"""<html><head><title>Council approves riverside plan</title><link rel='stylesheet' href='/wp-content/themes/x/style.css' /></head>
<body class="single postid-7"><header><nav><a href="/">Home</a> <a href="/news/">News</a></nav></header>
<main><article id="post-7" class="post-7 post type-post"><h1 class="entry-title">Council approves riverside plan</h1>
<div class="entry-content">{story}</div></article><aside><h3>Latest</h3><ul><li><a href="/2024/05/02/ferry/">{TEASER}</a></li>
<li><a href="/2024/05/01/halls/">Schools to get new sports halls before the autumn term</a></li></ul></aside></main>
<footer>City News</footer></body></html>"""


def test_the_content_block_loses_the_lines_the_generic_reading_drops() -> None:
    record = extract(plugin_filled_post(), "https://news.example/2024/05/03/plan/", datetime(2024, 5, 4, tzinfo=UTC))
    assert record.extractor == "wordpress/2"
    assert record.body == "\n\n".join(SENTENCES)  # no caption, share buttons or teaser


def test_a_generic_reading_mostly_outside_the_block_leaves_the_block_whole() -> None:
    record = extract(CLASSIC, "https://news.example/2024/05/03/zapis/", datetime(2024, 5, 4, tzinfo=UTC))
    assert record.body == "Первый абзац записи.\n\nВторой абзац записи."  # the reading is the whole page in one line


def test_a_standfirst_printed_above_the_block_goes_first() -> None:
    lead = "The council backs four hundred homes by the river despite the fears of flooding."
    markup = plugin_filled_post().replace("</title>", f'</title><meta property="og:description" content="{lead}">')
    markup = markup.replace('<div class="entry-content">', f'<p class="standfirst">{lead}</p><div class="entry-content">')
    record = extract(markup, "https://news.example/2024/05/03/plan/", datetime(2024, 5, 4, tzinfo=UTC))
    assert record.body == "\n\n".join((lead, *SENTENCES))


def json_ld_dated(published: str) -> str:
    return f'<script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": "{published}"}}</script>'


def test_structured_data_naming_another_instant_beats_the_themes_time() -> None:
    fetched = datetime(2024, 5, 4, tzinfo=UTC)
    with_time = CLASSIC.replace('datetime="2024-05-03T09:15:00+05:00"', 'datetime="2024-05-03T09:15:00+00:00"')
    wrong_offset = with_time.replace("</head>", json_ld_dated("2024-05-03T09:15:00+05:00") + "</head>")
    assert extract(wrong_offset, "https://news.example/a/", fetched).published_at == "2024-05-03T09:15:00+05:00"
    same_instant = CLASSIC.replace("</head>", json_ld_dated("2024-05-03T04:15:00Z") + "</head>")
    assert extract(same_instant, "https://news.example/a/", fetched).published_at == "2024-05-03T09:15:00+05:00"  # the site's offset
    no_offset = with_time.replace("</head>", json_ld_dated("2024-05-03T09:15:00") + "</head>")
    assert extract(no_offset, "https://news.example/a/", fetched).published_at == "2024-05-03T09:15:00+00:00"


def test_a_post_whose_markup_dates_nothing_is_dated_by_its_date_line() -> None:
    undated = CLASSIC.replace('<time class="entry-date published" datetime="2024-05-03T09:15:00+05:00">3 мая</time>',
                              '<span class="post-date">03.05.2024, 09:15</span>')
    undated = undated[:undated.index('<ol class="comment-list">')] + "</body></html>"  # comments' <time> date them
    undated = undated.replace("<html>", '<html lang="ru">')
    site = site_for_url("https://news.example/a/", tz="Asia/Almaty")
    record = extract(undated, "https://news.example/a/", datetime(2024, 5, 4, tzinfo=UTC), site=site)
    assert (record.extractor, record.published_at) == ("wordpress/2", "2024-05-03T09:15:00+05:00")
