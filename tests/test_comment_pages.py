"""All comments of a DLE article: pages 2.. from the JSON endpoint or the /page,1,C, fallback, merged and threaded;
new comments on old articles through the lastcomments listing. Real crawls of fixtures/sites/dle-comments."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.site_server import SiteServer
from tests.test_crawl import BIN, FAST, read_jsonl, run

SITE = "dle-comments"
EXPECTED = Path(__file__).resolve().parent.parent / "fixtures" / "sites" / SITE / "expected-crawl"
PARKING = "/society/20500-zhiteli-almaty-obsuzhdayut-platnuyu-parkovku.html"
BRIDGE = "/regions/20501-v-shymkente-otkryli-novyy-most.html"
SCHOOL = "/society/20502-shkoly-perehodyat-na-pyatidnevku.html"
PRICES = "/economy/20503-ceny-na-myaso-stabilizirovalis.html"
LAKE = "/regions/20504-uroven-vody-v-balkhashe.html"
SQUARE = "/society/20505-na-ploshchadi-ustanovyat-fontan.html"
# Set by the crawl's clock or hashed, not written by hand; the feed's pubDate is the raw date.
CLOCK_FIELDS = ("fetched_at", "published_at_raw", "id", "content_hash", "version", "previous_version_hash", "changed_fields", "duplicate_of")


def expected(site: SiteServer, name: str) -> dict[str, Any]:
    record = json.loads((EXPECTED / name).read_text(encoding="utf-8").replace(site.placeholder, site.base))
    record["site"] = urlsplit(site.base).netloc
    return record


def expected_by_path(site: SiteServer) -> dict[str, dict[str, Any]]:
    return {urlsplit(record["url"]).path: record for record in (expected(site, case.name) for case in EXPECTED.glob("*.json"))}


def without_clock(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in CLOCK_FIELDS}


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    """A server of this module's own: the lastcomments test moves it to its later state."""
    server = SiteServer(SITE)
    http = server.start()
    yield server
    http.shutdown()


def crawl(site: SiteServer, output: Path) -> subprocess.CompletedProcess[str]:
    state = ["--state", str(output.with_suffix(".state"))]
    return run([str(BIN / "newscrawler"), "crawl", site.url("/rss.xml"), "-o", str(output), "--tz", "Asia/Almaty", *state, *FAST])


@pytest.fixture(scope="module")
def first_crawl(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, list[str]]:
    output = tmp_path_factory.mktemp("comments") / "articles.jsonl"
    result = crawl(site, output)
    return result, output, list(site.requests)


def records_by_path(output: Path) -> dict[str, dict[str, Any]]:
    return {urlsplit(record["url"]).path: record for record in read_jsonl(output)}


def test_every_article_is_written_once_with_the_records_written_by_hand(first_crawl: tuple, site: SiteServer) -> None:
    result, output, _ = first_crawl
    assert result.returncode == 4, result.stderr[-3000:]  # finished, with one failure: 20504's missing comment page
    records = read_jsonl(output)
    want = expected_by_path(site)
    assert sorted(urlsplit(r["url"]).path for r in records) == sorted(want)
    for record in records:
        assert without_clock(record) == without_clock(want[urlsplit(record["url"]).path]), record["url"]


def test_the_72_comment_article_has_all_its_comments_correctly_threaded(first_crawl: tuple, site: SiteServer) -> None:
    _, output, _ = first_crawl
    record = records_by_path(output)[PARKING]
    want = expected(site, "20500-zhiteli-almaty-obsuzhdayut-platnuyu-parkovku.json")
    assert record["comment_count"] == len(record["comments"]) == 72
    assert [(c["id"], c["parent_id"]) for c in record["comments"]] == [(c["id"], c["parent_id"]) for c in want["comments"]]
    assert record["comments"] == want["comments"]
    assert record["warnings"] == []


