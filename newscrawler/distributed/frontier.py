"""The shared frontier on Redis: a reliable queue of serialized requests with per-worker leases.

scrapy-redis pops requests destructively, so a worker killed mid-request loses them (reference/reliability.md §A.4).
Here a pop moves the request's token, in one Lua script, from the queue to the worker's lease set with a deadline;
the worker acknowledges it once its outcome is committed to the state store. A live worker's heartbeat renews its
deadlines; leases of a worker that stopped beating pass their deadline and any worker puts them back in the queue.

Keys (all under one prefix, so that crawls and tests never share one):
  queue          list of tokens, pushed left and popped right (FIFO; a re-queued token goes right, so it is next)
  requests       hash token -> serialized request
  leases:<w>     sorted set token -> deadline (ms) of worker w
  workers        hash w -> last heartbeat (ms)
  epoch          "<n>" while crawl pass n is open, "<n>:drained" once its frontier emptied (passes counts them)
  seeding        the worker that is pushing a pass's start requests (expires if it dies)
  dupefilter     scrapy-redis fingerprints of the open pass
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

TOKEN_BYTES = 12  # 96 random bits: no two requests of any number of passes share a token

PUSH = """
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('LPUSH', KEYS[1], ARGV[2])
"""

# Tokens whose request was acknowledged meanwhile (a slow worker finished a reclaimed lease) have no payload: skipped.
# A worker's first pop registers it, so that its leases are reclaimed even if it dies before its first heartbeat.
POP = """
redis.call('HSETNX', KEYS[4], ARGV[2], ARGV[3])
for _ = 1, 100 do
  local token = redis.call('RPOP', KEYS[1])
  if not token then return nil end
  local payload = redis.call('HGET', KEYS[2], token)
  if payload then
    redis.call('ZADD', KEYS[3], ARGV[1], token)
    return {token, payload}
  end
end
return nil
"""

RELEASE = """
local moved = 0
for i = 1, #ARGV do
  if redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i])
    moved = moved + 1
  end
end
return moved
"""

HEARTBEAT = """
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local tokens = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, token in ipairs(tokens) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], token) end
return #tokens
"""

# Leases past their deadline go back to the queue; a worker silent for `ARGV[2]` ms with no lease left is forgotten.
RECLAIM = """
local prefix, now, silent = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local moved = 0
for _, worker in ipairs(redis.call('HKEYS', prefix .. 'workers')) do
  local leases = prefix .. 'leases:' .. worker
  for _, token in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do
    redis.call('ZREM', leases, token)
    redis.call('RPUSH', prefix .. 'queue', token)
    moved = moved + 1
  end
  local beat = tonumber(redis.call('HGET', prefix .. 'workers', worker))
  if redis.call('ZCARD', leases) == 0 and beat < now - silent then redis.call('HDEL', prefix .. 'workers', worker) end
end
return moved
"""

# A pass may start when none is open (first run, previous pass drained, or Redis lost its data) and nobody seeds.
CLAIM_SEEDING = """
local epoch = redis.call('GET', KEYS[1])
if epoch and not string.find(epoch, ':drained', 1, true) and ARGV[3] == '0' then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""

DRAIN = """
local prefix = KEYS[1]
if redis.call('GET', prefix .. 'epoch') ~= ARGV[1] or redis.call('EXISTS', prefix .. 'seeding') == 1 then return 0 end
if redis.call('LLEN', prefix .. 'queue') > 0 then return 0 end
for _, worker in ipairs(redis.call('HKEYS', prefix .. 'workers')) do
  if redis.call('ZCARD', prefix .. 'leases:' .. worker) > 0 then return 0 end
end
redis.call('SET', prefix .. 'epoch', ARGV[1] .. ':drained')
return 1
"""


@dataclass(frozen=True)
class FrontierStatus:
    """What an operator watches: requests waiting, leases in flight per worker, the pass and who is alive."""

    queued: int
    leases: dict[str, int]
    heartbeats: dict[str, float]  # worker -> seconds since its last heartbeat
    epoch: str | None
    seeding: str | None
    fingerprints: int


