"""Retries with exponential backoff, and `Retry-After` honoured on 429 and 503 (Scrapy retries at once, ignoring it).

Replaces Scrapy's RetryMiddleware (same place, same RETRY_* settings and `retry/*` stats, same per-request budget:
RETRY_TIMES or the `max_retry_times` meta key). Before a retry goes back to the scheduler the middleware waits:
`NEWSCRAWLER_RETRY_BACKOFF_BASE` × 2^(retry−1), at most `NEWSCRAWLER_RETRY_BACKOFF_MAX`, and at least the server's
`Retry-After`. A `Retry-After` longer than `NEWSCRAWLER_RETRY_AFTER_MAX` is not waited for: the URL fails now with
that reason, and the state store tries it again on a later run. The wait holds one of CONCURRENT_REQUESTS, not the
host's download slot, so other URLs of the host and other hosts go on meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import task

RETRY_AFTER_STATUSES = frozenset({429, 503})
GIVE_UP_KEY = "newscrawler_give_up"  # request meta: why the retries stopped early, for the failure line


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """`Retry-After: 120` or an HTTP date, in seconds from now; None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        settings = crawler.settings
        self.base = settings.getfloat("NEWSCRAWLER_RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("NEWSCRAWLER_RETRY_BACKOFF_MAX")
        self.retry_after_max = settings.getfloat("NEWSCRAWLER_RETRY_AFTER_MAX")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def backoff(self, request: Request) -> float:
        return min(self.cap, self.base * 2 ** request.meta.get("retry_times", 0))

    async def wait(self, seconds: float) -> None:
        if seconds > 0:
            from twisted.internet import reactor

            self.crawler.stats.inc_value("newscrawler/retry/waited_seconds", round(seconds, 3))
            await maybe_deferred_to_future(task.deferLater(reactor, seconds))

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self.backoff(request)
        if response.status in RETRY_AFTER_STATUSES:
            retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
            if retry_after is not None and retry_after > self.retry_after_max:
                request.meta[GIVE_UP_KEY] = (
                    f"Retry-After {retry_after:g} s is over NEWSCRAWLER_RETRY_AFTER_MAX ({self.retry_after_max:g} s)"
                )
                self.crawler.stats.inc_value("newscrawler/retry/retry_after_too_long")
                return response
            if retry_after is not None:
                self.crawler.stats.inc_value("newscrawler/retry/retry_after")
                delay = max(delay, retry_after)
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self.wait(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self.wait(self.backoff(request))
        return retry