def test_pages_2_and_3_come_from_the_json_endpoint_and_no_fallback_page_is_read(first_crawl: tuple) -> None:
    _, _, requests = first_crawl
    ajax = sorted(path for path in requests if path.startswith("/engine/ajax/controller.php") and "news_id=20500" in path)
    assert ajax == [
        "/engine/ajax/controller.php?mod=comments&cstart=2&news_id=20500&skin=Turan&massact=disable",
        "/engine/ajax/controller.php?mod=comments&cstart=3&news_id=20500&skin=Turan&massact=disable",
    ]
    assert not [path for path in requests if "page,1," in path and "20500" in path]
    assert not [path for path in requests if "news_id=20503" in path]  # 3 comments of 3: nothing to ask for


def test_without_the_endpoint_the_comment_pages_of_the_article_serve_the_rest(first_crawl: tuple, site: SiteServer) -> None:
    _, output, requests = first_crawl
    assert "/regions/page,1,2,20501-v-shymkente-otkryli-novyy-most.html" in requests
    record = records_by_path(output)[BRIDGE]
    assert record["comments"] == expected(site, "20501-v-shymkente-otkryli-novyy-most.json")["comments"]
    assert len(record["comments"]) == record["comment_count"] == 32


def test_without_a_counter_the_comment_navigation_says_there_are_more_pages(first_crawl: tuple, site: SiteServer) -> None:
    _, output, requests = first_crawl
    record = records_by_path(output)[SQUARE]
    assert "/engine/ajax/controller.php?mod=comments&cstart=2&news_id=20505&skin=Turan&massact=disable" in requests
    assert record["comment_count"] is None and record["warnings"] == []
    assert record["comments"] == expected(site, "20505-na-ploshchadi-ustanovyat-fontan.json")["comments"]
    assert len(record["comments"]) == 11


def test_a_counter_that_still_differs_is_warned_in_the_record_and_the_summary(first_crawl: tuple) -> None:
    result, output, _ = first_crawl
    record = records_by_path(output)[SCHOOL]
    assert (record["comment_count"], len(record["comments"])) == (15, 13)
    assert record["warnings"] == ["comment_count_mismatch: the page counts 15 comments, 13 were found"]
    assert "records whose comment counter differs from the comments found: 2" in result.stdout  # 20502 and 20504


def test_a_comment_page_that_cannot_be_had_is_a_failure_line_and_the_record_keeps_what_it_has(first_crawl: tuple) -> None:
    _, output, requests = first_crawl
    assert "/engine/ajax/controller.php?mod=comments&cstart=2&news_id=20504&skin=Turan&massact=disable" in requests
    (failure,) = read_jsonl(output.with_name("articles.failures.jsonl"))
    assert (urlsplit(failure["url"]).path, failure["stage"], failure["reason"], failure["status"]) == (
        "/regions/page,1,2,20504-uroven-vody-v-balkhashe.html", "comments", "http_404", 404)
    record = records_by_path(output)[LAKE]
    assert (record["comment_count"], len(record["comments"])) == (15, 10)
    assert record["warnings"] == ["comment_count_mismatch: the page counts 15 comments, 10 were found"]


def test_a_new_comment_listed_by_lastcomments_makes_a_new_version_of_that_article_only(
    first_crawl: tuple, site: SiteServer
) -> None:
    result, output, _ = first_crawl
    assert result.returncode == 4
    before = len(site.requests)
    site.later = True  # a reader replied on 20503 since: its page and the lastcomments listing show it
    try:
        again = crawl(site, output)
    finally:
        site.later = False
    assert again.returncode == 0, again.stderr[-3000:]
    full_text_feeds = ["/rssturbo.xml", "/rssdzen.xml"]  # a DLE feed brings them (404 on this site)
    assert sorted(site.requests[before:]) == sorted(["/robots.txt", "/rss.xml", *full_text_feeds, "/index.php?do=lastcomments", PRICES])
    new = [record for record in read_jsonl(output) if record["version"] > 1]
    assert [(urlsplit(r["url"]).path, r["version"], r["changed_fields"]) for r in new] == [(PRICES, 2, ["comments"])]
    want = expected(site, "later/20503-ceny-na-myaso-stabilizirovalis.json")
    assert without_clock(new[0]) == without_clock(want)
    assert [(c["id"], c["parent_id"]) for c in new[0]["comments"]] == [("7118", None), ("7119", "7118"), ("7300", "7118"), ("7120", None)]
