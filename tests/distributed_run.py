"""Workers of a distributed crawl as a user starts them (one `newscrawler crawl --distributed` subprocess each),
the Redis and PostgreSQL they share, and what a user checks afterwards (records in the store, the export)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
REDIS = os.environ.get("NEWSCRAWLER_TEST_REDIS", "redis://127.0.0.1:6379/0")
# Seconds: a killed worker's leases come back after LEASE; the fixture servers are local, so timeouts are short.
LEASE = 3
QUICK = (
    "-s", "NEWSCRAWLER_ALLOWED_ADDRESSES=127.0.0.1", "-s", f"NEWSCRAWLER_LEASE_SECONDS={LEASE}",
    "-s", "NEWSCRAWLER_EXTRACT_WORKERS=0", "-s", "DOWNLOAD_TIMEOUT=5", "-s", "NEWSCRAWLER_RETRY_BACKOFF_BASE=0.1",
    "-s", "NEWSCRAWLER_PROGRESS_SECONDS=0",
)


def redis_problem(url: str) -> str | None:
    """Why tests cannot use the Redis at `url`, or None."""
    try:
        import redis
    except ImportError:
        return "redis (the Python client) is not installed: pip install -e '.[test]'"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"no Redis at {url} ({error}); set NEWSCRAWLER_TEST_REDIS"
    return None


@dataclass
class Worker:
    process: subprocess.Popen[str]
    log: Path
    returncode: int | None = None

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Crawl:
    """The workers of one crawl: its Redis prefix, its state URL, the arguments each worker gets."""

    redis_url: str
    prefix: str
    state: str
    targets: list[str]
    directory: Path
    settings: tuple[str, ...] = ()
    workers: list[Worker] = field(default_factory=list)

    def switches(self) -> list[str]:
        return ["--distributed", self.redis_url, "--prefix", self.prefix, "--state", self.state]

    def start(self, count: int = 1, *extra: str) -> list[Worker]:
        started: list[Worker] = []
        for _ in range(count):
            log = self.directory / f"worker-{len(self.workers) + len(started) + 1}.log"
            command = [str(BIN / "newscrawler"), "crawl", *self.targets, *self.switches(), *QUICK, *self.settings, *extra]
            with log.open("w") as output:
                process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True)
            started.append(Worker(process, log))
        self.workers += started
        return started

    def wait(self, timeout: float = 240) -> list[Worker]:
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            if worker.returncode is None:
                try:
                    worker.returncode = worker.process.wait(max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    worker.process.kill()
                    worker.returncode = worker.process.wait()
                    raise AssertionError(f"worker did not finish in {timeout} s:\n{worker.text()[-3000:]}") from None
        return self.workers

    def kill(self, worker: Worker) -> None:
        worker.process.send_signal(signal.SIGKILL)
        worker.returncode = worker.process.wait()

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`newscrawler <args> <this crawl's switches>`, e.g. command("status"); export reads the store only."""
        switches = ["--state", self.state] if args[0] == "export" else self.switches()
        return subprocess.run([str(BIN / "newscrawler"), *args, *switches], capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()


def new_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class OwnRedis:
    """A redis-server of the test's own on a free loopback port, without persistence, that it can restart."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while redis_problem(self.url) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def own_redis(directory: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
