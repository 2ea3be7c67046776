"""Scrapy's `<meta http-equiv=refresh>` redirects, without decoding every page in the crawl process.

Scrapy's MetaRefreshMiddleware looks for the tag in `response.text[:4096]`, and `response.text` decodes the whole
page: 60 KB for a news article, in the crawl process, which otherwise hands the undecoded bytes to an extraction
worker (3 % of that process's CPU on benchmarks/crawl_throughput.py's pages). The first 4 096 characters lie within
the first 16 384 bytes in every encoding (none takes more than 4 bytes a character): a page whose first 16 KB,
decoded as `response.text` would decode them, do not say "refresh" has no such tag, and goes on untouched. Any
other page is Scrapy's to read, with its settings (METAREFRESH_*) and behaviour.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from w3lib.encoding import html_to_unicode

HEAD_CHARS = 4096  # what Scrapy's get_meta_refresh reads of response.text
HEAD_BYTES = 4 * HEAD_CHARS


def may_refresh(response: HtmlResponse) -> bool:
    """False when the page's first HEAD_CHARS characters cannot hold a meta refresh."""
    head = html_to_unicode(f"charset={response.encoding}", response.body[:HEAD_BYTES])[1][:HEAD_CHARS]
    return "refresh" in head.lower()


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if isinstance(response, HtmlResponse) and not may_refresh(response):
            return response
        return super().process_response(request, response)
