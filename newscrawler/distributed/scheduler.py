"""scrapy-redis's scheduler made reliable: requests are leased from the shared frontier, not popped, and
acknowledged once the state store has committed their outcome; Redis going away is waited out, not a crash.

A request's outcome is committed when the engine is done with it (its callback's items went through the store
pipeline, or its errback recorded the failure) and the store's open batch, which holds what it wrote, has been
committed. Requests that the engine hands back (a retry, a redirect) pass their lease on to the new request.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Self

from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from newscrawler.distributed.commands import redis_problem
from newscrawler.distributed.frontier import Frontier
from newscrawler.distributed.outage import Outage
from newscrawler.distributed.redis import FrontierUnavailable, redis_client
from newscrawler.state import StateError, crawler_state

logger = logging.getLogger(__name__)
LEASE_META = "frontier_lease"  # the token of the lease a request holds
RETRY_META = "frontier_processing_retries"
PROCESSING_RETRIES = 2  # a request whose processing raised is queued again this many times
STATS = "newscrawler/frontier/"


class FrontierQueue(Base):
    """scrapy-redis's request serialization over the frontier's leased queue."""

    frontier: Frontier
    worker: str

    def push(self, request: Request) -> None:
        self.frontier.push(self._encode_request(request))

    def pop(self, timeout: int = 0) -> Request | None:
        popped = self.frontier.pop(self.worker)
        if popped is None:
            return None
        token, payload = popped
        try:
            request = self._decode_request(payload)
        except Exception:  # a request this code cannot rebuild (a spider method renamed): dropped, said once
            logger.exception("frontier: request %s cannot be decoded; dropped", token)
            self.frontier.ack(self.worker, [token])
            return None
        request.meta[LEASE_META] = token
        return request

    def __len__(self) -> int:
        return len(self.frontier)


class ReliableScheduler(Scheduler):
    """One worker of a distributed crawl (its settings: newscrawler.distributed.apply_distributed)."""

    def __init__(self, crawler: Crawler, frontier: Frontier, redis_url: str) -> None:
        super().__init__(
            server=frontier.server, persist=True, queue_key=frontier.key["queue"],
            queue_cls=f"{FrontierQueue.__module__}.{FrontierQueue.__name__}",
            dupefilter=RFPDupeFilter(frontier.server, key=frontier.key["dupefilter"]),
        )
        settings = crawler.settings
        self.crawler, self.frontier, self.stats = crawler, frontier, crawler.stats
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.forever = settings.getbool("NEWSCRAWLER_FOREVER")
        self.seed_only = settings.getbool("NEWSCRAWLER_SEED_ONLY")
        self.pass_interval = settings.getfloat("NEWSCRAWLER_PASS_INTERVAL")
        self.lease_seconds = frontier.lease_ms / 1000
        self.outage = Outage(f"Redis at {redis_url}")
        self.leased: dict[str, Request] = {}  # tokens popped by this worker, not yet settled
        self.to_ack: set[str] = set()  # outcomes committed
        self.to_release: set[str] = set()  # outcomes lost with a failed commit, or never reached (shutdown)
        self.unsent: list[Request] = []  # scheduled while Redis was away
        self.epoch: str | None = None  # the pass this worker works in
        self.seeding = False
        self.drained_at: float | None = None
        self.last_reclaim = 0.0
        state = crawler_state(crawler)
        if state is None:
            raise FrontierUnavailable("a distributed crawl needs the state store (NEWSCRAWLER_STORE_ENABLED)")
        self.state = state
        self.store_outage = Outage(f"PostgreSQL at {state.location}")
        self.timer = LoopingCall(self.maintain)
        crawler.newscrawler_seeder = self

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url = settings.get("NEWSCRAWLER_REDIS_URL")
        if problem := redis_problem(url):
            raise FrontierUnavailable(problem)
        frontier = Frontier(redis_client(url), settings.get("NEWSCRAWLER_REDIS_PREFIX"),
                            settings.getfloat("NEWSCRAWLER_LEASE_SECONDS"))
        return cls(crawler, frontier, url)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = FrontierQueue(self.server, spider, self.queue_key, self.serializer)
        self.queue.frontier, self.queue.worker = self.frontier, self.worker
        self.state.commit_listeners.append(self.committed)
        self.crawler.signals.connect(self.idle, signal=signals.spider_idle)
        self.crawler.signals.connect(self.leave, signal=signals.spider_closed)
        self.crawler.signals.connect(self.processing_failed, signal=signals.item_error)
        self.crawler.signals.connect(self.processing_failed, signal=signals.spider_error)
        self.frontier.heartbeat(self.worker)
        self.timer.start(min(1.0, self.lease_seconds / 5), now=False)
        logger.info("frontier: worker %s, lease %g s, %d requests queued", self.worker, self.lease_seconds, len(self.frontier))

    # Scheduling

    def enqueue_request(self, request: Request) -> bool:
        handed_over = request.meta.pop(LEASE_META, None)  # a retry or redirect of a leased request carries its work on
        try:
            self.send_unsent()
            added = self.push(request)
        except RedisError as error:
            self.outage.down(error)
            self.unsent.append(request)
            added = True
        if handed_over is not None and self.leased.pop(handed_over, None) is not None:
            self.to_ack.add(handed_over)
        return added

    def next_request(self) -> Request | None:
        if self.seed_only or not self.outage.may_try():
            return None
        try:
            self.settle_with_redis()
            request = self.queue.pop()
        except RedisError as error:
            self.outage.down(error)
            return None
        self.outage.up()
        if request is not None:
            self.leased[request.meta[LEASE_META]] = request
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def push(self, request: Request) -> bool:
        """scrapy-redis's enqueue: the shared fingerprint set first, then the queue."""
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def has_pending_requests(self) -> bool:
        if self.seed_only:
            return False
        try:
            return bool(self.unsent) or len(self.frontier) > 0
        except RedisError as error:
            self.outage.down(error)
            return False

    def processing_failed(self, response: Any, failure: Any, **kwargs: Any) -> None:
        """A callback or the store raised (a deadlock past its retries, a store error, a bug): acknowledging the
        lease would lose the request's outcome, so it is queued again, PROCESSING_RETRIES times at most."""
        request = getattr(response, "request", None)
        if request is None or LEASE_META not in request.meta:
            return
        tries = request.meta.get(RETRY_META, 0)
        if tries >= PROCESSING_RETRIES:
            logger.error("frontier: %s failed %d times in processing; given up for this pass", request.url, tries + 1)
            return
        self.stats.inc_value(f"{STATS}processing_retries")
        self.enqueue_request(request.replace(dont_filter=True, meta={**request.meta, RETRY_META: tries + 1}))

    def send_unsent(self) -> None:
        while self.unsent:
            self.push(self.unsent[0])
            self.unsent.pop(0)

    # Acknowledgement

    def committed(self, ok: bool) -> None:
        """The store committed (or failed to): settle every leased request the engine is done with."""
        done = self.finished_tokens()
        (self.to_ack if ok else self.to_release).update(done)
        if not ok and done:
            logger.error("frontier: a commit failed; %d requests go back to the queue", len(done))

    def finished_tokens(self) -> list[str]:
        active = in_progress(self.crawler)
        done = [token for token, request in self.leased.items() if request not in active]
        for token in done:
            del self.leased[token]
        return done

    def settle_with_redis(self) -> None:
        """Send what waited for Redis: requests scheduled while it was away, then acknowledgements."""
        self.send_unsent()
        if not self.state.batch_open and not self.state.is_broken():  # all committed: what the engine finished is durable
            self.to_ack.update(self.finished_tokens())
        if self.to_ack:
            tokens = list(self.to_ack)
            self.frontier.ack(self.worker, tokens)
            self.to_ack.difference_update(tokens)
            self.stats.inc_value(f"{STATS}acked", len(tokens))
        if self.to_release:
            tokens = list(self.to_release)
            self.stats.inc_value(f"{STATS}released", self.frontier.release(self.worker, tokens))
            self.to_release.difference_update(tokens)

    # Upkeep: heartbeat, reclaiming dead workers' leases, noticing a lost frontier

    def maintain(self) -> None:
        if self.state.is_broken() or self.store_outage.since is not None:
            self.wait_for_store()
        if not self.outage.may_try():
            return
        try:
            self.settle_with_redis()
            self.frontier.heartbeat(self.worker)
            if self.seeding:
                self.frontier.keep_seeding(self.worker)
            if time.monotonic() - self.last_reclaim >= self.lease_seconds / 2:
                self.reclaim()
            self.notice_lost_frontier()
        except RedisError as error:
            self.outage.down(error)
        else:
            self.outage.up()
            wake(self.crawler)  # other workers may have queued work since this one went idle

    def wait_for_store(self) -> None:
        """The store's server went away: stop fetching what could not be stored, give back what was fetched since
        the last commit, and reconnect with backoff; then fetch again."""
        if self.store_outage.since is None:
            self.crawler.engine.pause()
            self.store_outage.down(ConnectionError("connection lost"))
            logger.error("frontier: fetching paused until the state store is back")
        self.to_release.update(self.finished_tokens())
        if not self.store_outage.may_try():
            return
        try:
            self.state.reconnect()
        except StateError as error:
            self.store_outage.down(error)
            return
        self.store_outage.up()
        self.crawler.engine.unpause()

    def reclaim(self) -> None:
        self.last_reclaim = time.monotonic()
        if moved := self.frontier.reclaim():
            self.stats.inc_value(f"{STATS}reclaimed", moved)
            logger.warning("frontier: reclaimed %d leases past their deadline (a worker stopped); re-queued", moved)

    def notice_lost_frontier(self) -> None:
        """A pass this worker saw open has vanished: Redis restarted without its data. Rebuild it from the store."""
        if self.seeding:
            return
        current = self.frontier.epoch()
        if current is not None:
            self.epoch = current
        elif self.epoch is not None:
            self.start_pass()

    # Passes: seeding, draining, closing

    def claim(self) -> bool:
        """Called before the start requests: True if this worker is to queue them (a new pass; `seed` always)."""
        if not self.frontier.claim_seeding(self.worker, force=self.seed_only):
            return False
        self.seeding = True
        self.frontier.begin_pass()
        return True

    def opened(self, count: int) -> None:
        """The start requests are queued (`count` of them): the pass is open."""
        self.send_unsent()
        self.epoch = self.frontier.open_pass()
        self.seeding = False
        self.drained_at = None
        self.stats.inc_value(f"{STATS}seeded", count)
        logger.info("frontier: pass %s open, %d start requests queued", self.epoch, count)

    def start_pass(self) -> None:
        """Queue the spider's start requests (feeds, then what the store says is due) as a new pass, unless
        another worker does it: a lost frontier rebuilt from the state store, or the next pass of --forever."""
        lost = self.epoch is not None and not self.epoch.endswith(":drained")
        if lost:
            logger.error("frontier: pass %s is gone from Redis (restarted without persistence?); rebuilding it from "
                         "the state store", self.epoch)
            self.stats.inc_value(f"{STATS}lost")
        self.epoch = None
        if self.claim():
            if not lost:
                logger.info("frontier: no pass open; this worker starts one (feeds and what the state store has pending)")
            new_pass = getattr(self.spider, "new_pass", None)
            if new_pass is not None:
                new_pass()
            deferred_from_coro(self.seed(self.spider.start()))

    async def seed(self, start: AsyncIterator[Any]) -> None:
        count = 0
        async for request in start:
            if isinstance(request, Request):
                self.enqueue_request(request)
                count += 1
        try:
            self.opened(count)
        except RedisError as error:  # the next upkeep finds no pass open and rebuilds again
            self.seeding = False
            self.outage.down(error)

    def idle(self) -> None:
        """Close only when the whole frontier is drained: nothing queued, leased by any worker, or being seeded."""
        if self.seed_only:
            return
        waiting = self.leased or self.unsent or self.to_ack or self.to_release or self.seeding
        if waiting or self.outage.since is not None or self.store_outage.since is not None or self.state.is_broken():
            raise DontCloseSpider
        try:
            if self.pass_done():
                return
        except RedisError as error:
            self.outage.down(error)
        raise DontCloseSpider

    def pass_done(self) -> bool:
        epoch = self.frontier.epoch()
        if epoch is None:  # nobody opened a pass, or Redis lost it: this worker rebuilds it (or waits for who does)
            self.start_pass()
            return False
        if not epoch.endswith(":drained"):
            if not self.frontier.try_drain(epoch):
                return False
            epoch += ":drained"
        self.epoch = epoch
        return self.next_pass_due()

    def next_pass_due(self) -> bool:
        """Without --forever the worker is done; with it, a new pass starts NEWSCRAWLER_PASS_INTERVAL s later."""
        if not self.forever:
            return True
        self.drained_at = self.drained_at or time.monotonic()
        if time.monotonic() - self.drained_at >= self.pass_interval:
            self.start_pass()
        return False

    def close(self, reason: str) -> None:
        """scrapy-redis would flush the queue here; the frontier outlives any one worker."""

    def leave(self) -> None:
        """After the store's last commit: settle, give back what this worker never finished, and sign off."""
        if self.timer.running:
            self.timer.stop()
        try:
            self.settle_with_redis()
            self.to_release.update(self.leased)
            self.leased.clear()
            self.settle_with_redis()
            self.frontier.leave(self.worker)
        except RedisError as error:
            logger.error("frontier: %s unreachable at exit (%s); this worker's leases return after %g s",
                         self.outage.name, error, self.lease_seconds)
        reclaimed = self.stats.get_value(f"{STATS}reclaimed", 0)
        logger.info("frontier: worker %s leaves; %d leases reclaimed by it in all", self.worker, reclaimed)


# Scrapy's engine has no public way to say "done with a request" or "look at the scheduler now"; its slot has both.
# These two functions are the only places that reach into it.


def in_progress(crawler: Crawler) -> set[Request]:
    """The requests the engine has not finished with (downloading, or their output still going through the spider
    and pipelines)."""
    slot = getattr(crawler.engine, "_slot", None)
    return slot.inprogress if slot is not None else set()


def wake(crawler: Crawler) -> None:
    """Make an idle engine ask the scheduler for requests now, not at its next 5 s heartbeat."""
    slot = getattr(crawler.engine, "_slot", None)
    if slot is not None and slot.closing is None:
        slot.nextcall.schedule()
