"""Extraction off the reactor thread: parsing is CPU work, and one Scrapy process uses one core for its own I/O."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


def default_workers() -> int:
    """One process per core: the reactor's process mostly waits on sockets (measured: idle 2.4 s of an 8 s crawl
    with one worker), so workers on every core finish sooner; none (in-process) on a single core."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


def _warm_up() -> None:
    """Import the extraction stack and load the language model before the first page arrives."""
    from newscrawler.extract.language import detect_language

    detect_language("Прогрев модели определения языка перед первой страницей.")


class WorkerPool:
    """Runs a pure function (extract) in worker processes, or in-process when workers is 0.

    Worker processes are started by a forkserver, not fork(), because the reactor's threads must not be copied.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor: Executor | None = None
        if workers > 0:
            context = multiprocessing.get_context("forkserver")
            self.executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_warm_up)
            self.executor.submit(int)  # start the processes now, while the feed downloads

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.executor is None:
            return function(*args, **kwargs)
        return await asyncio.wrap_future(self.executor.submit(partial(function, *args, **kwargs)))

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
