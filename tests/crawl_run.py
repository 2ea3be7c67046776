"""Run `newscrawler crawl` as a user does (a subprocess), and collect what a user would look at afterwards:
records, failure lines, URL states in the store, Scrapy's stats, the elapsed time and the crawl's peak RSS."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
# Short timeouts and no politeness delay: the fixture servers are local and the suite must stay fast.
QUICK = (
    "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "NEWSCRAWLER_EXTRACT_WORKERS=0",
    "-s", "NEWSCRAWLER_RETRY_BACKOFF_BASE=0.1", "-s", "DOWNLOAD_TIMEOUT=5",
)
STAT_LINE = re.compile(r"^\s*'([^']+)': (\d+(?:\.\d+)?)[,}]", re.MULTILINE)


@dataclass
class CrawlRun:
    returncode: int
    stderr: str
    records: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    url_states: dict[str, tuple[str, str | None]]  # url -> (state, reason) in the state store
    stats: dict[str, float]
    elapsed: float
    peak_rss_mib: float

    def failure(self, url: str) -> dict[str, Any]:
        (line,) = [failure for failure in self.failures if failure["url"] == url]  # exactly one line per URL
        return line

    def record_urls(self) -> list[str]:
        return sorted(record["url"] for record in self.records)


def crawl(feed_url: str, tmp_path: Path, *settings: str, allow: str = "127.0.0.1", timeout: float = 180) -> CrawlRun:
    """One crawl of `feed_url`; `allow` is NEWSCRAWLER_ALLOWED_ADDRESSES (the loopback fixture servers)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    output, state = tmp_path / "out.jsonl", tmp_path / "state"
    command = [
        str(BIN / "newscrawler"), "crawl", feed_url, "-O", str(output), "--state", str(state), *QUICK,
        "-s", f"NEWSCRAWLER_ALLOWED_ADDRESSES={allow}", *settings,
    ]
    log = tmp_path / "crawl.log"
    started = time.monotonic()
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage: its peak RSS, not the suite's
        killer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    failures_file = tmp_path / "out.failures.jsonl"
    stderr_text = log.read_text(encoding="utf-8")
    return CrawlRun(
        returncode=process.returncode,
        stderr=stderr_text,
        records=read_jsonl(output),
        failures=read_jsonl(failures_file),
        url_states=url_states(state / "state.sqlite3"),
        stats={key: float(value) for key, value in STAT_LINE.findall(stderr_text.split("Dumping Scrapy stats:")[-1])},
        elapsed=time.monotonic() - started,
        peak_rss_mib=usage.ru_maxrss / 1024,
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def url_states(database: Path) -> dict[str, tuple[str, str | None]]:
    if not database.exists():
        return {}
    with sqlite3.connect(database) as connection:
        return {url: (state, reason) for url, state, reason in connection.execute("SELECT url, state, reason FROM urls")}
