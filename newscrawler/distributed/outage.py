"""A server that went away: said once when it goes and once when it is back, retried with a growing pause between."""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 10.0


class Outage:
    def __init__(self, name: str) -> None:
        self.name = name
        self.since: float | None = None
        self.pause = FIRST_PAUSE
        self.retry_at = 0.0
        self.count = 0

    def down(self, error: Exception) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since, self.pause = now, FIRST_PAUSE
            self.count += 1
            logger.error("%s is unreachable (%s); waiting for it, retrying with backoff up to every %g s",
                         self.name, str(error).strip() or type(error).__name__, LONGEST_PAUSE)
        else:
            self.pause = min(self.pause * 2, LONGEST_PAUSE)
        self.retry_at = now + self.pause

    def up(self) -> None:
        if self.since is not None:
            logger.warning("%s is back after %.1f s; continuing", self.name, time.monotonic() - self.since)
            self.since = None

    def may_try(self) -> bool:
        """False while the pause after the last failed attempt lasts."""
        return self.since is None or time.monotonic() >= self.retry_at
