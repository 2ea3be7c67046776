"""Crawl state: every URL one row with a state, every record version stored once (reference/reliability.md §A.4)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from newscrawler.state.sqlite import SQLiteState, StateError

__all__ = ["SQLiteState", "StateError", "open_state", "state_directory"]


def state_directory(settings: Any) -> Path:
    return Path(settings.get("NEWSCRAWLER_STATE") or ".newscrawler")


def open_state(settings: Any) -> SQLiteState:
    """The store named by NEWSCRAWLER_STATE, opened and checked; StateError names the directory and the fix."""
    window = timedelta(days=settings.getfloat("NEWSCRAWLER_RECRAWL_DAYS"))
    return SQLiteState(state_directory(settings), recrawl_window=window).open()
