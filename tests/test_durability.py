"""Durable state end to end: killed runs resume with nothing lost or doubled, unchanged sites cost only their feeds,
changed articles become new versions, runs on one state exclude each other. Real crawls in subprocesses, real SQLite."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newscrawler.state import make_state
from newscrawler.state.postgres import is_postgres_url
from tests.generated_site import ARTICLE_PATH, FIRST_ID, GeneratedSite, serve_generated
from tests.record_schema import assert_valid_records
from tests.site_server import ALLOW_LOOPBACK

BIN = Path(sys.executable).parent
PAGES = 300


@pytest.fixture
def site() -> Iterator[GeneratedSite]:
    # 0.1 s a page at 8 at a time: a crawl of about 4 s, so a stop sent after the first third lands before the end
    # even when a loaded machine delays the test's polling
    with serve_generated(pages=PAGES, delay=0.1) as served:
        yield served


def crawl_command(site: GeneratedSite, tmp_path: Path, state: str, *extra: str) -> list[str]:
    return [
        str(BIN / "newscrawler"), "crawl", site.url("/rss.xml"), "-o", str(tmp_path / "out.jsonl"), "--tz", "Asia/Almaty",
        "--state", state, "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "NEWSCRAWLER_EXPORT_BATCH=10", *ALLOW_LOOPBACK, *extra,
    ]


def crawl(site: GeneratedSite, tmp_path: Path, state: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(crawl_command(site, tmp_path, state, *extra), capture_output=True, text=True, timeout=300)


def stored_versions(state: str) -> int:
    """Record versions in the store, read as an operator would while the crawl runs."""
    if not is_postgres_url(state) and not (Path(state) / "state.sqlite3").exists():
        return 0
    store = make_state(state).open()
    try:
        return store.counts()["record_versions"]
    finally:
        store.close()


def lines(tmp_path: Path) -> list[dict]:
    return assert_valid_records([json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()])


def descendants(pid: int) -> set[int]:
    """Every live process below pid, read from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "signals",
    [[signal.SIGKILL], [signal.SIGTERM], [signal.SIGTERM, signal.SIGTERM]],
    ids=["kill-9", "one-sigterm", "two-sigterms"],
)
def test_a_stopped_crawl_resumes_and_stores_every_article_exactly_once(
    site: GeneratedSite, tmp_path: Path, state_location: str, signals: list[int]
) -> None:
    first = subprocess.Popen(crawl_command(site, tmp_path, state_location), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: stored_versions(state_location) >= PAGES // 3)
    helpers = descendants(first.pid)  # the extraction workers
    assert helpers
    for number in signals:
        first.send_signal(number)
        time.sleep(0.1)
    first.wait(timeout=60)
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers), timeout=10)  # no orphan left
    assert stored_versions(state_location) < PAGES, "the crawl finished before it was stopped: slow the site down"
    resumed = crawl(site, tmp_path, state_location)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    records = lines(tmp_path)
    assert len(records) == PAGES
    assert len({r["id"] for r in records}) == PAGES
    assert {r["version"] for r in records} == {1}
    assert stored_versions(state_location) == PAGES


def test_a_second_run_over_an_unchanged_site_fetches_no_article_and_writes_nothing(
    site: GeneratedSite, tmp_path: Path, state_location: str
) -> None:
    assert crawl(site, tmp_path, state_location).returncode == 0
    before = len(site.requests)
    second = crawl(site, tmp_path, state_location)
    assert second.returncode == 0, second.stderr[-3000:]
    assert not [path for path in site.requests[before:] if ARTICLE_PATH.fullmatch(path)]
    assert "records written: 0" in second.stdout
    assert "feeds not modified: 1" in second.stdout  # a conditional request, answered 304
    assert len(lines(tmp_path)) == PAGES


def test_edited_and_commented_articles_get_exactly_one_new_version_each(
    site: GeneratedSite, tmp_path: Path, state_location: str
) -> None:
    assert crawl(site, tmp_path, state_location).returncode == 0
    site.edit(FIRST_ID, "Редакция дополнила материал.")
    site.add_comment(FIRST_ID + 1, "Новый комментарий читателя.")
    refreshed = crawl(site, tmp_path, state_location, "--refresh")
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    new = [r for r in lines(tmp_path) if r["version"] > 1]
    assert sorted((r["title"], r["version"], r["changed_fields"]) for r in new) == [
        (f"Новость номер {FIRST_ID}", 2, ["body"]),
        (f"Новость номер {FIRST_ID + 1}", 2, ["comments"]),
    ]
    first_versions = {r["id"]: r for r in lines(tmp_path) if r["version"] == 1}
    assert all(r["previous_version_hash"] == first_versions[r["id"]]["content_hash"] for r in new)
    assert len(lines(tmp_path)) == PAGES + 2


