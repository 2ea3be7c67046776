"""Scrapy's MemoryUsage, measuring this process alone and closing the spider once.

- Scrapy reads the peak RSS from getrusage, which Linux carries over fork and exec: a crawl started by a big
  process (a test runner, a scheduler daemon) starts with its parent's peak and can be over MEMUSAGE_LIMIT_MB
  before it has read a page (measured: 422 MiB for a 95 MiB crawl started by a 400 MiB parent). VmHWM, the
  high-water mark of this process's own memory, is the same "peak" without the inheritance.
- The stock extension asks to close the spider again at every check until the engine stops, and each late request
  fails with "Spider not opened": a traceback at the end of a run that closed cleanly.

With MEMUSAGE_LIMIT_MB set, a run past the limit ends with finish_reason memusage_exceeded: in-flight pages are
finished and stored, the URLs not yet fetched stay due in the state store, and the same command resumes them
(reliability.md §A.5 test 30). The CLI exits 1 ("did not finish").
"""

from __future__ import annotations

from pathlib import Path

from scrapy.extensions.memusage import MemoryUsage

STATUS = Path("/proc/self/status")


def own_peak_rss() -> int | None:
    """This process's peak resident memory in bytes (Linux VmHWM), or None where /proc is not there."""
    try:
        lines = STATUS.read_text().splitlines()
    except OSError:
        return None
    found = [line.split()[1] for line in lines if line.startswith("VmHWM:")]
    return int(found[0]) * 1024 if found else None


class MemoryLimit(MemoryUsage):
    def get_virtual_size(self) -> int:
        return own_peak_rss() or super().get_virtual_size()

    def _check_limit(self) -> None:
        if self._stats.get_value("memusage/limit_reached"):
            return
        super()._check_limit()
