"""End-to-end crawls through Scrapy's engine, run as a user runs them (a subprocess), against local fixture sites."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fixture_cases import CASES, read_json
from tests.record_schema import assert_valid_records
from tests.site_server import ALLOW_LOOPBACK, SiteServer

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parent.parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *ALLOW_LOOPBACK]
# Fields that depend on the moment of the crawl or on which source a date came from (unit tests pin them).
CLOCK_FIELDS = frozenset({"fetched_at", "published_at_raw", "id", "content_hash"})
FIRST_VERSION = {"version": 1, "previous_version_hash": None, "changed_fields": [], "duplicate_of": None}
# What the crawl notes about the fetch of a UTF-8 page with all its comments (extract() alone leaves them unset).
PLAIN_FETCH = {"charset": "utf-8", "charset_fixup": None, "warnings": []}


def state_of(output: Path) -> list[str]:
    """A state directory beside the test's output, so no test sees another's store."""
    return ["--state", str(output.with_suffix(".state"))]


def run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=cwd)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    text = path.read_bytes().decode("utf-8")  # raises on invalid UTF-8
    assert "\\u" not in text, "JSONL must be plain UTF-8, not \\u escapes"
    lines = [json.loads(line) for line in text.splitlines()]
    return lines if path.name.endswith(".failures.jsonl") else assert_valid_records(lines)


def expected_records(site: SiteServer) -> dict[str, dict[str, Any]]:
    """Expected records of a site by URL path, with the placeholder host replaced by the server's."""
    found = {}
    for case in CASES:
        if case.parent.parent.name == site.name:
            text = case.read_text(encoding="utf-8").replace(site.placeholder, site.base)
            expected = json.loads(text)
            expected["site"] = urlsplit(site.base).netloc  # an unconfigured crawl names a site by its host
            if expected["title"]:
                found[urlsplit(expected["url"]).path] = expected
    return found


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without clock-dependent fields (comment dates may be relative to the crawl's clock), as a first version."""
    kept = PLAIN_FETCH | {key: value for key, value in record.items() if key not in CLOCK_FIELDS} | FIRST_VERSION
    kept["comments"] = [{k: v for k, v in c.items() if k not in ("published_at", "published_at_raw")} for c in record["comments"]]
    return kept


@pytest.fixture(scope="module")
def dle_crawl(dle_site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    output = tmp_path_factory.mktemp("crawl") / "articles.jsonl"
    result = run([str(BIN / "newscrawler"), "crawl", dle_site.url("/rss.xml"), "-o", str(output), "--tz", "Asia/Almaty", *state_of(output), *FAST])
    return result, output


def test_crawl_writes_every_expected_record_exactly_once(dle_crawl: tuple, dle_site: SiteServer) -> None:
    result, output = dle_crawl
    assert result.returncode == 4, result.stderr[-3000:]  # finished, with failures (the 404 and the untitled page)
    records = read_jsonl(output)
    paths = [urlsplit(record["canonical_url"]).path for record in records]
    expected = expected_records(dle_site)
    assert sorted(paths) == sorted(expected)
    for record in records:
        want = expected[urlsplit(record["canonical_url"]).path]
        assert comparable(record) == comparable(want), record["url"]


def test_crawl_dates_come_from_json_ld_then_the_feed_pubdate(dle_crawl: tuple, dle_site: SiteServer) -> None:
    _, output = dle_crawl
    expected = expected_records(dle_site)
    for record in read_jsonl(output):
        path = urlsplit(record["url"]).path
        assert record["published_at"] == expected[path]["published_at"], record["url"]
        if "application/ld+json" in (dle_site.root / path.lstrip("/")).read_text(encoding="utf-8"):
            assert record["published_at_raw"] == expected[path]["published_at_raw"]
        else:  # the feed's RFC 2822 pubDate, with the server's offset
            assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0[56]00", record["published_at_raw"])


def test_failures_file_holds_the_404_and_the_page_without_title(dle_crawl: tuple, dle_site: SiteServer) -> None:
    _, output = dle_crawl
    failures = read_jsonl(output.with_name("articles.failures.jsonl"))
    found = sorted((urlsplit(f["url"]).path, f["stage"], f["reason"], f["status"]) for f in failures)
    no_title = [urlsplit(read_json(c)["url"]).path for c in CASES if c.parent.parent.name == "dle-kz" and not read_json(c)["title"]]
    assert found == sorted([
        ("/regions/99999-udalennaya-novost.html", "download", "http_404", 404),
        *((path, "validate", "missing_title", 200) for path in no_title),
    ])
    assert all(f["time"].endswith("+00:00") for f in failures)


def test_crawl_prints_a_run_summary(dle_crawl: tuple, dle_site: SiteServer) -> None:
    result, _ = dle_crawl
    records = len(expected_records(dle_site))
    assert f"records written: {records}" in result.stdout
    assert "duplicates: 1 " in result.stdout  # the feed item repeated with ?utm_source=
    assert "download/http_404: 1" in result.stdout
    assert "validate/missing_title: 1" in result.stdout


def test_generic_site_through_an_atom_feed(generic_site: SiteServer, tmp_path: Path) -> None:
    output = tmp_path / "generic.jsonl"
    result = run([str(BIN / "newscrawler"), "crawl", generic_site.url("/feed.atom"), "-O", str(output), *state_of(output), *FAST])
    assert result.returncode == 0, result.stderr[-3000:]
    expected = expected_records(generic_site)
    records = read_jsonl(output)
    assert sorted(urlsplit(r["url"]).path for r in records) == sorted(expected)
    for record in records:
        want = expected[urlsplit(record["url"]).path]
        assert comparable(record) == comparable(want), record["url"]


def test_scrapy_crawl_from_the_project_root(dle_site: SiteServer, tmp_path: Path) -> None:
    output = tmp_path / "scrapy.jsonl"
    args = [str(BIN / "scrapy"), "crawl", "feed", "-a", f"url={dle_site.url('/rss.xml')}", "-a", "tz=Asia/Almaty", "-O", str(output), "-s", f"NEWSCRAWLER_STATE={tmp_path / 'state'}", *FAST]
    result = run(args, cwd=PROJECT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(read_jsonl(output)) == len(expected_records(dle_site))
    assert len(read_jsonl(tmp_path / "scrapy.failures.jsonl")) == 2


def test_scrapy_list_names_the_feed_spider() -> None:
    result = run([str(BIN / "scrapy"), "list"], cwd=PROJECT)
    assert result.stdout.split() == ["feed"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl", "ftp://example.invalid/rss.xml", "-o", "a.jsonl"], "is not an http(s) URL"),
        (["crawl", "http://127.0.0.1:9/rss.xml", "-o", "a.jsonl", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["crawl", "http://127.0.0.1:9/rss.xml"], "give -o FILE (append) or -O FILE (replace) for the records"),
        (["crawl", "http://127.0.0.1:9/rss.xml", "-o", "/nonexistent/dir/a.jsonl"], "output directory /nonexistent/dir does not exist"),
        (["crawl", "http://127.0.0.1:9/rss.xml", "-o", "a.jsonl", "-s", "DOWNLOAD_DELAY"], "write a Scrapy setting as NAME=VALUE"),
        (["crawl", "http://127.0.0.1:9/rss.xml", "-o", "a.jsonl", "-s", "NEWSCRAWLER_ALLOWED_ADDRESSES=localhost"],
         "NEWSCRAWLER_ALLOWED_ADDRESSES: 'localhost' does not appear to be an IPv4 or IPv6 network; write addresses"),
    ],
)
def test_wrong_arguments_stop_at_once_with_a_fix(args: list[str], message: str, tmp_path: Path) -> None:
    result = run([str(BIN / "newscrawler"), *args], cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert not list(tmp_path.iterdir())


def test_bad_pages_each_become_one_failure_line_and_the_crawl_goes_on(broken_site: SiteServer, tmp_path: Path) -> None:
    output = tmp_path / "broken.jsonl"
    result = run([str(BIN / "newscrawler"), "crawl", broken_site.url("/rss.xml"), "-o", str(output), *state_of(output), *FAST])
    assert result.returncode == 4, result.stderr[-3000:]
    assert [r["title"] for r in read_jsonl(output)] == ["Хорошая новость"]
    lines = read_jsonl(tmp_path / "broken.failures.jsonl")
    # feedparser rewrites file:///etc/passwd as file://etc/passwd; the scheme is what matters here
    failures = sorted((f["url"].replace(broken_site.base, "").split("//")[0], f["stage"], f["reason"], f["status"]) for f in lines)
    assert failures == [
        ("/__status/500/news/2-server-padaet.html", "download", "http_500", 500),
        ("/__status/503/news/3-servis-nedostupen.html", "download", "http_503", 503),
        ("/news/photo.png", "extract", "not_html", 200),
        ("/private/6-zakryto.html", "download", "robots_disallowed", None),
        ("file:", "feed", "scheme_not_allowed", None),
    ]
    assert broken_site.requests.count("/__status/500/news/2-server-padaet.html") == 3  # retried twice, then given up
    assert "/private/6-zakryto.html" not in broken_site.requests


@pytest.mark.parametrize(("feed", "reason"), [("/not-a-feed.xml", "not_rss_or_atom"), ("/empty.xml", "empty_feed"), ("/missing.xml", "http_404")])
def test_a_feed_that_gives_nothing_is_a_failure_with_its_reason(broken_site: SiteServer, tmp_path: Path, feed: str, reason: str) -> None:
    output = tmp_path / "feed.jsonl"
    result = run([str(BIN / "newscrawler"), "crawl", broken_site.url(feed), "-o", str(output), *state_of(output), *FAST])
    assert result.returncode == 4, result.stderr[-3000:]
    (failure,) = read_jsonl(tmp_path / "feed.failures.jsonl")
    assert (failure["url"], failure["stage"], failure["reason"]) == (broken_site.url(feed), "feed", reason)
    assert f"feed/{reason}: 1" in result.stdout
    assert output.read_text(encoding="utf-8") == ""


def test_an_unreachable_feed_is_a_connection_failure(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    output = tmp_path / "down.jsonl"
    result = run([str(BIN / "newscrawler"), "crawl", f"http://127.0.0.1:{port}/rss.xml", "-o", str(output), *state_of(output), *FAST])
    assert result.returncode == 4, result.stderr[-3000:]
    (failure,) = read_jsonl(tmp_path / "down.failures.jsonl")
    assert (failure["stage"], failure["reason"], failure["status"]) == ("feed", "connection_refused", None)


def test_a_second_crawl_fetches_only_what_failed_and_writes_nothing(dle_site: SiteServer, tmp_path: Path) -> None:
    output = tmp_path / "twice.jsonl"
    command = [str(BIN / "newscrawler"), "crawl", dle_site.url("/rss.xml"), "-o", str(output), "--tz", "Asia/Almaty", *state_of(output), *FAST]
    assert run(command).returncode == 4
    before = len(dle_site.requests)
    again = run(command)
    assert again.returncode == 4, again.stderr[-3000:]
    assert "records written: 0" in again.stdout
    assert "duplicates: 1 " in again.stdout  # the utm_ item only: a retried URL is requested once
    untitled = [urlsplit(read_json(c)["url"]).path for c in CASES if c.parent.parent.name == "dle-kz" and not read_json(c)["title"]]
    # a DLE feed brings its full-text feeds and the lastcomments listing
    feeds = ("/robots.txt", "/rss.xml", "/rssturbo.xml", "/rssdzen.xml", "/index.php?do=lastcomments")
    articles = [path for path in dle_site.requests[before:] if path not in feeds]
    assert articles == untitled  # retried (attempts left); the 404 is gone, the stored articles are not due
