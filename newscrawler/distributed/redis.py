"""The Redis client of a distributed crawl: fail fast, never retry inside a call (it would stall the reactor)."""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

TIMEOUT_SECONDS = 5.0


class FrontierUnavailable(RuntimeError):
    """The distributed crawl cannot start; the message names the server and the fix."""


def redis_client(url: str) -> Any:
    return Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS,
                          retry=Retry(NoBackoff(), 0), health_check_interval=0)
