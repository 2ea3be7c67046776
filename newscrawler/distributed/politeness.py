"""Politeness across workers: one request per host slot per delay, whichever worker sends it.

Each worker's own download slots keep their delay and concurrency; this gate sits in the download handler, at the
moment a request is sent, and takes the slot's Redis key for `delay` (SET NX PX), so three workers do not triple
the request rate on one site. Redis away: the gate opens (each worker's own delay still holds) and says so.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from newscrawler.distributed.redis import redis_client

logger = logging.getLogger(__name__)


class SharedPolitenessHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.server = redis_client(settings.get("NEWSCRAWLER_REDIS_URL"))
        self.prefix = settings.get("NEWSCRAWLER_REDIS_PREFIX").rstrip(":") + ":host:"
        self.default_delay = settings.getfloat("DOWNLOAD_DELAY")
        self.slot_delays = {name: float(slot.get("delay") or 0) for name, slot in settings.getdict("DOWNLOAD_SLOTS").items()}
        self.stats = crawler.stats
        self.gate_open_logged = False

    async def download_request(self, request: Request) -> Response:
        await self.wait_for_slot(request)
        return await super().download_request(request)

    async def wait_for_slot(self, request: Request) -> None:
        slot = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
        delay_ms = int(self.slot_delays.get(slot, self.default_delay) * 1000)
        if delay_ms <= 0:
            return
        key = self.prefix + slot
        try:
            while not self.server.set(key, 1, nx=True, px=delay_ms):
                wait_ms = self.server.pttl(key)
                self.stats.inc_value("newscrawler/politeness/shared_waits")
                await asyncio.sleep(max(wait_ms, 1) / 1000)
        except RedisError as error:
            if not self.gate_open_logged:
                logger.warning("shared politeness: Redis unreachable (%s); each worker keeps its own delay only", error)
                self.gate_open_logged = True
