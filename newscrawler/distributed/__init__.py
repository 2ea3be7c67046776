"""Distributed crawling: N workers share one frontier on Redis (scrapy-redis) and one state store on PostgreSQL.

Extraction and storage are the embedded crawl's; only the scheduler, the start of a pass and the politeness gate
change, through the settings apply_distributed() sets.
"""

from __future__ import annotations

from typing import Any

HANDLER = "newscrawler.distributed.politeness.SharedPolitenessHandler"


def apply_distributed(settings: Any, redis_url: str, prefix: str, *, forever: bool = False, seed_only: bool = False) -> None:
    """Make a crawl one worker of the frontier at `redis_url` (its keys under `prefix`)."""
    handlers = {**settings.getdict("DOWNLOAD_HANDLERS"), "http": HANDLER, "https": HANDLER}
    settings.setdict({
        "NEWSCRAWLER_REDIS_URL": redis_url,
        "NEWSCRAWLER_REDIS_PREFIX": prefix,
        "SCHEDULER": "newscrawler.distributed.scheduler.ReliableScheduler",
        "DOWNLOAD_HANDLERS": handlers,
        "NEWSCRAWLER_FOREVER": forever,
        "NEWSCRAWLER_SEED_ONLY": seed_only,
        "NEWSCRAWLER_LOCK_HELD": True,  # workers share the store: no one-run lock
        # A commit a record: a batch's row locks, held for a second, made workers deadlock on shared URLs.
        "NEWSCRAWLER_EXPORT_BATCH": 1,
    }, priority="cmdline")
