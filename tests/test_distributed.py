"""The distributed crawl: worker processes on a shared Redis frontier and a shared PostgreSQL store, as a user runs
them (reference/reliability.md §A.5 tests 4 and 5). Each test has its own Redis key prefix (or its own
redis-server) and its own PostgreSQL schema, both removed afterwards."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("scrapy_redis", reason="scrapy-redis is not installed: pip install -e '.[test]'")

from newscrawler.distributed.frontier import Frontier  # noqa: E402
from newscrawler.distributed.redis import redis_client  # noqa: E402
from newscrawler.state.postgres import PostgresState  # noqa: E402
from tests.distributed_run import REDIS, Crawl, Worker, new_prefix, own_redis, redis_problem  # noqa: E402
from tests.generated_site import ARTICLE_PATH, GeneratedSite, serve_generated  # noqa: E402
from tests.test_backfill_crawl import ALL_IDS, write_config  # noqa: E402

pytestmark = pytest.mark.skipif(bool(redis_problem(REDIS)), reason=redis_problem(REDIS) or "")


@pytest.fixture
def prefix() -> Iterator[str]:
    name = new_prefix()
    yield name
    Frontier(redis_client(REDIS), name, 1).clear()


def stored_ids(state: str) -> dict[int, int]:
    """News id -> number of record versions in the shared store."""
    store = PostgresState(state).open()
    try:
        rows = store.query("SELECT line FROM records")
    finally:
        store.close()
    counts: dict[int, int] = {}
    for (line,) in rows:
        counts[news_id(line)] = counts.get(news_id(line), 0) + 1
    return counts


def news_id(line: str) -> int:
    """The generated site's news id of a record line."""
    return int(ARTICLE_PATH.fullmatch(urlsplit(json.loads(line)["canonical_url"]).path).group(1))


