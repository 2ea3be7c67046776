"""reliability.md §A.5, the parsing and storage half: hostile feeds (13, 14, 21), URL traps (18), malformed HTML (20),
storage failures (26), version skew (29) and a memory ceiling (30). Real crawls of local fixture sites, as a user
runs them (`newscrawler crawl` in a subprocess), real SQLite; each test says which §A.5 number it covers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.measured import Measured, run_measured
from tests.site_server import SiteServer

BIN = Path(sys.executable).parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
HOSTILE_FEEDS = ["/xxe.xml", "/billion-laughs.xml", "/quadratic.xml", "/not-a-feed.xml", "/empty.xml", "/good.xml"]
SECRET = "SECRET-7f3a9c"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def hostile_crawl(hostile_xml_site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Measured, Path]:
    """One crawl of six feeds in a row: three hostile, two that are not feeds, and a good one last."""
    output = tmp_path_factory.mktemp("hostile") / "out.jsonl"
    feeds = [hostile_xml_site.url(path) for path in HOSTILE_FEEDS]
    command = [str(BIN / "newscrawler"), "crawl", *feeds, "-o", str(output), "--state", str(output.with_suffix(".state")),
               "--tz", "Asia/Almaty", *FAST]
    return run_measured(command), output


def titles(output: Path) -> list[str]:
    return sorted(record["title"] for record in read_jsonl(output))


def feed_failures(output: Path, site: SiteServer) -> dict[str, str]:
    lines = read_jsonl(output.with_name("out.failures.jsonl"))
    return {line["url"].removeprefix(site.base): line["reason"] for line in lines if line["stage"] == "feed"}


def test_a5_13_xxe_feed_is_read_without_expanding_its_external_entities(hostile_crawl: tuple, hostile_xml_site: SiteServer) -> None:
    result, output = hostile_crawl
    assert "Лента с внешней сущностью" in titles(output)  # the feed was parsed and its article stored
    everything = result.stdout + result.stderr + output.read_text(encoding="utf-8")
    everything += output.with_name("out.failures.jsonl").read_text(encoding="utf-8")
    assert SECRET not in everything
    assert "/secret.txt" not in hostile_xml_site.requests  # the entity naming a URL was not fetched either
    assert f"{hostile_xml_site.url('/xxe.xml')}: feed declares external entities: removed, not read" in result.stderr
    assert "warning feed/xml_external_entity: 1" in result.stdout


def test_a5_14_entity_bombs_are_refused_quickly_with_bounded_memory(hostile_crawl: tuple, hostile_xml_site: SiteServer) -> None:
    result, output = hostile_crawl
    failures = feed_failures(output, hostile_xml_site)
    assert failures["/billion-laughs.xml"] == failures["/quadratic.xml"] == "xml_entity_expansion"
    requested = set(hostile_xml_site.requests)
    assert "/news/2-bomba-iz-sushchnostey.html" not in requested
    assert "/news/3-kvadratichnyy-rost.html" not in requested
    assert "feed is malformed: its XML entities would expand past the limit (entity bomb)" in result.stderr
    # 10^9 "lol"s would be ~3 GB and the quadratic feed 40 MB; the whole crawl (Scrapy, trafilatura) stays small
    assert result.peak_rss_mb < 400, f"peak RSS {result.peak_rss_mb:.0f} MiB"
    print(f"A.5-14: crawl of 6 feeds {result.elapsed:.1f} s, peak RSS {result.peak_rss_mb:.0f} MiB")


def test_a5_14_an_entity_bomb_is_refused_in_well_under_a_second() -> None:
    """A bound, not a benchmark: expanding either bomb would take minutes and gigabytes."""
    import time

    from newscrawler.feeds import FeedError, read_feed

    root = Path(__file__).resolve().parent.parent / "fixtures" / "sites" / "hostile-xml"
    for name in ("billion-laughs.xml", "quadratic.xml"):
        started = time.monotonic()
        with pytest.raises(FeedError, match="xml_entity_expansion"):
            read_feed((root / name).read_bytes(), "http://127.0.0.1:9/" + name)
        assert time.monotonic() - started < 1.0


def test_a5_21_feeds_that_are_not_feeds_fail_with_their_url_and_the_crawl_goes_on(
    hostile_crawl: tuple, hostile_xml_site: SiteServer
) -> None:
    result, output = hostile_crawl
    assert result.returncode == 4, result.stderr[-3000:]  # finished, with failures
    failures = feed_failures(output, hostile_xml_site)
    assert failures == {
        "/billion-laughs.xml": "xml_entity_expansion",
        "/quadratic.xml": "xml_entity_expansion",
        "/not-a-feed.xml": "not_rss_or_atom",
        "/empty.xml": "empty_feed",
    }
    assert f"{hostile_xml_site.url('/not-a-feed.xml')}: feed is not RSS/Atom" in result.stderr
    assert f"{hostile_xml_site.url('/empty.xml')}: feed is empty (0 bytes)" in result.stderr
    assert titles(output) == ["Лента с внешней сущностью", "Обычная лента"]  # the good feed after all the bad ones
