"""Re-decode text responses whose declared charset is wrong, and note the fix-up for the record (reliability.md §A.5
test 19). Between HttpCompressionMiddleware (590) and the spider, so it sees decompressed bytes."""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse

from newscrawler.charset import canonical, decide, web_name

logger = logging.getLogger(__name__)
FIXUP_META = "newscrawler_charset_fixup"  # request.meta key: {"declared", "used", "evidence"}


class CharsetMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSCRAWLER_CHARSET_ENABLED"):
            raise NotConfigured
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        if not isinstance(response, TextResponse) or response.status != 200:
            return response
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        decoding = decide(response.body, content_type)
        if decoding.declared:
            fixup = {"declared": web_name(decoding.declared), "used": web_name(decoding.encoding), "evidence": decoding.evidence or ""}
            request.meta[FIXUP_META] = fixup
            self.stats.inc_value("newscrawler/charset/fixed")
            logger.warning("%s: declared %s, decoded as %s (%s)", response.url, fixup["declared"], fixup["used"], fixup["evidence"])
        if canonical(response.encoding) == decoding.encoding:
            return response
        self.stats.inc_value(f"newscrawler/charset/decoded/{web_name(decoding.encoding)}")
        return response.replace(encoding=decoding.encoding)