def wait_for_records(state: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sum(stored_ids(state).values()) < count:
        assert time.monotonic() < deadline, f"fewer than {count} records stored in {timeout} s"
        time.sleep(0.1)


def interrupted(crawl: Crawl, workers: int, interrupt: Callable[[list[Worker]], object], *extra: str) -> list[Worker]:
    """Start the workers, let 10 records be stored, interrupt the crawl, and wait for the workers to end it."""
    started = crawl.start(workers, *extra)
    try:
        wait_for_records(crawl.state, 10)
        interrupt(started)
        crawl.wait()
    finally:
        crawl.stop()
    return started


def exported_ids(crawl: Crawl) -> list[int]:
    output = crawl.directory / "export.jsonl"
    result = crawl.command("export", "-o", str(output))
    assert result.returncode == 0, result.stderr
    return sorted(news_id(line) for line in output.read_text(encoding="utf-8").splitlines())


# The frontier alone, on the real Redis


def test_a_lease_outlives_its_worker_only_until_its_deadline(prefix: str) -> None:
    frontier = Frontier(redis_client(REDIS), prefix, lease_seconds=0.3)
    tokens = [frontier.push(f"request {n}".encode()) for n in range(3)]
    first = frontier.pop("a")
    time.sleep(0.01)  # distinct deadlines (they are in ms): reclaimed leases go back in deadline order, ties in any
    assert [first[1], frontier.pop("a")[1]] == [b"request 0", b"request 1"]  # FIFO
    assert frontier.reclaim() == 0  # before the deadline, nothing moves
    time.sleep(0.4)  # a never beats: its two leases pass their deadline
    assert frontier.reclaim() == 2
    popped = [frontier.pop("b") for _ in range(3)]
    assert [payload for _, payload in popped] == [b"request 1", b"request 0", b"request 2"]  # re-queued first
    frontier.ack("b", [token for token, _ in popped])
    assert len(frontier) == 0 and frontier.status().leases["b"] == 0
    assert sorted(token for token, _ in popped) == sorted(tokens)


def test_a_heartbeat_keeps_a_slow_workers_leases(prefix: str) -> None:
    frontier = Frontier(redis_client(REDIS), prefix, lease_seconds=0.3)
    frontier.push(b"slow page")
    frontier.pop("a")
    for _ in range(4):
        time.sleep(0.15)
        frontier.heartbeat("a")
    assert frontier.reclaim() == 0 and len(frontier) == 0


def test_an_acknowledgement_from_before_a_redis_restart_deletes_nothing_queued_after_it(prefix: str) -> None:
    """Redis restarted without its data: the queue is rebuilt, while a worker still holds its old lease tokens."""
    frontier = Frontier(redis_client(REDIS), prefix, lease_seconds=5)
    frontier.push(b"before the restart")
    stale, _ = frontier.pop("a")
    frontier.clear()  # what a restart without persistence leaves
    rebuilt = [frontier.push(f"after the restart {n}".encode()) for n in range(3)]
    frontier.ack("a", [stale])  # a finishes its old request and acknowledges it
    frontier.release("a", [stale])
    popped = [frontier.pop("b") for _ in range(4)]
    assert [payload for _, payload in popped[:3]] == [f"after the restart {n}".encode() for n in range(3)]
    assert popped[3] is None and stale not in rebuilt


def test_a_pass_drains_only_when_nothing_is_queued_leased_or_being_seeded(prefix: str) -> None:
    frontier = Frontier(redis_client(REDIS), prefix, lease_seconds=5)
    assert frontier.claim_seeding("a") and not frontier.claim_seeding("b")  # one seeder a pass
    frontier.push(b"feed")
    epoch = frontier.open_pass()
    assert not frontier.claim_seeding("b")  # a pass is open: b joins it
    token, _ = frontier.pop("b")
    frontier.heartbeat("b")
    assert not frontier.try_drain(epoch)  # b holds a lease
    frontier.release("b", [token])
    assert not frontier.try_drain(epoch)  # back in the queue
    token, _ = frontier.pop("a")
    frontier.ack("a", [token])
    assert frontier.try_drain(epoch) and frontier.epoch() == f"{epoch}:drained"
    assert frontier.claim_seeding("b")  # the next pass may start


def test_two_workers_racing_for_one_url_after_a_lease_expiry_store_one_record(prefix: str, postgres_url: str) -> None:
    """a takes the URL, stalls past its deadline; b gets it again. Both fetch and store it at once: one record."""
    frontier = Frontier(redis_client(REDIS), prefix, lease_seconds=0.2)
    frontier.push(b"http://127.0.0.1/news/1.html")
    frontier.heartbeat("a")
    token_a, _ = frontier.pop("a")
    time.sleep(0.3)
    assert frontier.reclaim() == 1
    token_b, _ = frontier.pop("b")
    assert token_a == token_b
    record = {"id": "r1", "url": "http://127.0.0.1/news/1.html", "canonical_url": "http://127.0.0.1/news/1.html",
              "site": "127.0.0.1", "content_hash": "h1", "title": "Заголовок", "body": "Текст статьи", "comments": []}
    first, second = PostgresState(postgres_url).open(), PostgresState(postgres_url).open()
    results = {}
    first.begin_batch()
    results["a"] = first.store(record["url"], record, datetime.now(UTC), None)  # a's transaction is still open

    def store_b() -> None:
        second.begin_batch()
        results["b"] = second.store(record["url"], record, datetime.now(UTC), None)  # waits for a's commit
        second.commit_batch()

    racer = threading.Thread(target=store_b)
    racer.start()
    time.sleep(0.3)
    assert "b" not in results  # b waits on the record's key
    first.commit_batch()
    racer.join(10)
    frontier.ack("a", [token_a])
    frontier.ack("b", [token_b])
    assert results["a"].new and not results["b"].new
    assert first.query("SELECT id, version FROM records") == [("r1", 1)]
    assert len(frontier) == 0 and sum(frontier.status().leases.values()) == 0  # a, silent, was forgotten
    first.close()
    second.close()


# Worker processes


@pytest.fixture
def backfill_site() -> Iterator[GeneratedSite]:
    from datetime import timedelta

    with serve_generated(len(ALL_IDS), archives=True, feed_items=10, interval=timedelta(hours=6)) as site:
        yield site


def test_three_workers_backfill_every_article_once_within_the_shared_request_rate(
    backfill_site: GeneratedSite, postgres_url: str, prefix: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "sources.toml", backfill_site)
    delay = 0.05
    crawl = Crawl(REDIS, prefix, postgres_url, ["--config", str(config), "--backfill"], tmp_path,
                  ("-s", f"DOWNLOAD_DELAY={delay}"))
    crawl.start(3)
    try:
        workers = crawl.wait()
    finally:
        crawl.stop()
    assert [worker.returncode for worker in workers] == [0, 0, 0], workers[0].text()[-3000:]
    assert stored_ids(postgres_url) == {news_id: 1 for news_id in ALL_IDS}
    assert exported_ids(crawl) == ALL_IDS
    fetched = [int(stat) for worker in workers for stat in stat_values(worker.text(), "downloader/response_count")]
    assert len(fetched) == 3 and all(count >= 5 for count in fetched), fetched  # every worker took a share (robots.txt is 1)
    # One site, three workers, one request every `delay` s at most: the server's own clock says so.
    arrivals = sorted(backfill_site.arrivals)
    assert max(window_count(arrivals, 1.0)) <= 1 / delay + 2  # the gate's spacing, give or take one arrival's jitter
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert sorted(gaps)[len(gaps) // 2] >= delay * 0.9


def window_count(times: list[float], width: float) -> list[int]:
    """For each request, how many arrived in the `width` seconds from it."""
    return [sum(1 for other in times[index:] if other < start + width) for index, start in enumerate(times)]


def stat_values(log: str, name: str) -> list[str]:
    return [line.split(":")[1].strip(" ,}") for line in log.splitlines() if f"'{name}':" in line]


def test_a_killed_workers_leases_are_reclaimed_and_nothing_is_lost(postgres_url: str, prefix: str, tmp_path: Path) -> None:
    with serve_generated(60, delay=0.3) as site:
        crawl = Crawl(REDIS, prefix, postgres_url, [site.url("/rss.xml")], tmp_path,
                      ("-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"))
        frontier = Frontier(redis_client(REDIS), prefix, 1)

        def kill_holding_leases(workers: list[Worker]) -> None:
            """kill -9 the first worker once it holds leases (it may start after the other took the first ones)."""
            deadline = time.monotonic() + 30
            while not any(f":{workers[0].process.pid}:" in name and held
                          for name, held in frontier.status().leases.items()):
                assert time.monotonic() < deadline, "the first worker never held a lease"
                time.sleep(0.05)
            crawl.kill(workers[0])

        doomed, survivor = interrupted(crawl, 2, kill_holding_leases)
    assert doomed.returncode == -9 and survivor.returncode == 0, survivor.text()[-3000:]
    assert stored_ids(postgres_url) == {news_id: 1 for news_id in site.ids}
    assert exported_ids(crawl) == list(site.ids)
    reclaimed = [int(stat) for stat in stat_values(survivor.text(), "newscrawler/frontier/reclaimed")]
    assert reclaimed and reclaimed[-1] >= 1
    # Leases can expire over more than one reclaim pass: each logs its count, the stat is their sum.
    logged = re.findall(r"reclaimed (\d+) leases past their deadline", survivor.text())
    assert sum(map(int, logged)) == reclaimed[-1], logged


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed (apt-get install redis-server)")
def test_workers_wait_out_a_redis_restart_and_rebuild_the_frontier_from_the_store(postgres_url: str, tmp_path: Path) -> None:
    # 150 pages: each worker holds up to CONCURRENT_REQUESTS (16) popped requests, and on a slow machine two workers
    # had popped all of 60 by the restart, leaving the store nothing pending to rebuild the frontier with.
    with own_redis(tmp_path) as redis_server, serve_generated(150, delay=0.2) as site:
        crawl = Crawl(redis_server.url, "crawl", postgres_url, [site.url("/rss.xml")], tmp_path,
                      ("-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"))

        def restart(_: list[Worker]) -> None:
            redis_server.stop()  # no persistence: the queue, leases and fingerprints are gone
            time.sleep(2)
            redis_server.start()

        workers = interrupted(crawl, 2, restart)
    logs = [worker.text() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], logs[0][-3000:]
    assert stored_ids(postgres_url) == {news_id: 1 for news_id in site.ids}
    for log in logs:
        assert f"Redis at {redis_server.url} is unreachable" in log and "Traceback" not in log
        assert f"Redis at {redis_server.url} is back after" in log
    # Rebuilt from the store: a second pass queued with the articles PostgreSQL has pending, not just the feed.
    opened = sorted(int(count) for log in logs for count in re.findall(r"pass \d+ open, (\d+) start requests", log))
    assert len(opened) == 2 and opened[0] == 1 < opened[1], opened  # the feed; then the feed and what was pending


def test_seed_then_status_then_a_worker_drains_the_pass(postgres_url: str, prefix: str, tmp_path: Path) -> None:
    with serve_generated(12) as site:
        crawl = Crawl(REDIS, prefix, postgres_url, [site.url("/rss.xml")], tmp_path, ("-s", "DOWNLOAD_DELAY=0"))
        seeded = crawl.command("seed", site.url("/rss.xml"), "-s", "NEWSCRAWLER_ALLOWED_ADDRESSES=127.0.0.1")
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        assert site.requests == []  # seeding fetches nothing
        status = json.loads(crawl.command("status", "--json").stdout)
        assert status["queued"] == 1 and status["pass"] == "1" and status["record_versions"] == 0
        crawl.start(1)
        crawl.wait()
        assert crawl.workers[0].returncode == 0, crawl.workers[0].text()[-3000:]
    status = json.loads(crawl.command("status", "--json").stdout)
    assert status == {
        "queued": 0, "pass": "1:drained", "seeding": None, "fingerprints": 12, "workers": {},
        "urls": {"stored": 12}, "record_versions": 12, "failures": {},
    }
    text = crawl.command("status").stdout
    assert "pass 1:drained, 0 requests queued, 0 leased, 12 fingerprints" in text and "record versions stored: 12" in text


def test_distributed_commands_refuse_what_cannot_work(tmp_path: Path, postgres_url: str) -> None:
    from tests.distributed_run import BIN, free_port
    import subprocess

    def newscrawler(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "newscrawler"), *args], capture_output=True, text=True, timeout=60)

    feed = "http://127.0.0.1:9/rss.xml"
    local = newscrawler("crawl", feed, "--distributed", REDIS, "--state", str(tmp_path / "state"))
    assert local.returncode == 2 and "--distributed needs a shared state store: give --state postgresql://" in local.stderr
    with_output = newscrawler("crawl", feed, "--distributed", REDIS, "--state", postgres_url, "-o", str(tmp_path / "a.jsonl"))
    assert with_output.returncode == 2 and "drop -o/-O and run `newscrawler export" in with_output.stderr
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    away = newscrawler("crawl", feed, "--distributed", nobody, "--state", postgres_url)
    assert away.returncode == 2 and f"Redis at {nobody} does not answer" in away.stderr and "Traceback" not in away.stderr


