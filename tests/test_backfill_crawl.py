"""End-to-end backfill: `newscrawler crawl --config sources.toml --backfill` over a generated DLE site of 64 articles
whose feed lists only the newest 10 (tests/generated_archives.py says which route reaches which article)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.generated_site import ARTICLE_PATH, GeneratedSite, serve_generated
from tests.test_crawl import BIN, FAST, run

ARTICLES = 64
# Written out, not derived from the site: news ids 100001..100064, one article every 6 hours from
# 2022-11-01 10:00 +06:00 (the last one 2022-11-17 04:00).
ALL_IDS = list(range(100001, 100065))
# --since 2022-11-12 --until 2022-11-14 in Asia/Almaty (+06:00 in 2022): from 2022-11-12 00:00 to 2022-11-15 00:00.
# Article 100044 is the first in it (2022-11-12 04:00; 100043 is 2022-11-11 22:00), 100055 the last
# (2022-11-14 22:00; 100056 is 2022-11-15 04:00).
BOUNDED_IDS = list(range(100044, 100056))
SCRIPTED = 100064  # its page loads the story by a script; the Turbo feed (the newest 10) has the whole story
SCRIPTED_BODY = (
    "Новость номер 100064 опубликована редакцией сайта «Синтетические новости». В материале 100064 рассказывается "
    "о событиях в городе и о планах местных властей на ближайший месяц.\n\n"
    "По словам источников редакции, подготовка к событию 100064 заняла несколько недель. Участники обсудили бюджет, "
    "сроки и ответственных за каждый этап работы.\n\n"
    "Редакция продолжит следить за развитием истории 100064 и сообщит о новых подробностях. Читатели могут задать "
    "свои вопросы в комментариях."
)
LAST_COMMENTS = "/index.php?do=lastcomments"  # read after a DLE feed for new comments on stored articles
NOT_RECORDS = re.compile(r"^/(?:user|tags|engine)/|print:|/page,|^/about\.html|^/admin\.php|^/index\.php")


@pytest.fixture(scope="module")
def site() -> Iterator[GeneratedSite]:
    with serve_generated(ARTICLES, archives=True, feed_items=10, interval=timedelta(hours=6), scripted=frozenset({SCRIPTED})) as served:
        yield served


def write_config(path: Path, site: GeneratedSite, extra: str = "", *, start: str = "/") -> Path:
    path.write_text(f"""