def test_a_second_run_on_the_same_state_exits_at_once_naming_the_holder(
    site: GeneratedSite, tmp_path: Path, state_location: str
) -> None:
    slow = crawl_command(site, tmp_path, state_location, "-s", "DOWNLOAD_DELAY=0.06")  # holds the lock 18 s: see below
    first = subprocess.Popen(slow, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: stored_versions(state_location) > 0)
        second = crawl(site, tmp_path, state_location)
        assert second.returncode == 3
        assert f"already running (lock held by PID {first.pid}" in second.stderr
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0


def test_a_state_directory_of_an_older_schema_stops_before_any_request(site: GeneratedSite, tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        db.executescript("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '0');")
    result = crawl(site, tmp_path, str(tmp_path / "state"))
    assert result.returncode == 2
    assert "has schema version 0, this newscrawler reads version 1" in result.stderr
    assert site.requests == []


def test_export_rewrites_a_jsonl_from_the_store_by_site_and_time(site: GeneratedSite, tmp_path: Path, state_location: str) -> None:
    assert crawl(site, tmp_path, state_location).returncode == 0
    export = tmp_path / "export.jsonl"
    command = [str(BIN / "newscrawler"), "export", "-o", str(export), "--state", state_location]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert export.read_text(encoding="utf-8") == (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    site_name = lines(tmp_path)[0]["site"]
    for extra, count in ((["--site", site_name], PAGES), (["--site", "other.kz"], 0), (["--since", "2999-01-01T00:00:00+00:00"], 0)):
        result = subprocess.run(command + extra, capture_output=True, text=True, timeout=60)
        assert f"{count} record versions written" in result.stdout
        assert len(export.read_text(encoding="utf-8").splitlines()) == count


def test_one_article_under_three_urls_is_one_record_with_its_other_urls_as_aliases(
    site: GeneratedSite, tmp_path: Path, state_location: str
) -> None:
    assert crawl(site, tmp_path, state_location).returncode == 0
    news_id = FIRST_ID + 5
    canonical = site.url(f"/news/{news_id}-statya-{news_id}.html")
    moved = site.url(f"/arhiv/{news_id}-staryi-zagolovok.html")  # an old category and slug: DLE answers 301
    site.add_feed_link(news_id, f"/arhiv/{news_id}-staryi-zagolovok.html")
    site.add_feed_link(news_id, f"/news/{news_id}-statya-{news_id}.html?utm_source=telegram&utm_medium=social")
    second = crawl(site, tmp_path, state_location)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "records written: 0" in second.stdout
    assert "duplicates: 1 " in second.stdout  # the utm_ variant is the canonical URL once normalised
    records = [r for r in lines(tmp_path) if r["canonical_url"] == canonical]
    assert len(records) == 1
    store = make_state(state_location).open()
    try:
        aliases = {url for url, in store.query("SELECT url FROM aliases WHERE record_id = ?", (records[0]["id"],))}
        (state,) = store.query("SELECT state FROM urls WHERE url = ?", (moved,))[0]
    finally:
        store.close()
    assert aliases == {canonical, moved}
    assert state == "stored"


def test_scrapy_crawl_on_a_held_state_stops_naming_the_holder(site: GeneratedSite, tmp_path: Path) -> None:
    site.delay = 0.3  # `scrapy crawl` takes seconds to start on a loaded machine: the first run must still hold the lock
    state = str(tmp_path / "state")
    # 300 pages 0.06 s apart: the first crawl holds the lock for 18 s, longer than the second takes to start on a
    # loaded machine (with no delay, Scrapy 2.19 starts every queued request at once and the crawl ends in seconds).
    slow = crawl_command(site, tmp_path, state, "-s", "DOWNLOAD_DELAY=0.06")
    first = subprocess.Popen(slow, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: stored_versions(state) > 0)
        command = [str(BIN / "scrapy"), "crawl", "feed", "-a", f"url={site.url('/rss.xml')}", "-s", f"NEWSCRAWLER_STATE={state}",
                   "-O", str(tmp_path / "scrapy.jsonl"), *ALLOW_LOOPBACK]
        second = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent)
        assert f"already running (lock held by PID {first.pid}" in second.stderr
        assert not (tmp_path / "scrapy.jsonl").exists() or not (tmp_path / "scrapy.jsonl").read_text()
    finally:
        first.wait(timeout=120)