def test_a_worker_that_loses_postgresql_pauses_reconnects_and_loses_nothing(postgres_url: str, prefix: str, tmp_path: Path) -> None:
    """The server cuts the worker's connection mid-crawl (as a PostgreSQL restart or failover does)."""
    import psycopg

    from tests.conftest import POSTGRES

    name = f"nc_{prefix.replace('-', '_')}"
    state = f"{postgres_url}&application_name={name}"
    with serve_generated(60, delay=0.2) as site:  # 6 s of crawling: the cut lands mid-crawl
        crawl = Crawl(REDIS, prefix, state, [site.url("/rss.xml")], tmp_path,
                      ("-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"))

        def cut(_: list[Worker]) -> None:
            with psycopg.connect(POSTGRES, autocommit=True) as admin:
                ended = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                                      (name,)).fetchall()
            assert ended

        (worker,) = interrupted(crawl, 1, cut)
    log = worker.text()
    assert worker.returncode == 0, log[-3000:]
    assert stored_ids(postgres_url) == {news_id: 1 for news_id in site.ids}
    assert "is unreachable (connection lost); waiting for it" in log and "fetching paused until the state store is back" in log
    assert "is back after" in log and "Traceback" not in log


def test_a_forever_worker_starts_a_pass_after_each_drained_one_until_stopped(postgres_url: str, prefix: str, tmp_path: Path) -> None:
    import signal

    with serve_generated(5) as site:
        crawl = Crawl(REDIS, prefix, postgres_url, [site.url("/rss.xml")], tmp_path,
                      ("-s", "DOWNLOAD_DELAY=0", "-s", "NEWSCRAWLER_PASS_INTERVAL=0.5"))
        (worker,) = crawl.start(1, "--forever")
        try:
            deadline = time.monotonic() + 60
            while "pass 3 open" not in worker.text():
                assert time.monotonic() < deadline and worker.process.poll() is None, worker.text()[-3000:]
                time.sleep(0.2)
            worker.process.send_signal(signal.SIGTERM)
            crawl.wait()
        finally:
            crawl.stop()
    assert stored_ids(postgres_url) == {news_id: 1 for news_id in site.ids}
    assert site.requests.count("/rss.xml") >= 2  # passes 1 and 2 each read the feed (the second time, a 304)
    assert "'finish_reason': 'shutdown'" in worker.text() and "Traceback" not in worker.text()


