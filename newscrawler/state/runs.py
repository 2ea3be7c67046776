"""What each run leaves for its operators: its summary, per-site field coverage, and the drift alerts it raised."""

from __future__ import annotations

import json
import uuid
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


def run_id(stats: Any) -> str:
    """The crawl's run id, made by whichever component asks first, so coverage, alerts and the summary share it."""
    found = stats.get_value("newscrawler/run_id")
    if found is None:
        found = uuid.uuid4().hex
        stats.set_value("newscrawler/run_id", found)
    return found


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


def latest_runs(state: SQLState, limit: int) -> list[dict[str, Any]]:
    """The newest runs' summaries, oldest first, each with its run_id, times and finish reason."""
    rows = state.query(
        "SELECT run_id, started_at, finished_at, finish_reason, summary FROM runs ORDER BY finished_at DESC LIMIT ?", (limit,)
    )
    return [{**json.loads(summary), "run_id": run_id, "started_at": started, "finished_at": finished, "finish_reason": reason}
            for run_id, started, finished, reason, summary in reversed(rows)]


def coverage_rows(state: SQLState, run_ids: list[str]) -> list[tuple[str, str, str, str, int, int]]:
    """(run_id, site, finished_at, field, records, present) of the given runs."""
    if not run_ids:
        return []
    marks = ", ".join("?" * len(run_ids))
    return state.query(
        f"SELECT run_id, site, finished_at, field, records, present FROM coverage WHERE run_id IN ({marks}) ORDER BY finished_at",
        tuple(run_ids),
    )


def failure_examples(state: SQLState, per_reason: int = 3) -> dict[str, tuple[int, list[str]]]:
    """Failed and gone URLs by reason: how many, and the latest few."""
    found: dict[str, tuple[int, list[str]]] = {}
    for reason, url in state.query(
        "SELECT reason, url FROM urls WHERE state IN ('failed', 'gone') AND reason IS NOT NULL ORDER BY fetched_at DESC"
    ):
        count, examples = found.get(reason, (0, []))
        found[reason] = (count + 1, examples + [url] if len(examples) < per_reason else examples)
    return found


def first_versions(state: SQLState, limit: int) -> list[dict[str, Any]]:
    """The latest stored articles' first versions (what was published, and when it was first fetched)."""
    rows = state.query("SELECT line FROM records WHERE version = 1 ORDER BY seq DESC LIMIT ?", (limit,))
    return [json.loads(line) for line, in rows]
