"""Run a crawl as a user does (a subprocess) and measure it: elapsed time and the peak RSS of the crawl process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PEAK = re.compile(r"'memusage/max': (\d+)")  # the crawl's own stat (newscrawler.memory: this process alone)


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float  # seconds
    peak_rss_mb: float  # the crawl process's peak RSS (its memusage/max; the extraction workers not included)


def run_measured(args: list[str], timeout: float = 180, cwd: Path | None = None) -> Measured:
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the crawl and its extraction workers
        stdout, stderr = process.communicate()
    peak = PEAK.search(stderr)
    return Measured(process.returncode, stdout, stderr, time.monotonic() - started, int(peak[1]) / 2**20 if peak else float("nan"))