def test_a_record_the_store_refused_is_queued_again_not_acknowledged(postgres_url: str, prefix: str, tmp_path: Path) -> None:
    """While an operator holds a lock on the records table, the worker's inserts time out (lock_timeout): those
    requests are queued again, not acknowledged, and stored once the lock is gone."""
    import psycopg

    state = postgres_url.replace("options=", "options=-clock_timeout%3D100ms%20")
    with serve_generated(60, delay=0.1) as site:
        crawl = Crawl(REDIS, prefix, state, [site.url("/rss.xml")], tmp_path,
                      ("-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"))
        def lock(workers: list[Worker]) -> None:
            with psycopg.connect(postgres_url) as blocker:
                blocker.execute("LOCK TABLE records IN EXCLUSIVE MODE")
                deadline = time.monotonic() + 20
                while "canceling statement due to lock timeout" not in workers[0].text():  # held until a store fails
                    assert time.monotonic() < deadline
                    time.sleep(0.05)

        (worker,) = interrupted(crawl, 1, lock)
    log = worker.text()
    assert worker.returncode == 0, log[-3000:]
    assert stored_ids(postgres_url) == {news_id: 1 for news_id in site.ids}
    retries = [int(stat) for stat in stat_values(log, "newscrawler/frontier/processing_retries")]
    assert retries and retries[0] >= 1