class Frontier:
    """One crawl's shared frontier. Each change is one Lua script or one pipeline, so a worker that dies between two
    calls leaves no half-done move; every method raises redis.exceptions.ConnectionError when Redis is away, and the
    scheduler decides what to do then."""

    def __init__(self, server: Any, prefix: str, lease_seconds: float) -> None:
        self.server = server
        self.prefix = prefix.rstrip(":") + ":"
        self.lease_ms = int(lease_seconds * 1000)
        names = ("queue", "requests", "workers", "epoch", "seeding", "passes", "dupefilter")
        self.key = {name: self.prefix + name for name in names}
        self.scripts = {name: server.register_script(source) for name, source in {
            "push": PUSH, "pop": POP, "release": RELEASE, "heartbeat": HEARTBEAT, "reclaim": RECLAIM,
            "claim": CLAIM_SEEDING, "drain": DRAIN}.items()}

    def leases_key(self, worker: str) -> str:
        return f"{self.prefix}leases:{worker}"

    def push(self, payload: bytes) -> str:
        """Queue a serialized request; its token names it until it is acknowledged.

        Tokens are random, not a Redis counter: a Redis restarted without its data would count again from 1, and a
        worker that held token 7 before the restart would acknowledge, and so delete, the new request 7 after it.
        """
        token = secrets.token_hex(TOKEN_BYTES)
        self.scripts["push"](keys=[self.key["queue"], self.key["requests"]], args=[payload, token])
        return token

    def pop(self, worker: str) -> tuple[str, bytes] | None:
        """The next request, leased to `worker` until its deadline (renewed by its heartbeats)."""
        now = now_ms()
        found = self.scripts["pop"](keys=[self.key["queue"], self.key["requests"], self.leases_key(worker), self.key["workers"]],
                                    args=[now + self.lease_ms, worker, now])
        return (found[0].decode(), found[1]) if found else None

    def ack(self, worker: str, tokens: list[str]) -> None:
        """The requests' outcomes are committed: forget them."""
        if tokens:
            pipe = self.server.pipeline()
            pipe.zrem(self.leases_key(worker), *tokens)
            pipe.hdel(self.key["requests"], *tokens)
            pipe.execute()

    def release(self, worker: str, tokens: list[str]) -> int:
        """Give leased requests back (their outcome was not committed): they are popped next, by any worker."""
        if not tokens:
            return 0
        return int(self.scripts["release"](keys=[self.key["queue"], self.leases_key(worker)], args=tokens))

    def heartbeat(self, worker: str) -> int:
        """Say `worker` is alive and push its lease deadlines forward; returns its number of leases."""
        now = now_ms()
        return int(self.scripts["heartbeat"](keys=[self.leases_key(worker), self.key["workers"]],
                                             args=[worker, now, now + self.lease_ms]))

    def reclaim(self) -> int:
        """Re-queue every lease past its deadline (its worker died or hangs); returns how many."""
        return int(self.scripts["reclaim"](keys=[self.prefix], args=[now_ms(), self.lease_ms]))

    def leave(self, worker: str) -> None:
        pipe = self.server.pipeline()
        pipe.hdel(self.key["workers"], worker)
        pipe.delete(self.leases_key(worker))
        pipe.execute()

    def claim_seeding(self, worker: str, *, force: bool = False) -> bool:
        """True if `worker` is to push a new pass's start requests: no pass is open and nobody else seeds
        (`force`: seed even into an open pass, as `newscrawler seed` does)."""
        return bool(self.scripts["claim"](keys=[self.key["epoch"], self.key["seeding"]],
                                          args=[worker, self.lease_ms, int(force)]))

    def keep_seeding(self, worker: str) -> None:
        self.server.set(self.key["seeding"], worker, px=self.lease_ms, xx=True)

    def begin_pass(self) -> None:
        """A new pass forgets the last one's fingerprints, so articles due again are fetched again."""
        epoch = self.server.get(self.key["epoch"])
        if epoch is None or epoch.endswith(b":drained"):
            self.forget_fingerprints()

    def forget_fingerprints(self) -> None:
        self.server.delete(self.key["dupefilter"])

    def open_pass(self) -> str:
        """The start requests are all queued: the pass is open (kept when it already was)."""
        pipe = self.server.pipeline()
        pipe.get(self.key["epoch"])
        pipe.incr(self.key["passes"])
        current, number = pipe.execute()
        epoch = current.decode() if current and not current.endswith(b":drained") else str(number)
        pipe.set(self.key["epoch"], epoch)
        pipe.delete(self.key["seeding"])
        pipe.execute()
        return epoch

    def epoch(self) -> str | None:
        value = self.server.get(self.key["epoch"])
        return value.decode() if value is not None else None

    def try_drain(self, epoch: str) -> bool:
        """Mark the pass drained if nothing is queued, leased or being seeded; True if it is (now) drained."""
        return bool(self.scripts["drain"](keys=[self.prefix], args=[epoch])) or self.epoch() == f"{epoch}:drained"

    def __len__(self) -> int:
        return int(self.server.llen(self.key["queue"]))

    def status(self) -> FrontierStatus:
        workers = {name.decode(): int(beat) for name, beat in self.server.hgetall(self.key["workers"]).items()}
        pipe = self.server.pipeline()
        pipe.llen(self.key["queue"])
        pipe.get(self.key["seeding"])
        pipe.scard(self.key["dupefilter"])
        for worker in workers:
            pipe.zcard(self.leases_key(worker))
        queued, seeding, fingerprints, *leases = pipe.execute()
        now = now_ms()
        return FrontierStatus(
            queued=queued, leases=dict(zip(workers, leases)),
            heartbeats={worker: (now - beat) / 1000 for worker, beat in workers.items()},
            epoch=self.epoch(), seeding=seeding.decode() if seeding else None, fingerprints=fingerprints,
        )

    def clear(self) -> None:
        """Remove every key of this frontier (tests, and `newscrawler frontier clear`)."""
        keys = list(self.server.scan_iter(match=self.prefix + "*", count=1000))
        if keys:
            self.server.delete(*keys)


def now_ms() -> int:
    return int(time.time() * 1000)
