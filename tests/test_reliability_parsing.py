"""reliability.md §A.5, the parsing and storage half: hostile feeds (13, 14, 21), URL traps (18), malformed HTML (20),
storage failures (26), version skew (29) and a memory ceiling (30). Real crawls of local fixture sites, as a user
runs them (`newscrawler crawl` in a subprocess), real SQLite; each test says which §A.5 number it covers."""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import scrapy

from newscrawler.state import make_state
from tests.generated_site import GeneratedSite, serve_generated
from tests.measured import Measured, run_measured
from tests.site_server import ALLOW_LOOPBACK, SiteServer
from tests.trap_site import ARTICLE, CALENDAR, FIRST_DAY, REPEATED, TrapSite, serve_traps

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parent.parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *ALLOW_LOOPBACK]
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
    with closing(sqlite3.connect(output.with_suffix(".state") / "state.sqlite3")) as db:  # and kept with the run
        (summary,) = db.execute("SELECT summary FROM runs").fetchone()
    assert json.loads(summary)["warnings_by_reason"] == {"feed/not_well_formed": 1, "feed/xml_external_entity": 1}


def test_a5_14_entity_bombs_are_refused_quickly_with_bounded_memory(hostile_crawl: tuple, hostile_xml_site: SiteServer) -> None:
    result, output = hostile_crawl
    failures = feed_failures(output, hostile_xml_site)
    assert failures["/billion-laughs.xml"] == failures["/quadratic.xml"] == "xml_entity_expansion"
    requested = set(hostile_xml_site.requests)
    assert "/news/2-bomba-iz-sushchnostey.html" not in requested
    assert "/news/3-kvadratichnyy-rost.html" not in requested
    assert "feed is malformed: its XML entities would expand past the limit (entity bomb)" in result.stderr
    # 10^9 "lol"s would be ~3 GB and the quadratic feed 40 MB (+160 MiB through feedparser: benchmarks/hostile_xml.py)
    assert result.peak_rss_mb < 250, f"peak RSS {result.peak_rss_mb:.0f} MiB"
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
        ":99999/news/5-plohaya-ssylka.html": "invalid_url",  # one bad link does not stop its feed
        "http://[::1/news/6-bitaya-ssylka.html": "invalid_url",  # nor one urlsplit cannot split
    }
    assert f"{hostile_xml_site.url('/not-a-feed.xml')}: feed is not RSS/Atom" in result.stderr
    assert f"{hostile_xml_site.url('/empty.xml')}: feed is not RSS/Atom: it is empty" in result.stderr
    assert titles(output) == ["Лента с внешней сущностью", "Обычная лента"]  # the good feed after all the bad ones


# --- 20: malformed HTML ---------------------------------------------------------------------------------------
MALFORMED = {  # written from the pages: what a reader sees in each, whatever the markup
    "/news/1-nezakrytye-tegi.html": ("Незакрытые теги", "2022-11-25T10:00:00+06:00", [
        "Первый абзац статьи, у которого нет закрывающего тега.",
        "Второй абзац с жирным текстом, который тоже не закрыт.",
        "Третий абзац: ссылка без конца"]),
    "/news/2-nul-bayt.html": ("Нулевой байт", "2022-11-25T11:00:00+06:00", [
        "Сервер вставил в страницу нулевой байт посреди текста.",
        "Абзац после него тоже должен попасть в запись."]),
    "/news/3-stranica-bez-konca.html": ("Страница без конца", "2022-11-25T12:00:00+06:00", [
        "У этой страницы нет закрывающих тегов body и html.",
        "Сервер оборвал шаблон после текста статьи."]),
    "/news/4-glubokoe-derevo.html": ("Глубокое дерево", "2022-11-25T13:00:00+06:00", [
        "Текст статьи лежит внутри трёхсот вложенных блоков, а за ним ещё пять тысяч.",
        "Вложенность не должна ни уронить краулер, ни потерять этот текст."]),
}


