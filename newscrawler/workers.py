"""Extraction off the reactor thread: parsing is CPU work, and one Scrapy process uses one core for its own I/O.

Each worker process has a socket of its own to the crawl process, and the crawl process writes calls to it and reads
results from it in the reactor's own event loop, without threads. concurrent.futures.ProcessPoolExecutor, used
before, hands every call to a queue-feeder thread and every result back through a manager thread: four GIL
hand-overs and a wake-up pipe per page, 0.3 ms of the crawl process's CPU per page even for a call that does nothing
(benchmarks/crawl_throughput.py, 2 cores).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import socket
import struct
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


def default_workers() -> int:
    """One process per core but one: the crawl process needs a core of its own for I/O, storing and exporting
    (measured on 2 cores, 2 000 pages: 1 worker 173 pages/s, 2 workers 150, in-process 116); none on one core."""
    return (os.cpu_count() or 1) - 1


def worker_count(setting: str | int | None) -> int:
    """NEWSCRAWLER_EXTRACT_WORKERS as a number of processes: unset means default_workers(); ValueError if not a number."""
    return default_workers() if setting is None else int(setting)


WATCH_SECONDS = 1.0
# Calls written to a worker before their results are back: it finds its next page waiting while the reactor is busy,
# and when it dies, the call it was running fails and the others go to its replacement. Enough for the reactor's
# longest routine stall, a SQLite checkpoint of 20-25 ms every few batches, at 5 ms a page (2 000 pages, 2 cores:
# 4 -> 8 left the worker idle 0.4-0.5 s less).
IN_FLIGHT = 8
# The kernel holds those calls only if the socket's buffer does: its default (208 KiB) takes three 60 KB pages, and
# the rest waited in this process until the stalled reactor wrote them. Linux caps the request at net.core.wmem_max.
SEND_BUFFER = 4 << 20
# The forkserver's imports: the main module, as multiprocessing's default, and the extraction stack with its model.
PRELOAD = ["__main__", "newscrawler.preload"]
READ_SIZE = 1 << 16  # a record is 10-20 KB pickled; a larger buffer would be a fresh mmap() per read
_HEADER = struct.Struct("!i")  # multiprocessing.connection's framing: a signed 32-bit length, then the bytes
_LONG_HEADER = struct.Struct("!Q")  # after a length of -1: messages of 2 GiB and more


class RemoteTraceback(Exception):
    """The traceback of an error raised in a worker, as the __cause__ of the error the caller gets."""

    def __str__(self) -> str:
        return str(self.args[0])


def start_forkserver() -> None:
    """Start the forkserver now, and with it the loading of the extraction stack (newscrawler.preload), so that it
    is done by the time the spider asks for workers: the CLI calls this before it imports Scrapy."""
    multiprocessing.set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def _start_worker(crawl_pid: int) -> None:
    """Watch the crawl process: a worker whose crawl process is gone sees its socket close and exits; the watch also
    ends it within a second of a crawl killed with -9, should anything else still hold the socket's other end."""
    threading.Thread(target=_exit_with, args=(crawl_pid,), daemon=True, name="crawl-watch").start()


