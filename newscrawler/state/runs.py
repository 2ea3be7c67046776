"""What each run leaves for its operators: its summary, per-site field coverage, and the drift alerts it raised."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newscrawler.state.store import SQLState


@dataclass(frozen=True)
class Alert:
    site: str
    field: str
    coverage: float  # this run's share of records with the field
    baseline: float  # the share over the site's previous runs
    message: str


def save_run(state: SQLState, run_id: str, started: datetime, finished: datetime, summary: dict[str, Any]) -> None:
    with state.transaction():
        state.run(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?)",
            (run_id, started.isoformat(), finished.isoformat(), summary.get("finish_reason"),
             json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)),
        )


def save_coverage(state: SQLState, run_id: str, finished: datetime, site: str, records: int, present: dict[str, int]) -> None:
    with state.transaction():
        state.run_many(
            "INSERT INTO coverage VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, site, finished.isoformat(), field, records, count) for field, count in present.items()],
        )


def coverage_history(state: SQLState, site: str, field: str, before_run: str, runs: int) -> list[tuple[int, int]]:
    """(records, present) of the field in the site's latest earlier runs, newest first."""
    return state.query(
        "SELECT records, present FROM coverage WHERE site = ? AND field = ? AND run_id != ? ORDER BY finished_at DESC LIMIT ?",
        (site, field, before_run, runs),
    )


def save_alerts(state: SQLState, run_id: str, now: datetime, alerts: list[Alert]) -> None:
    with state.transaction():
        state.run_many(
            "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, a.site, a.field, a.coverage, a.baseline, a.message, now.isoformat()) for a in alerts],
        )


def recent_alerts(state: SQLState, limit: int = 100) -> list[Alert]:
    rows = state.query("SELECT site, field, coverage, baseline, message FROM alerts ORDER BY created_at DESC LIMIT ?", (limit,))
    return [Alert(*row) for row in rows]
