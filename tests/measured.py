"""Run a crawl as a user does (a subprocess) and measure it: elapsed time and the peak RSS of the process."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float  # seconds
    peak_rss_mb: float  # the largest peak RSS of the crawl process and the children it reaped (wait4 rusage)


def run_measured(args: list[str], timeout: float = 180, cwd: Path | None = None) -> Measured:
    """Like subprocess.run, but reaped with os.wait4, whose rusage is this child's alone (not the test run's)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(args, stdout=out, stderr=err, cwd=cwd)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not try to reap it again
        elapsed = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Measured(process.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                        elapsed, usage.ru_maxrss / 1024)