def test_a5_20_malformed_pages_give_their_fields_and_an_untitled_page_a_failure_line(
    malformed_site: SiteServer, tmp_path: Path
) -> None:
    output = tmp_path / "out.jsonl"
    result = run_measured([str(BIN / "newscrawler"), "crawl", malformed_site.url("/rss.xml"), "-o", str(output),
                           "--state", str(tmp_path / "state"), "--tz", "Asia/Almaty", *FAST])
    assert result.returncode == 4, result.stderr[-3000:]  # finished, with one failure
    assert "Traceback" not in result.stderr
    records = {record["url"].removeprefix(malformed_site.base): record for record in read_jsonl(output)}
    assert set(records) == set(MALFORMED)
    for path, (title, published_at, paragraphs) in MALFORMED.items():
        record = records[path]
        assert (record["title"], record["published_at"], record["body"].split("\n\n")) == (title, published_at, paragraphs), path
        assert "\x00" not in json.dumps(record, ensure_ascii=False)
    (failure,) = read_jsonl(tmp_path / "out.failures.jsonl")
    assert (failure["url"], failure["stage"], failure["reason"]) == (malformed_site.url("/news/5-bez-zagolovka.html"), "validate", "missing_title")
    print(f"A.5-20: 5 malformed pages crawled in {result.elapsed:.1f} s, peak RSS {result.peak_rss_mb:.0f} MiB")


# --- 18: URL traps and session ids ----------------------------------------------------------------------------


def test_a5_18_session_id_variants_are_one_article_and_a_repeated_path_is_refused(tmp_path: Path) -> None:
    with serve_traps() as site:
        output = tmp_path / "out.jsonl"
        result = run_measured([str(BIN / "newscrawler"), "crawl", site.url("/rss.xml"), "-o", str(output),
                               "--state", str(tmp_path / "state"), "--tz", "Asia/Almaty", *FAST])
        requested = list(site.requests)
    assert result.returncode in (0, 4), result.stderr[-3000:]
    assert [path for path in requested if path.startswith("/news/1-")] == [ARTICLE]  # once, without the session id
    assert [r["title"] for r in read_jsonl(output) if r["url"] == site.url(ARTICLE)] == ["Статья о ловушках"]
    assert "duplicates: 3 " in result.stdout
    assert REPEATED not in requested
    failures = {(f["url"], f["reason"]) for f in read_jsonl(tmp_path / "out.failures.jsonl")}
    assert (site.url(REPEATED), "trap_repeated_segment") in failures


def walk_calendar(site: TrapSite, tmp_path: Path, *settings: str) -> Measured:
    """CalendarWalker through the project's settings, as `scrapy runspider` from the project root runs it."""
    command = [str(BIN / "scrapy"), "runspider", str(PROJECT / "tests" / "trap_site.py"), "-a", f"url={site.url(f'/calendar/{FIRST_DAY}/')}",
               "-s", f"NEWSCRAWLER_STATE={tmp_path / 'state'}", "-s", f"NEWSCRAWLER_FAILURES_PATH={tmp_path / 'failures.jsonl'}",
               *FAST, *settings]
    return run_measured(command, timeout=120, cwd=PROJECT)


def calendar_days(site: TrapSite) -> list[str]:
    return [path for path in site.requests if CALENDAR.fullmatch(path)]


def test_a5_18_an_endless_calendar_stops_at_the_depth_limit(tmp_path: Path) -> None:
    with serve_traps() as site:
        result = walk_calendar(site, tmp_path, "-s", "DEPTH_LIMIT=30")
        days = calendar_days(site)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(days) == 31 == len(set(days))  # the start page and 30 links on
    (failure,) = read_jsonl(tmp_path / "failures.jsonl")
    assert (failure["url"].removeprefix(site.base), failure["reason"]) == (f"/calendar/{FIRST_DAY + timedelta(days=31)}/", "depth_limit")
    print(f"A.5-18: calendar trap ended at depth 30 after {len(days)} requests, {result.elapsed:.1f} s")


def test_a5_18_an_endless_calendar_stops_at_the_site_page_budget(tmp_path: Path) -> None:
    with serve_traps() as site:
        result = walk_calendar(site, tmp_path, "-s", "DEPTH_LIMIT=0", "-s", "NEWSCRAWLER_MAX_PAGES_PER_SITE=25")
        days = calendar_days(site)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(days) == 25
    assert "reached its page budget of 25 requests this run" in result.stderr
    print(f"A.5-18: calendar trap ended at the page budget after {len(days)} requests, {result.elapsed:.1f} s")


# --- 29: version skew -----------------------------------------------------------------------------------------


