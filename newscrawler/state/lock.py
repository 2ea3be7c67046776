"""One run per state directory: an flock the kernel releases when its process dies, so a killed run's lock frees itself."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any


class LockHeld(RuntimeError):
    """Another live process runs on this state directory."""


class RunLock:
    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / "lock"
        self.file: IO[str] | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "?"
            file.close()
            raise LockHeld(f"already running (lock held by PID {holder} on {self.path})")
        file.seek(0)
        file.truncate()
        file.write(str(os.getpid()))
        file.flush()
        self.file = file
        return self

    def release(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


class RunLockExtension:
    """Takes the state's run lock for `scrapy crawl` (the newscrawler command takes it itself, before Scrapy starts)."""

    def __init__(self, crawler: Any) -> None:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        from newscrawler.state import make_state

        settings = crawler.settings
        if not settings.getbool("NEWSCRAWLER_STORE_ENABLED") or settings.getbool("NEWSCRAWLER_LOCK_HELD"):
            raise NotConfigured
        self.lock = make_state(settings.get("NEWSCRAWLER_STATE")).run_lock().acquire()
        crawler.signals.connect(self.lock.release, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunLockExtension:
        return cls(crawler)