[sites.synthetic]
start_urls = ["{site.url(start)}"]  # the home page: its feed is found there
profile = "dle"
timezone = "Asia/Almaty"
{extra}
""", encoding="utf-8")
    return path


def backfill(site: GeneratedSite, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    config = write_config(tmp_path / "sources.toml", site)
    output = tmp_path / "out.jsonl"
    result = run([str(BIN / "newscrawler"), "crawl", "--config", str(config), "--backfill", *extra, "-O", str(output),
                  "--state", str(tmp_path / "state"), *FAST])
    return result, records_of(tmp_path) if output.exists() else []


def news_ids(records: list[dict[str, Any]]) -> list[int]:
    return sorted(int(ARTICLE_PATH.fullmatch(urlsplit(r["canonical_url"]).path).group(1)) for r in records)


def test_backfill_gets_every_article_exactly_once_and_nothing_else(site: GeneratedSite, tmp_path: Path) -> None:
    before = len(site.requests)
    result, records = backfill(site, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert news_ids(records) == ALL_IDS
    assert {r["site"] for r in records} == {"synthetic"}
    requested = [unquote(urlsplit(path).path) for path in site.requests[before:]]
    article_fetches = [path for path in requested if ARTICLE_PATH.fullmatch(path)]
    assert sorted(article_fetches) == sorted(set(article_fetches))  # each article fetched once
    other = [unquote(path) for path in site.requests[before:] if path != LAST_COMMENTS]
    assert [path for path in other if NOT_RECORDS.search(path)] == []  # user, tag, print, comment pages: never
    assert "/uploads/news_pages1.xml.gz" in requested and "/google_news.xml" in requested
    assert "/rssturbo.xml" in requested  # the feed's DLE generator brings the full-text feed
    assert "/rssdzen.xml" not in requested  # robots.txt disallows it: skipped, no failure (exit status 0 above)
    (scripted,) = [r for r in records if r["canonical_url"].endswith(f"/{SCRIPTED}-statya-{SCRIPTED}.html")]
    assert scripted["body"] == SCRIPTED_BODY  # from turbo:content: the page itself shows only its frame
    assert f"records written: {ARTICLES}" in result.stdout
    # 48 + 12 sitemap entries, 5 sitemap entries that are not articles, 52 main listing links (12 stories are off it)
    assert "backfill URLs listed: 117  not articles: 5  out of date range: 0" in result.stdout


def test_since_and_until_bound_the_backfill(site: GeneratedSite, tmp_path: Path) -> None:
    before = len(site.requests)
    result, records = backfill(site, tmp_path, "--since", "2022-11-12", "--until", "2022-11-14")
    assert result.returncode == 0, result.stderr[-3000:]
    assert news_ids(records) == BOUNDED_IDS
    requested = [urlsplit(path).path for path in site.requests[before:]]
    assert {"/2022/11/12/", "/2022/11/13/", "/2022/11/14/"} <= set(requested)  # date archives, not /page/N/
    assert "/2022/11/15/" not in requested and "/page/2/" not in requested
    assert all(r["published_at"].startswith(("2022-11-12", "2022-11-13", "2022-11-14")) for r in records)


def test_max_pages_limits_the_fetches_and_a_second_run_takes_the_rest(site: GeneratedSite, tmp_path: Path) -> None:
    config = write_config(tmp_path / "sources.toml", site, "[sites.synthetic.limits]\nmax_pages = 40")
    command = [str(BIN / "newscrawler"), "crawl", "--config", str(config), "--backfill", "-o", str(tmp_path / "out.jsonl"),
               "--state", str(tmp_path / "state"), *FAST]
    first = run(command)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "records written: 40" in first.stdout
    assert "left for the next run (max_pages): 24" in first.stdout
    second = run(command)
    assert second.returncode == 0, second.stderr[-3000:]
    assert news_ids(records_of(tmp_path)) == ALL_IDS


def crawl_config(site: GeneratedSite, tmp_path: Path, extra: str, *options: str) -> subprocess.CompletedProcess[str]:
    config = write_config(tmp_path / "sources.toml", site, extra)
    return run([str(BIN / "newscrawler"), "crawl", "--config", str(config), *options, "-O", str(tmp_path / "out.jsonl"),
                "--state", str(tmp_path / "state"), *FAST])


def records_of(tmp_path: Path, name: str = "out.jsonl") -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / name).read_text(encoding="utf-8").splitlines()]


def test_wordpress_rest_pagination_alone_reaches_every_post(site: GeneratedSite, tmp_path: Path) -> None:
    before = len(site.requests)
    extra = "[sites.synthetic.backfill]\nsitemaps = false\nlistings = []\nwp_json = true"
    result = crawl_config(site, tmp_path, extra, "--backfill")
    assert result.returncode == 0, result.stderr[-3000:]
    assert news_ids(records_of(tmp_path)) == ALL_IDS
    pages = sorted(parse_qs(urlsplit(p).query)["page"][0] for p in site.requests[before:] if p.startswith("/wp-json/"))
    assert pages == ["1", "2", "3"]  # 25 posts a page (this site's cap); X-WP-TotalPages says 3
    assert not [p for p in site.requests[before:] if p.startswith(("/sitemap.xml", "/page/"))]


def test_a_home_page_without_a_feed_link_falls_back_to_rss_xml(site: GeneratedSite, tmp_path: Path) -> None:
    site.feed_link = False
    try:
        before = len(site.requests)
        result = crawl_config(site, tmp_path, "")
    finally:
        site.feed_link = True
    assert result.returncode == 0, result.stderr[-3000:]
    assert news_ids(records_of(tmp_path)) == ALL_IDS[-10:]  # the feed lists the newest 10
    requested = site.requests[before:]
    assert requested.index("/") < requested.index("/rss.xml")  # guessed after reading the home page
    assert "/feed/" not in requested  # /rss.xml was a feed: the next guess is not needed


@pytest.mark.parametrize(("concurrency", "at_most_one"), [(1, True), (4, False)])
def test_a_sites_concurrency_is_what_the_server_sees(
    site: GeneratedSite, tmp_path: Path, concurrency: int, at_most_one: bool
) -> None:
    site.delay, site.max_in_flight = 0.2, 0
    try:
        result = crawl_config(site, tmp_path, f"[sites.synthetic.politeness]\nconcurrency = {concurrency}\ndelay = 0")
    finally:
        site.delay = 0.0
    assert result.returncode == 0, result.stderr[-3000:]
    assert (site.max_in_flight == 1) is at_most_one, site.max_in_flight


def test_a_config_crawls_all_its_sites_or_the_one_named(tmp_path: Path) -> None:
    with serve_generated(3) as first, serve_generated(4) as second:
        config = tmp_path / "sources.toml"
        config.write_text(f"""
[sites.first]
start_urls = ["{first.url('/rss.xml')}"]
timezone = "Asia/Almaty"

[sites.second]
start_urls = ["{second.url('/rss.xml')}"]
timezone = "Asia/Almaty"
[sites.second.politeness]
concurrency = 1
""", encoding="utf-8")
        command = [str(BIN / "newscrawler"), "crawl", "--config", str(config), "--state", str(tmp_path / "state"), *FAST]
        only = run([*command, "--site", "second", "-O", str(tmp_path / "second.jsonl")])
        assert only.returncode == 0, only.stderr[-3000:]
        assert first.requests == []
        assert sorted(r["site"] for r in records_of(tmp_path, "second.jsonl")) == ["second"] * 4
        both = run([*command, "-O", str(tmp_path / "both.jsonl")])
        assert both.returncode == 0, both.stderr[-3000:]
    sites = sorted(r["site"] for r in records_of(tmp_path, "both.jsonl"))
    assert sites == ["first"] * 3 + ["second"] * 4  # -O rewrites the file from the store: both sites' records