def test_a5_29_a_jobdir_of_other_versions_stops_at_start_without_a_pickle_traceback(tmp_path: Path) -> None:
    with serve_generated(pages=20) as site:
        jobdir = tmp_path / "job"
        first = run_measured(generated_crawl(site, tmp_path / "out.jsonl", tmp_path / "state", "-s", f"JOBDIR={jobdir}"))
        assert first.returncode == 0, first.stderr[-3000:]  # a JOBDIR works with the feed spider and gets a stamp
        stamp = json.loads((jobdir / "newscrawler-version.json").read_text(encoding="utf-8"))
        assert stamp["scrapy"] == scrapy.__version__
        (jobdir / "newscrawler-version.json").write_text(json.dumps({**stamp, "scrapy": "2.11.0"}), encoding="utf-8")
        before = len(site.requests)
        skewed = run_measured(generated_crawl(site, tmp_path / "out.jsonl", tmp_path / "state", "-s", f"JOBDIR={jobdir}"))
        assert skewed.returncode == 2
        assert f"JOBDIR {jobdir} was written by newscrawler {stamp['newscrawler']}, scrapy 2.11.0" in skewed.stderr
        assert "Remove the directory (the state store keeps every URL, so nothing is lost)" in skewed.stderr
        assert "Traceback" not in skewed.stderr
        assert len(site.requests) == before  # stopped before any request


def test_a5_29_a_jobdir_without_a_stamp_holding_foreign_pickles_stops_at_start(tmp_path: Path) -> None:
    jobdir = tmp_path / "job"
    queue = jobdir / "requests.queue" / "0"
    queue.mkdir(parents=True)
    (queue / "q00000").write_bytes(pickle.dumps({"url": "http://127.0.0.1:9/a"}) + b"cscrapy.http.request\nOldRequest\n")
    (jobdir / "requests.seen").write_text("0" * 40 + "\n")
    with serve_generated(pages=5) as site:
        result = run_measured(generated_crawl(site, tmp_path / "out.jsonl", tmp_path / "state", "-s", f"JOBDIR={jobdir}"))
        assert result.returncode == 2
        assert f"JOBDIR {jobdir} was written by a version that left no stamp" in result.stderr
        assert "Traceback" not in result.stderr and site.requests == []


def test_a5_29_a_state_of_a_newer_schema_stops_at_start(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    with closing(sqlite3.connect(tmp_path / "state" / "state.sqlite3")) as db:
        db.executescript("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '7');")
    with serve_generated(pages=5) as site:
        result = run_measured(generated_crawl(site, tmp_path / "out.jsonl", tmp_path / "state"))
        assert result.returncode == 2
        assert "has schema version 7, this newscrawler reads version 1" in result.stderr
        assert "Traceback" not in result.stderr and site.requests == []


# --- 26: storage failures -------------------------------------------------------------------------------------


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A real small file system (tmpfs) mounted for the test; skipped where mounting is not allowed."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); run as root to test a full disk")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def generated_crawl(site: GeneratedSite, output: Path, state: Path, *extra: str) -> list[str]:
    return [str(BIN / "newscrawler"), "crawl", site.url("/rss.xml"), "-o", str(output), "--state", str(state),
            "--tz", "Asia/Almaty", *FAST, "-s", "NEWSCRAWLER_EXPORT_BATCH=10", *extra]


def stored_without_record(state: Path) -> int:
    with closing(sqlite3.connect(f"file:{state / 'state.sqlite3'}?mode=ro", uri=True)) as db:
        return db.execute("SELECT count(*) FROM urls u WHERE state = 'stored' AND NOT EXISTS "
                          "(SELECT 1 FROM records r WHERE r.id = u.record_id)").fetchone()[0]


def test_a5_26_a_full_disk_stops_the_run_naming_the_path_and_a_rerun_completes(tmp_path: Path) -> None:
    pages = 300
    with serve_generated(pages=pages) as site, tmpfs(tmp_path / "disk", "size=2m") as disk:
        output, state = disk / "out.jsonl", disk / "state"
        first = run_measured(generated_crawl(site, output, state))
        assert first.returncode == 6, first.stderr[-3000:]
        message = next(line for line in first.stderr.splitlines() if "newscrawler: cannot write" in line)
        assert str(disk) in message and ("No space left on device" in message or "database or disk is full" in message)
        assert "run the same command again" in message
        stored_first = len(store_lines(state))
        assert 0 < stored_first < pages, "the disk must fill mid-crawl: change the tmpfs size"
        assert stored_without_record(state) == 0  # nothing marked done without its record
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)  # free space
        second = run_measured(generated_crawl(site, output, state))
        assert second.returncode == 0, second.stderr[-3000:]
        records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
        assert len(records) == pages and len({r["id"] for r in records}) == pages
        assert len(store_lines(state)) == pages
        print(f"A.5-26: disk full after {stored_first} of {pages} stored ({first.elapsed:.1f} s); rerun {second.elapsed:.1f} s")


