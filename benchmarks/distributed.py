"""Distributed crawl: 1, 2 and 3 workers on one Redis frontier and one PostgreSQL store, against the embedded crawl
(one process, SQLite) on the same generated DLE site, in the same session.

Prints per run: pages/s, per-worker efficiency (pages/s over workers x the 1-worker pages/s), Redis commands and
Lua script calls per page, PostgreSQL statements per page; then Redis memory per queued request and per million
fingerprints, the per-page costs docs/scaling.md projects from. Every worker is a `newscrawler crawl --distributed`
subprocess, as a user starts it; the site is crawl_throughput.py's (60 KiB DLE pages served from memory).

    python benchmarks/distributed.py [--pages 2000] [--workers 1 2 3] [--redis URL] [--postgres URL]

It needs the local Redis and PostgreSQL (defaults: redis://127.0.0.1:6379/0, postgresql://postgres@127.0.0.1/test);
it works in a Redis key prefix and a PostgreSQL schema of its own and removes both.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crawl_throughput import SHARED_SETTINGS, child_env, served_site  # noqa: E402

BIN = Path(sys.executable).parent
SETTINGS = [*SHARED_SETTINGS, "NEWSCRAWLER_PROGRESS_SECONDS=0"]
FINGERPRINT_SAMPLE = 200_000
STAT = re.compile(r"^\s*'([^']+)': (\d+(?:\.\d+)?)[,}]", re.MULTILINE)


@dataclass
class Run:
    label: str
    workers: int
    records: int
    seconds: float  # first record stored to last, from the store's own timestamps
    wall: float  # first worker started to last worker exited (start-up and the idle check at the end included)
    redis_commands: int = 0  # those run inside Lua scripts included
    redis_scripts: int = 0
    redis_cpu: float = 0.0
    wal_bytes: int = 0
    postgres_cpu: float = 0.0
    statements: int = 0
    fetched: list[int] | None = None

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def worker_stats(log: Path) -> dict[str, float]:
    return {name: float(value) for name, value in STAT.findall(log.read_text(encoding="utf-8", errors="replace"))}


def embedded(feed: str, directory: Path) -> Run:
    """The baseline: `newscrawler crawl` on its own, SQLite state, no server."""
    output, log = directory / "embedded.jsonl", directory / "embedded.log"
    command = [str(BIN / "newscrawler"), "crawl", feed, "-O", str(output), "--state", str(directory / "state"),
               *(arg for setting in SETTINGS for arg in ("-s", setting))]
    started = time.monotonic()
    with log.open("w") as sink:
        subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, env=child_env(), check=False)
    wall = time.monotonic() - started
    stats = worker_stats(log)
    with sqlite3.connect(directory / "state" / "state.sqlite3") as store:
        records, first, last = store.execute("SELECT count(*), min(stored_at), max(stored_at) FROM records").fetchone()
    seconds = parse(last) - parse(first) if records > 1 else wall
    return Run("embedded (SQLite)", 1, records, seconds, wall, statements=int(stats.get("newscrawler/state/statements", 0)))


def parse(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


class QueueSampler(threading.Thread):
    """The largest queue seen during a run, and the Redis memory it took: bytes per queued request."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        super().__init__(daemon=True)
        self.redis, self.prefix = redis, prefix
        self.best = (0, 0)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.1):
            queued = self.redis.llen(f"{self.prefix}:queue")
            if queued > self.best[0]:
                used = sum(self.redis.memory_usage(f"{self.prefix}:{key}", samples=0) or 0 for key in ("queue", "requests"))
                self.best = (queued, used)


def distributed(feed: str, count: int, redis_url: str, postgres: str, directory: Path) -> tuple[Run, tuple[int, int]]:
    prefix, schema = f"bench-{uuid.uuid4().hex[:8]}", f"bench_{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(redis_url)
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    state = f"{postgres}?options=-csearch_path%3D{schema}"
    sampler = QueueSampler(redis, prefix)
    try:
        before, before_pg = redis_counters(redis), postgres_counters(postgres)
        sampler.start()
        logs = [directory / f"w{count}-{n}.log" for n in range(1, count + 1)]
        command = [str(BIN / "newscrawler"), "crawl", feed, "--distributed", redis_url, "--prefix", prefix,
                   "--state", state, *(arg for setting in SETTINGS for arg in ("-s", setting))]
        started = time.monotonic()
        processes = []
        for log in logs:
            with log.open("w") as sink:
                processes.append(subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=child_env()))
        for process in processes:
            process.wait()
        wall = time.monotonic() - started
        sampler.stopping.set()
        after, after_pg = redis_counters(redis), postgres_counters(postgres)
        with psycopg.connect(state, autocommit=True) as store:
            records, first, last = store.execute(
                "SELECT count(*), min(stored_at), max(stored_at) FROM records").fetchone()
        stats = [worker_stats(log) for log in logs]
        run = Run(f"{count} worker(s)", count, records, parse(last) - parse(first) if records > 1 else wall, wall,
                  redis_commands=after[0] - before[0], redis_scripts=after[1] - before[1], redis_cpu=after[2] - before[2],
                  wal_bytes=after_pg[0] - before_pg[0], postgres_cpu=after_pg[1] - before_pg[1],
                  statements=int(sum(s.get("newscrawler/state/statements", 0) for s in stats)),
                  fetched=[int(s.get("downloader/response_count", 0)) for s in stats])
        return run, sampler.best
    finally:
        sampler.stopping.set()
        keys = list(redis.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            redis.delete(*keys)
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def redis_counters(redis: Redis) -> tuple[int, int, float]:
    """(commands run, those inside Lua scripts included; script calls; server CPU seconds) since the server started."""
    stats, cpu = redis.info("commandstats"), redis.info("cpu")
    return (int(redis.info("stats")["total_commands_processed"]), int(stats.get("cmdstat_evalsha", {}).get("calls", 0)),
            float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]))


