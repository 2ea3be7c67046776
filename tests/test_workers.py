"""WorkerPool: extraction in worker processes gives the same record as in-process, and errors come back."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

import pytest

from newscrawler.extract import extract
from newscrawler.workers import IN_FLIGHT, WorkerPool

PAGE = "<html><head><meta name='generator' content='DataLife Engine'></head><body><div id='dle-content'><h1>Заголовок</h1><p>Текст статьи.</p></div></body></html>"
FETCHED = datetime(2022, 11, 23, 9, 0, tzinfo=UTC)


def run_in(pool: WorkerPool, *args: object) -> object:
    try:
        return asyncio.run(pool.run(extract, *args))
    finally:
        pool.close()


@pytest.mark.parametrize("workers", [0, 1])
def test_a_record_from_a_worker_equals_the_in_process_record(workers: int) -> None:
    record = run_in(WorkerPool(workers), PAGE, "https://news.kz/regions/1-a.html", FETCHED)
    assert record == extract(PAGE, "https://news.kz/regions/1-a.html", FETCHED)


def language_model_loaded() -> bool:
    from newscrawler.extract.language import identifier

    return identifier.cache_info().currsize == 1


def test_a_worker_has_the_language_model_before_its_first_page() -> None:
    """Unpacked once, in the forkserver the workers are forked from (newscrawler.preload), not by each worker."""
    pool = WorkerPool(1)
    try:
        assert asyncio.run(pool.run(language_model_loaded)) is True
    finally:
        pool.close()


def test_an_error_in_a_worker_reaches_the_caller() -> None:
    with pytest.raises(AttributeError):
        run_in(WorkerPool(1), PAGE, "https://news.kz/regions/1-a.html", "not a datetime")


def test_a_worker_that_dies_fails_its_call_and_the_pool_recovers() -> None:
    pool = WorkerPool(1)

    async def die_then_extract() -> object:
        with pytest.raises(BrokenProcessPool):
            await pool.run(os._exit, 1)  # as a segfault or the OOM killer would end a worker
        return await pool.run(extract, PAGE, "https://news.kz/regions/1-a.html", FETCHED)

    try:
        assert asyncio.run(die_then_extract()).title == "Заголовок"
    finally:
        pool.close()


def test_only_the_call_a_worker_died_on_fails_the_calls_queued_behind_it_run_on_its_replacement() -> None:
    pool = WorkerPool(1)

    async def die_among_extracts() -> list[object]:
        calls = [pool.run(os._exit, 1), *(pool.run(extract, PAGE, f"https://news.kz/regions/{n}-a.html", FETCHED) for n in range(6))]
        return await asyncio.gather(*calls, return_exceptions=True)

    try:
        died, *records = asyncio.run(die_among_extracts())
    finally:
        pool.close()
    assert isinstance(died, BrokenProcessPool)
    assert [record.title for record in records] == ["Заголовок"] * 6


def test_an_error_in_a_worker_carries_the_worker_s_traceback() -> None:
    with pytest.raises(AttributeError) as raised:
        run_in(WorkerPool(1), PAGE, "https://news.kz/regions/1-a.html", "not a datetime")
    assert "Traceback" in str(raised.value.__cause__) and "extract" in str(raised.value.__cause__)


def finished_at(page: bytes) -> float:
    """When a worker was done with a page that took it 50 ms (CLOCK_MONOTONIC is one clock for every process)."""
    time.sleep(0.05)
    return time.monotonic()


def test_a_worker_works_through_the_pages_it_holds_while_the_crawl_process_is_blocked() -> None:
    """A SQLite checkpoint stalls the reactor for 20 ms now and then: the pages already handed over must be in the
    kernel's socket buffer by then, not in this process waiting for the reactor to write them."""
    pool = WorkerPool(1)
    page = b"x" * 45_000  # 8 of them fit the buffer even where Linux caps it at its default wmem_max (2 x 208 KiB)

    async def stall() -> tuple[float, list[float]]:
        calls = [asyncio.ensure_future(pool.run(finished_at, page)) for _ in range(IN_FLIGHT)]
        await asyncio.sleep(0)  # every call written, as far as the socket takes them
        blocked = time.monotonic()
        time.sleep(1.0)  # the reactor stalls: nothing more is written to the worker meanwhile
        return blocked, await asyncio.gather(*calls)

    try:
        asyncio.run(pool.run(finished_at, b""))  # the worker is up
        blocked, finished = asyncio.run(stall())
    finally:
        pool.close()
    assert all(when < blocked + 1.0 for when in finished)  # 8 x 50 ms of work, all of it done during the stall


def test_calls_beyond_what_the_workers_hold_wait_in_the_backlog() -> None:
    pool = WorkerPool(1)

    async def submit() -> tuple[int, int]:
        calls = [asyncio.ensure_future(pool.run(extract, PAGE, f"https://news.kz/regions/{n}-a.html", FETCHED))
                 for n in range(IN_FLIGHT + 3)]
        await asyncio.sleep(0)  # every call is in the pool: IN_FLIGHT written to the worker, the rest waiting
        waiting = pool.backlog
        await asyncio.gather(*calls)
        return waiting, pool.backlog

    try:
        assert asyncio.run(submit()) == (3, 0)
    finally:
        pool.close()
