"""WorkerPool: extraction in worker processes gives the same record as in-process, and errors come back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from newscrawler.extract import extract
from newscrawler.workers import WorkerPool

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


def test_an_error_in_a_worker_reaches_the_caller() -> None:
    with pytest.raises(AttributeError):
        run_in(WorkerPool(1), PAGE, "https://news.kz/regions/1-a.html", "not a datetime")