def postgres_counters(postgres: str) -> tuple[int, float]:
    """(WAL bytes written so far; CPU seconds of the local server's processes, read in /proc: same machine only)."""
    with psycopg.connect(postgres, autocommit=True) as admin:
        wal = int(admin.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')").fetchone()[0])
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if fields[0].endswith("(postgres"):
            values = fields[1].split()
            ticks += sum(int(value) for value in values[11:15])  # utime, stime, and of reaped children (ended backends)
    return wal, ticks / os.sysconf("SC_CLK_TCK")


def fingerprint_bytes(redis: Redis) -> float:
    """Redis memory of a scrapy-redis fingerprint set (SHA-1 hex members), per fingerprint, from a sample set."""
    key = f"bench-fingerprints-{uuid.uuid4().hex[:8]}"
    try:
        pipe = redis.pipeline(transaction=False)
        for n in range(FINGERPRINT_SAMPLE):
            pipe.sadd(key, hashlib.sha1(str(n).encode()).hexdigest())
            if n % 10_000 == 9_999:
                pipe.execute()
        pipe.execute()
        return (redis.memory_usage(key, samples=0) or 0) / FINGERPRINT_SAMPLE
    finally:
        redis.delete(key)


def report(pages: int, base: Run, runs: list[Run], queue: tuple[int, int], per_fingerprint: float) -> str:
    one = next((run for run in runs if run.workers == 1), None)
    lines = [f"{pages} article pages, CONCURRENT_REQUESTS=16, DOWNLOAD_DELAY=0 (no politeness gate), default extraction workers",
             f"{'run':<20}{'records':>8}{'pages/s':>9}{'wall s':>8}{'vs embedded':>12}{'efficiency':>11}"
             f"{'redis cmds/p':>13}{'scripts/p':>10}{'SQL stmts/p':>12}  pages fetched per worker"]
    for run in [base, *runs]:
        efficiency = f"{run.rate / (run.workers * one.rate):.2f}" if one and run is not base else "-"
        per_page = (lambda value: f"{value / run.records:.1f}" if run.records else "-")
        lines.append(
            f"{run.label:<20}{run.records:>8}{run.rate:>9.1f}{run.wall:>8.1f}{run.rate / base.rate:>12.2f}{efficiency:>11}"
            f"{per_page(run.redis_commands) if run is not base else '-':>13}"
            f"{per_page(run.redis_scripts) if run is not base else '-':>10}{per_page(run.statements):>12}"
            f"  {run.fetched or ''}")
    for run in runs:
        if run.records:
            lines.append(f"{run.label}: server cost per page: Redis CPU {1000 * run.redis_cpu / run.records:.3f} ms, "
                         f"PostgreSQL CPU {1000 * run.postgres_cpu / run.records:.2f} ms (all its processes), "
                         f"WAL {run.wal_bytes / run.records / 1024:.1f} KiB")
    queued, used = queue
    if queued:
        lines.append(f"Redis memory per queued request: {used / queued:.0f} bytes ({queued} queued, {used / 2**20:.1f} MiB)")
    lines.append(f"Redis memory per fingerprint: {per_fingerprint:.0f} bytes = {per_fingerprint * 1e6 / 2**20:.0f} MiB "
                 f"per million ({FINGERPRINT_SAMPLE} SHA-1 fingerprints in one set)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    redis = Redis.from_url(args.redis)
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp, served_site(args.pages) as site:
        directory = Path(tmp)
        base = embedded(site.feed_url, directory)
        runs, queue = [], (0, 0)
        for count in args.workers:
            run, seen = distributed(site.feed_url, count, args.redis, args.postgres, directory)
            runs.append(run)
            queue = max(queue, seen)
        print(report(args.pages, base, runs, queue, fingerprint_bytes(redis)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
