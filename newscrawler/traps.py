"""URL traps and crawl budgets: every request a spider makes (feeds, articles, and whatever follows links: archive
walks, comment pages) passes here, so no site can hold the crawl forever (reliability.md §A.3, §A.5 test 18).

- A URL whose path repeats a segment (`/news/news/news/1.html`, the mark of relative links gone wrong) is refused
  with a failure line, as Nutch's default URL filter and Heritrix's PathologicalPathDecideRule do.
- A request deeper than DEPTH_LIMIT links from its start (a calendar whose "next day" never ends) is refused with a
  failure line; Scrapy's own DepthMiddleware would drop it with a DEBUG line only.
- Past NEWSCRAWLER_MAX_PAGES_PER_SITE requests to one site in a run, the rest wait for the next run: counted and
  logged once per site. URLs from feeds stay due in the state store; link-following code should put what it finds
  there too before it asks for it.
"""

from __future__ import annotations

import logging
from collections import Counter
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from newscrawler.failures import failure_recorded
from newscrawler.items import Failure
from newscrawler.urls import site_name

logger = logging.getLogger(__name__)


def repeated_segment(url: str, max_repeats: int) -> str | None:
    """The path segment that occurs more than max_repeats times, if any (the file name counts too)."""
    counts = Counter(segment for segment in urlsplit(url).path.split("/") if segment)
    return next((segment for segment, n in counts.items() if n > max_repeats), None)


class CrawlBudgetMiddleware(BaseSpiderMiddleware):
    """Placed outside Scrapy's DepthMiddleware (900) so it sees every request first and can say why it drops one."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWLER_BUDGET_ENABLED"):
            raise NotConfigured
        self.max_pages = settings.getint("NEWSCRAWLER_MAX_PAGES_PER_SITE")
        self.max_depth = settings.getint("DEPTH_LIMIT")
        self.max_repeats = settings.getint("NEWSCRAWLER_MAX_SEGMENT_REPEATS")
        self.stats = crawler.stats
        self.pages: Counter[str] = Counter()

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if (segment := repeated_segment(request.url, self.max_repeats)) is not None:
            return self.refuse(request, "trap_repeated_segment", f"path repeats {segment!r}")
        depth = 0 if response is None or request.meta.get("depth_reset") else response.meta.get("depth", 0) + 1
        if self.max_depth and depth > self.max_depth:
            return self.refuse(request, "depth_limit", f"{depth} links from its start, DEPTH_LIMIT is {self.max_depth}")
        site = site_name(request.url)
        if self.max_pages and self.pages[site] >= self.max_pages:
            return self.postpone(site)
        self.pages[site] += 1
        return request

    def refuse(self, request: Request, reason: str, detail: str) -> None:
        logger.warning("not fetching %s: %s", request.url, detail)
        failure = Failure(request.url, request.meta.get("stage", "download"), reason)
        self.crawler.signals.send_catch_log(failure_recorded, failure=failure)

    def postpone(self, site: str) -> None:
        key = f"newscrawler/budget/postponed/{site}"
        if not self.stats.get_value(key):
            logger.warning("%s reached its page budget of %d requests this run (NEWSCRAWLER_MAX_PAGES_PER_SITE); "
                           "the rest wait for the next run", site, self.max_pages)
        self.stats.inc_value(key)
        self.stats.inc_value("newscrawler/budget/postponed")