def test_a5_26_a_read_only_output_or_state_directory_stops_the_run_before_any_request(tmp_path: Path) -> None:
    with serve_generated(pages=5) as site, tmpfs(tmp_path / "ro", "ro,size=64k") as read_only:
        result = run_measured(generated_crawl(site, read_only / "out.jsonl", tmp_path / "state"))
        assert result.returncode == 6
        assert f"newscrawler: cannot write {read_only}: read-only file system" in result.stderr
        state_on_read_only = run_measured(generated_crawl(site, tmp_path / "out.jsonl", read_only))
        assert state_on_read_only.returncode == 2
        assert f"state directory {read_only} is not writable" in state_on_read_only.stderr
        assert site.requests == []


def store_lines(state: Path) -> list[str]:
    store = make_state(state).open()
    try:
        return store.export_lines()
    finally:
        store.close()


# --- 30: memory ceiling ---------------------------------------------------------------------------------------


def url_states(state: Path) -> dict[str, int]:
    store = make_state(state).open()
    try:
        return store.counts()
    finally:
        store.close()


def stopped_after_discovery(site: GeneratedSite, tmp_path: Path, idle_mb: float) -> tuple[int, Path, Path, Measured]:
    """A first run stopped by its memory limit once the feed's URLs are in the store: the limit, output, state, run.

    Reading a 5 000-item feed and queueing its requests takes ~30 MiB more than an idle crawl, so a limit 12 MiB over
    idle falls mid-crawl; but the check runs once a second, and on a slow machine it can fall while the full-text
    feeds are asked for, before the URLs are stored (a rerun then reads the feed again: nothing is lost, but nothing
    is tested). Then the limit goes up, on a fresh state.
    """
    for margin in (12, 24, 36, 48):
        limit, output, state = int(idle_mb) + margin, tmp_path / f"out-{margin}.jsonl", tmp_path / f"state-{margin}"
        first = run_measured(generated_crawl(site, output, state, "-s", f"MEMUSAGE_LIMIT_MB={limit}",
                                             "-s", "MEMUSAGE_CHECK_INTERVAL_SECONDS=1"), timeout=400)
        assert first.returncode == 1, first.stderr[-3000:]  # did not finish: run it again
        assert "(memusage_exceeded)" in first.stdout
        assert "Traceback" not in first.stderr
        if sum(count for name, count in url_states(state).items() if name != "record_versions"):
            return limit, output, state, first
    raise AssertionError(f"every limit up to {limit} MiB stopped the crawl before its URLs were stored")


@pytest.mark.timeout(900)
def test_a5_30_a_run_past_its_memory_limit_closes_cleanly_and_the_rerun_stores_everything_once(tmp_path: Path) -> None:
    pages = 5000
    with serve_generated(pages=5) as small:  # what the crawl process takes at rest on this machine (its own stat)
        idle = run_measured(generated_crawl(small, tmp_path / "probe.jsonl", tmp_path / "probe-state"))
    idle_mb = idle.peak_rss_mb
    with serve_generated(pages=pages) as site:
        limit, output, state, first = stopped_after_discovery(site, tmp_path, idle_mb)
        states = url_states(state)
        stored_first = states.get("stored", 0)
        assert stored_first < pages and sum(states.get(s, 0) for s in ("discovered", "leased", "stored")) == pages
        assert states["record_versions"] == stored_first == len(output.read_text(encoding="utf-8").splitlines())
        second = run_measured(generated_crawl(site, output, state), timeout=400)
        assert second.returncode == 0, second.stderr[-3000:]
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(records) == pages == len({r["id"] for r in records})
    assert url_states(state).get("stored") == pages
    print(f"A.5-30: limit {limit} MiB (idle crawl {idle_mb:.0f} MiB): run 1 ended at {first.peak_rss_mb:.0f} MiB "
          f"after {stored_first} of {pages} stored ({first.elapsed:.0f} s); rerun stored the rest in {second.elapsed:.0f} s, "
          f"peak {second.peak_rss_mb:.0f} MiB")


def test_a5_30_a_crawl_started_by_a_big_process_is_measured_by_its_own_memory(tmp_path: Path) -> None:
    """Linux hands a child its parent's peak RSS; Scrapy's MemoryUsage would stop this 5-page crawl at once."""
    ballast = bytearray(400 * 2**20)
    ballast[:: 4096] = b"\x01" * (len(ballast) // 4096)  # resident, not just reserved
    with serve_generated(pages=5) as site:
        result = run_measured(generated_crawl(site, tmp_path / "out.jsonl", tmp_path / "state", "-s", "MEMUSAGE_LIMIT_MB=300"))
    del ballast
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.peak_rss_mb < 300
