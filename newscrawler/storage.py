"""A write that fails for lack of disk (full, read-only, quota) stops the run at once, naming the path.

Crawling on would fetch pages only to lose them. Nothing is marked done without its record: the state store marks a
URL stored in the transaction that stores its record, so a failed write leaves the URL due, and the same command run
again after the disk is freed fetches it (reference/reliability.md §A.5 test 26).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

FINISH_REASON = "storage_error"
MESSAGE_STAT = "newscrawler/storage_error"  # the message, for the CLI to print and its exit status
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EACCES, errno.EPERM})
# SQLite primary result codes: FULL, READONLY, IOERR, CANTOPEN (https://www.sqlite.org/rescode.html)
SQLITE_DISK_CODES = frozenset({13, 8, 10, 14})


def disk_problem(error: BaseException) -> str | None:
    """What went wrong, if error is a failed write to disk; None for any other error."""
    if isinstance(error, OSError) and error.errno in DISK_ERRNOS:
        return error.strerror or str(error)
    if isinstance(error, sqlite3.Error) and (getattr(error, "sqlite_errorcode", 0) & 0xFF) in SQLITE_DISK_CODES:
        return str(error)
    return None


def stop_for_storage(crawler: Crawler, path: str, problem: str) -> None:
    """Close the spider with finish_reason storage_error, once, whoever saw the error first."""
    if crawler.stats.get_value(MESSAGE_STAT):
        return
    message = f"cannot write {path}: {problem}; free space or make it writable, then run the same command again"
    crawler.stats.set_value(MESSAGE_STAT, message)
    logger.error(message)
    if crawler.engine is not None and crawler.engine.spider is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason=FINISH_REASON))


class StorageGuard:
    """Stops the run on a disk error raised in a spider callback (the spider leases and discovers URLs in the store);
    the pipelines and the failure log call stop_for_storage themselves."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def spider_error(self, failure: Failure, response: Any, spider: Spider) -> None:
        if problem := disk_problem(failure.value):
            state = getattr(spider, "state", None)
            path = getattr(failure.value, "filename", None) or getattr(state, "location", "the state store")
            stop_for_storage(self.crawler, str(path), problem)