def test_frontier_rebuild_queues_what_the_store_has_pending_after_redis_lost_it(
    postgres_url: str, prefix: str, tmp_path: Path
) -> None:
    with serve_generated(40, delay=0.1) as site:
        crawl = Crawl(REDIS, prefix, postgres_url, [site.url("/rss.xml")], tmp_path,
                      ("-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"))
        interrupted(crawl, 1, lambda workers: crawl.kill(workers[0]))
        assert crawl.command("frontier", "clear").returncode == 0  # as a Redis restarted without persistence
        lost = json.loads(crawl.command("status", "--json").stdout)
        assert lost["queued"] == 0 and lost["pass"] is None
        pending = 40 - lost["urls"].get("stored", 0)
        assert pending > 0
        rebuilt = crawl.command("frontier", "rebuild", site.url("/rss.xml"), "-s", "NEWSCRAWLER_ALLOWED_ADDRESSES=127.0.0.1")
        assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
        status = json.loads(crawl.command("status", "--json").stdout)
        assert status["queued"] == pending + 1  # every pending article, and the feed
        crawl.start(1)
        crawl.wait()
    assert crawl.workers[-1].returncode == 0, crawl.workers[-1].text()[-3000:]
    assert stored_ids(postgres_url) == {news_id: 1 for news_id in site.ids}
