"""Oversize bodies, plain or compressed (gzip, deflate, brotli, zstd bombs), end as one "too_large" failure.

Scrapy already stops reading at DOWNLOAD_MAXSIZE, before or while the body arrives and while it is decompressed,
so memory stays bounded; but it reports the drop as a cancelled download or a bare IgnoreRequest, which the spider
could not tell from other failures. This HttpCompressionMiddleware subclass (in its place, 590) names it."""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from twisted.internet.defer import CancelledError

from newscrawler.middlewares import Refused


class SizeCapMiddleware(HttpCompressionMiddleware):
    def limit(self, request: Request) -> int:
        return request.meta.get("download_maxsize", self._max_size)

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        try:
            return super().process_response(request, response)
        except IgnoreRequest as error:  # the only IgnoreRequest it raises: decompressed past the limit
            self.stats.inc_value("newscrawler/size/too_large")
            raise Refused("too_large", f"too large: decompressed body over DOWNLOAD_MAXSIZE ({self.limit(request)} B)") from error

    def process_exception(self, request: Request, exception: Exception) -> None:
        """The download handler cancels a body whose Content-Length or received size passes the limit."""
        if isinstance(exception, (DownloadCancelledError, CancelledError)):
            self.stats.inc_value("newscrawler/size/too_large")
            raise Refused("too_large", f"too large: body over DOWNLOAD_MAXSIZE ({self.limit(request)} B)") from exception
