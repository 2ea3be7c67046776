"""Live progress: a display that redraws in place on a terminal, a plain log line at intervals elsewhere.

Shown: feed items, pages fetched, records, failures, pages/s, requests still to do, and an estimate of the time
left (what remains over the recent rate: meaningful for backfills, where the queue is long).
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    feed_items: int
    pages: int
    records: int
    failures: int
    remaining: int  # requests queued or downloading
    rate: float  # pages/s since the previous snapshot

    @property
    def eta(self) -> str:
        if not self.remaining:
            return "-"
        if self.rate <= 0:
            return "?"
        seconds = int(self.remaining / self.rate)
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def line(self) -> str:
        return (f"progress: feed items {self.feed_items}, pages {self.pages}, records {self.records}, "
                f"failures {self.failures}, {self.rate:.1f} pages/s, {self.remaining} to do, ETA {self.eta}")


class Progress:
    def __init__(self, crawler: Crawler, interval: float, live: bool) -> None:
        self.crawler = crawler
        self.interval = interval
        self.live: Any = None
        self.want_live = live
        self.last = (time.monotonic(), 0)
        self.timer = LoopingCall(self.tick)
        crawler.signals.connect(self.start, signal=signals.spider_opened)
        crawler.signals.connect(self.stop, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("NEWSCRAWLER_PROGRESS_SECONDS")
        if interval <= 0:
            raise NotConfigured
        live = crawler.settings.getbool("NEWSCRAWLER_PROGRESS_LIVE") and sys.stdout.isatty()
        return cls(crawler, min(interval, 0.5) if live else interval, live)

    def snapshot(self) -> Snapshot:
        stats = self.crawler.stats
        pages = stats.get_value("downloader/response_count", 0)
        now, (before, pages_before) = time.monotonic(), self.last
        self.last = (now, pages)
        queued = stats.get_value("scheduler/enqueued", 0) - stats.get_value("scheduler/dequeued", 0)
        downloader = getattr(self.crawler.engine, "downloader", None)
        return Snapshot(
            feed_items=stats.get_value("newscrawler/feed/items", 0), pages=pages,
            records=stats.get_value("item_scraped_count", 0), failures=stats.get_value("newscrawler/failures", 0),
            remaining=queued + len(getattr(downloader, "active", ())), rate=(pages - pages_before) / max(now - before, 1e-6),
        )

    def start(self, spider: Spider) -> None:
        if self.want_live:
            self.live = LiveDisplay()
        self.timer.start(self.interval, now=False)

    def tick(self) -> None:
        snapshot = self.snapshot()
        if self.live is not None:
            self.live.show(snapshot)
        else:
            logger.info(snapshot.line())

    def stop(self, spider: Spider) -> None:
        if self.timer.running:
            self.timer.stop()
        if self.live is not None:
            self.live.show(self.snapshot())
            self.live.close()


class LiveDisplay:
    """A rich panel on stdout; log lines (stderr) print above it instead of through it."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.live = Live(console=Console(file=sys.stdout), refresh_per_second=4, redirect_stderr=True)
        self.live.start()
        self.handlers = [h for h in logging.root.handlers if isinstance(h, logging.StreamHandler) and h.stream is sys.__stderr__]
        for handler in self.handlers:  # Scrapy's handler holds the real stderr, which Live's redirect cannot see
            handler.setStream(sys.stderr)

    def show(self, snapshot: Snapshot) -> None:
        from rich.table import Table

        table = Table(title="newscrawler", show_header=False, min_width=40)
        for name, value in (("feed items", snapshot.feed_items), ("pages fetched", snapshot.pages),
                            ("records", snapshot.records), ("failures", snapshot.failures),
                            ("pages/s", f"{snapshot.rate:.1f}"), ("to do", snapshot.remaining), ("ETA", snapshot.eta)):
            table.add_row(name, str(value))
        self.live.update(table, refresh=True)

    def close(self) -> None:
        self.live.stop()
        for handler in self.handlers:
            handler.setStream(sys.__stderr__)
