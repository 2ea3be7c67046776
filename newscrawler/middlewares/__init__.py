"""Downloader middlewares that keep a crawl safe and polite (settings.py orders them; README lists their settings)."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError

# Download errors by failure code; the first entry is the timeouts.
ERROR_REASONS: tuple[tuple[tuple[type[Exception], ...], str], ...] = (
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
    ((CannotResolveHostError, DNSLookupError), "dns_error"),
    ((DownloadConnectionRefusedError, ConnectionRefusedError), "connection_refused"),
    ((ResponseDataLossError,), "truncated"),
)


def error_reason(error: Exception, default: str) -> str:
    """The failure code of a download error ("timeout", "dns_error"...), or `default`."""
    return next((reason for errors, reason in ERROR_REASONS if isinstance(error, errors)), default)


class Refused(IgnoreRequest):
    """A request the crawler will not make or finish. `reason` is the failure code written to the failures file and
    the stats ("blocked_address", "too_large"...); `detail` says why, for a person reading the line."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
