"""Crawl state: every URL one row with a state, every record version stored once (reference/reliability.md §A.4).

SQLite in a directory by default (no server); PostgreSQL when the state is a postgresql:// URL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from scrapy import signals

from newscrawler.state.postgres import PostgresState, is_postgres_url
from newscrawler.state.sqlite import SQLiteState
from newscrawler.state.store import SQLState, StateError

__all__ = ["SQLState", "StateError", "crawler_state", "make_state", "open_state"]
DEFAULT_STATE = ".newscrawler"


def make_state(
    location: str | Path, recrawl_window: timedelta | None = None, site_windows: dict[str, timedelta] | None = None
) -> SQLState:
    """The store a --state value names: a postgresql:// URL, else a directory for SQLite. Not yet opened."""
    window: dict[str, Any] = {"recrawl_window": recrawl_window} if recrawl_window else {}
    window |= {"site_windows": site_windows} if site_windows else {}
    if is_postgres_url(str(location)):
        return PostgresState(str(location), **window)
    return SQLiteState(Path(location), **window)


def open_state(settings: Any) -> SQLState:
    """The store named by NEWSCRAWLER_STATE, opened and checked; StateError names it and the fix."""
    window = timedelta(days=settings.getfloat("NEWSCRAWLER_RECRAWL_DAYS"))
    by_site = {site: timedelta(days=float(days)) for site, days in settings.getdict("NEWSCRAWLER_RECRAWL_DAYS_BY_SITE").items()}
    return make_state(settings.get("NEWSCRAWLER_STATE") or DEFAULT_STATE, window, by_site).open()


def crawler_state(crawler: Any) -> SQLState | None:
    """The crawl's one opened store (None when NEWSCRAWLER_STORE_ENABLED is off), shared by the spider, the store
    pipeline and the failure log, so that their writes share one connection and can be committed together;
    closed when the engine stops, after every spider_closed handler has had its last write."""
    if not crawler.settings.getbool("NEWSCRAWLER_STORE_ENABLED"):
        return None
    state = getattr(crawler, "newscrawler_state", None)
    if state is None:
        state = crawler.newscrawler_state = open_state(crawler.settings)
        crawler.signals.connect(state.close, signal=signals.engine_stopped)
    return state
