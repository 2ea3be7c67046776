"""Extraction off the reactor thread: parsing is CPU work, and one Scrapy process uses one core for its own I/O."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


def default_workers() -> int:
    """One process per core but one: the crawl process needs a core of its own for I/O, storing and exporting
    (measured on 2 cores, 2 000 pages: 1 worker 173 pages/s, 2 workers 150, in-process 116); none on one core."""
    return (os.cpu_count() or 1) - 1


WATCH_SECONDS = 1.0


def _start_worker(crawl_pid: int) -> None:
    """Watch the crawl process, then import the extraction stack and load the language model before the first page.

    Idle workers wait on a queue whose pipe they hold both ends of, so a crawl killed with -9 would leave them
    running for ever; the watch ends them within a second of their crawl.
    """
    threading.Thread(target=_exit_with, args=(crawl_pid,), daemon=True, name="crawl-watch").start()
    from newscrawler.extract.language import detect_language

    detect_language("Прогрев модели определения языка перед первой страницей.")


def _exit_with(crawl_pid: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        try:
            os.kill(crawl_pid, 0)
        except ProcessLookupError:
            os._exit(0)


class WorkerPool:
    """Runs a pure function (extract) in worker processes, or in-process when workers is 0.

    Worker processes are started by a forkserver, not fork(), because the reactor's threads must not be copied.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = self._start() if workers > 0 else None

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),))
        executor.submit(int)  # start the processes now, while the feed downloads
        return executor

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The function's result; BrokenProcessPool when a worker died on this call (the pool is then restarted)."""
        if self.executor is None:
            return function(*args, **kwargs)
        executor = self.executor
        try:
            return await asyncio.wrap_future(executor.submit(partial(function, *args, **kwargs)))
        except BrokenProcessPool:
            if self.executor is executor:  # the first of the calls that were in flight restarts it
                executor.shutdown(wait=False, cancel_futures=True)
                self.executor = self._start()
            raise

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