def _exit_with(crawl_pid: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        try:
            os.kill(crawl_pid, 0)
        except ProcessLookupError:
            os._exit(0)


def _serve(connection: Connection, crawl_pid: int) -> None:
    """A worker process: run the calls that arrive, in order, and send each result back, until the socket closes."""
    _start_worker(crawl_pid)
    while True:
        try:
            function, args, kwargs = pickle.loads(connection.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            reply = pickle.dumps((True, function(*args, **kwargs)), pickle.HIGHEST_PROTOCOL)
        except BaseException as error:  # noqa: BLE001 - every error goes back to the caller, as ProcessPoolExecutor did
            reply = _error_reply(error)
        try:
            connection.send_bytes(reply)
        except OSError:
            return


def _error_reply(error: BaseException) -> bytes:
    """The error and its traceback as text; an error that cannot be pickled goes back as a RuntimeError naming it."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    try:
        return pickle.dumps((False, (error, text)), pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an exception holding a lock, a socket...
        return pickle.dumps((False, (RuntimeError(f"{type(error).__name__}: {error}"), text)), pickle.HIGHEST_PROTOCOL)


@dataclass
class _Call:
    message: bytes
    future: asyncio.Future[Any]


@dataclass
class _Worker:
    """One worker process and the crawl process's end of its socket, written and read without blocking."""

    process: Any
    sock: socket.socket
    calls: deque[_Call] = field(default_factory=deque)  # written (or being written), results not yet back
    out: bytearray = field(default_factory=bytearray)
    received: bytearray = field(default_factory=bytearray)
    loop: asyncio.AbstractEventLoop | None = None
    writing: bool = False


class WorkerPool:
    """Runs a pure function (extract) in worker processes, or in-process when workers is 0.

    Worker processes are started by a forkserver, not fork(), because the reactor's threads must not be copied.
    Calls wait in one queue and go to the worker with the fewest calls in flight.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(PRELOAD)  # no effect on a forkserver start_forkserver() started already
        self.queue: deque[_Call] = deque()
        self.closed = False
        self.pool: list[_Worker] = [self._start() for _ in range(workers)]  # now, while the feed downloads

    def _start(self) -> _Worker:
        ours, theirs = socket.socketpair()
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        connection = Connection(theirs.detach())
        process = self.context.Process(target=_serve, args=(connection, os.getpid()), daemon=True, name="newscrawler-worker")
        process.start()
        connection.close()  # the worker's end is the worker's alone: when it dies, this process reads the end of the socket
        ours.setblocking(False)
        return _Worker(process, ours)

    @property
    def backlog(self) -> int:
        """Calls waiting for a worker: every worker already has IN_FLIGHT calls."""
        return len(self.queue)

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The function's result; BrokenProcessPool when the worker died on this call (a new one replaces it)."""
        if self.workers == 0:
            return function(*args, **kwargs)
        if self.closed:
            raise RuntimeError("the worker pool is closed")
        loop = asyncio.get_running_loop()
        call = _Call(pickle.dumps((function, args, kwargs), pickle.HIGHEST_PROTOCOL), loop.create_future())
        self.queue.append(call)
        self._dispatch(loop)
        return await call.future

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand queued calls to the least busy workers, up to IN_FLIGHT each."""
        while self.queue:
            worker = min(self.pool, key=lambda each: len(each.calls))
            if len(worker.calls) >= IN_FLIGHT:
                return
            call = self.queue.popleft()
            if call.future.cancelled():
                continue
            self._attach(worker, loop)
            worker.calls.append(call)
            size = len(call.message)
            worker.out += _HEADER.pack(size) if size < 0x7FFFFFFF else _HEADER.pack(-1) + _LONG_HEADER.pack(size)
            worker.out += call.message
            self._write(worker)

    def _attach(self, worker: _Worker, loop: asyncio.AbstractEventLoop) -> None:
        """Read the worker's results in this event loop (a test may run the pool in several, one after another)."""
        if worker.loop is loop:
            return
        if worker.loop is not None and not worker.loop.is_closed():
            worker.loop.remove_reader(worker.sock.fileno())
            worker.loop.remove_writer(worker.sock.fileno())
        worker.loop, worker.writing = loop, False
        loop.add_reader(worker.sock.fileno(), self._read, worker)

    def _write(self, worker: _Worker) -> None:
        """As much as the socket takes now; the rest when it is writable again."""
        try:
            sent = worker.sock.send(worker.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return  # the worker is gone: its reader sees the end of the socket and fails or requeues its calls
        del worker.out[:sent]
        if worker.out and not worker.writing:
            worker.loop.add_writer(worker.sock.fileno(), self._write, worker)
            worker.writing = True
        elif not worker.out and worker.writing:
            worker.loop.remove_writer(worker.sock.fileno())
            worker.writing = False

    def _read(self, worker: _Worker) -> None:
        try:
            data = worker.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._lost(worker)
            return
        worker.received += data
        for reply in self._replies(worker):
            call = worker.calls.popleft()
            if call.future.cancelled():
                continue
            try:
                ok, value = pickle.loads(reply)
            except Exception as error:  # noqa: BLE001 - an exception class whose arguments do not round-trip
                ok, value = False, (RuntimeError(f"the worker's reply could not be read: {error!r}"), "")
            if ok:
                call.future.set_result(value)
            else:
                error, text = value
                error.__cause__ = RemoteTraceback(f'\n"""\n{text}"""')
                call.future.set_exception(error)
        self._dispatch(worker.loop)

    @staticmethod
    def _replies(worker: _Worker) -> list[bytes]:
        """The complete messages received so far, taken off the buffer."""
        replies, buffer, start = [], worker.received, 0
        while len(buffer) - start >= _HEADER.size:
            size, header = _HEADER.unpack_from(buffer, start)[0], _HEADER.size
            if size == -1:
                if len(buffer) - start < _HEADER.size + _LONG_HEADER.size:
                    break
                size, header = _LONG_HEADER.unpack_from(buffer, start + _HEADER.size)[0], _HEADER.size + _LONG_HEADER.size
            if len(buffer) - start < header + size:
                break
            replies.append(bytes(buffer[start + header : start + header + size]))
            start += header + size
        del buffer[:start]
        return replies

    def _lost(self, worker: _Worker) -> None:
        """A worker died (a segfault, the OOM killer): its running call fails, a new worker takes the others."""
        loop = worker.loop
        self._detach(worker)
        worker.process.join(timeout=1)
        self.pool[self.pool.index(worker)] = self._start()
        if worker.calls:
            running = worker.calls.popleft()
            if not running.future.cancelled():
                running.future.set_exception(
                    BrokenProcessPool(f"a worker process died (exit code {worker.process.exitcode}) on this call")
                )
            self.queue.extendleft(reversed(worker.calls))
        if loop is not None and not loop.is_closed():
            self._dispatch(loop)

    @staticmethod
    def _detach(worker: _Worker) -> None:
        if worker.loop is not None and not worker.loop.is_closed():
            worker.loop.remove_reader(worker.sock.fileno())
            worker.loop.remove_writer(worker.sock.fileno())
        worker.loop = None
        worker.sock.close()

    def close(self) -> None:
        """Close the sockets: each worker finishes its call, sees the end and exits; calls still waiting are cancelled."""
        for call in self.queue:
            call.future.cancel()
        self.queue.clear()
        for worker in self.pool:
            for call in worker.calls:
                call.future.cancel()
            self._detach(worker)
        for worker in self.pool:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        self.pool = []
        self.closed = True
