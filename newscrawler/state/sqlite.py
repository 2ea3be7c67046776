"""The embedded state store: SQLite in WAL mode, one file in the state directory, no server."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
DB_NAME = "state.sqlite3"
# Re-fetch an article while it is young, less and less often while it stays unchanged (then never, unless --refresh).
RECRAWL_BACKOFF = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6), timedelta(days=1))
RECRAWL_WINDOW = timedelta(days=3)
# Fields whose change makes a new record version; views and fetched_at are snapshots, not edits.
VERSIONED_FIELDS = ("title", "body", "comments")

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE urls (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('discovered', 'leased', 'stored', 'failed', 'gone')),
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    hints TEXT,
    lease_until TEXT,
    discovered_at TEXT NOT NULL,
    fetched_at TEXT,
    next_fetch_at TEXT,
    unchanged_fetches INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT,
    record_id TEXT
);
CREATE INDEX urls_due ON urls (state, next_fetch_at);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    change_key TEXT NOT NULL,
    site TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    line TEXT NOT NULL,
    UNIQUE (id, version)
);
CREATE TABLE aliases (url TEXT PRIMARY KEY, record_id TEXT NOT NULL);
CREATE TABLE exports (path TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE feeds (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, fetched_at TEXT NOT NULL);
"""


class StateError(RuntimeError):
    """The state directory cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class Stored:
    """What storing a record did: a new version (written to JSONL) or nothing new."""

    record_id: str
    version: int
    new: bool
    version_fields: dict[str, Any] = field(default_factory=dict)  # version, previous_version_hash, changed_fields


def change_key(record: dict[str, Any]) -> str:
    return json.dumps([record.get(name) for name in VERSIONED_FIELDS], ensure_ascii=False, sort_keys=True)


def record_line(record: dict[str, Any]) -> str:
    """The JSONL line of a record: UTF-8, keys sorted."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


class SQLiteState:
    def __init__(self, directory: Path, recrawl_window: timedelta = RECRAWL_WINDOW) -> None:
        self.directory = Path(directory)
        self.recrawl_window = recrawl_window
        self.path = self.directory / DB_NAME
        self.db: sqlite3.Connection | None = None

    def open(self) -> SQLiteState:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses no commit
            self._check_schema()
        except sqlite3.DatabaseError as error:
            raise StateError(f"state {self.path}: {error}; point --state at another directory or remove this one")
        except OSError as error:
            raise StateError(f"state directory {self.directory}: {error.strerror}; choose another with --state")
        return self

    def _check_schema(self) -> None:
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            with self.transaction() as db:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    db.execute(statement)
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            return
        found = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() if "meta" in tables else None
        version = int(found[0]) if found else 0
        if version != SCHEMA_VERSION:
            raise StateError(
                f"state {self.path} has schema version {version}, this newscrawler reads version {SCHEMA_VERSION}; "
                "export what you need with the newscrawler that wrote it, then start a new --state directory"
            )

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def discover(self, site: str, urls: Iterable[tuple[str, dict[str, Any]]], now: datetime) -> None:
        """New URLs start 'discovered' with the hints the feed gave; known URLs keep their state."""
        rows = [(url, site, json.dumps(hints, ensure_ascii=False), now.isoformat()) for url, hints in urls]
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO urls (url, site, state, hints, discovered_at) VALUES (?, ?, 'discovered', ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET hints = excluded.hints", rows,
            )

    def due(self, now: datetime, *, refresh: bool = False, max_attempts: int = 3) -> list[tuple[str, dict[str, Any]]]:
        """URLs to fetch now: never stored, leases a dead run left, failures with attempts left, re-crawls due."""
        stamp = now.isoformat()
        rows = self.db.execute(
            "SELECT url, hints FROM urls WHERE state IN ('discovered', 'leased') "
            "OR (state = 'failed' AND attempts < ?) "
            "OR (state = 'stored' AND (? OR (next_fetch_at IS NOT NULL AND next_fetch_at <= ?))) ORDER BY discovered_at, url",
            (max_attempts, refresh, stamp),
        )
        return [(url, json.loads(hints or "{}")) for url, hints in rows]

    def lease(self, urls: Iterable[str], until: datetime) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE urls SET state = 'leased', lease_until = ? WHERE url = ? AND state != 'stored'",
                [(until.isoformat(), url) for url in urls],
            )

    def fail(self, url: str, reason: str, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE urls SET state = 'failed', reason = ?, attempts = attempts + 1, fetched_at = ?, lease_until = NULL "
                "WHERE url = ? AND state != 'stored'", (reason, now.isoformat(), url),
            )

    def store(self, url: str, record: dict[str, Any], now: datetime) -> Stored:
        """One transaction: the record version (if its text or comments changed), the URL's state, its aliases."""
        with self.transaction() as db:
            latest = db.execute(
                "SELECT version, content_hash, change_key, line FROM records WHERE id = ? ORDER BY version DESC LIMIT 1",
                (record["id"],),
            ).fetchone()
            key = change_key(record)
            unchanged = latest is not None and latest[2] == key
            stored = Stored(record["id"], latest[0], False) if unchanged else self._insert_version(db, record, key, latest, now)
            self._mark_stored(db, url, record, stored, now, unchanged)
        return stored

    def _insert_version(self, db: sqlite3.Connection, record: dict[str, Any], key: str, latest: tuple | None, now: datetime) -> Stored:
        previous = json.loads(latest[3]) if latest else {}
        version_fields = {
            "version": latest[0] + 1 if latest else 1,
            "previous_version_hash": latest[1] if latest else None,
            "changed_fields": [name for name in VERSIONED_FIELDS if previous.get(name) != record.get(name)] if latest else [],
        }
        db.execute(
            "INSERT INTO records (id, version, content_hash, change_key, site, stored_at, line) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record["id"], version_fields["version"], record["content_hash"], key, record["site"], now.isoformat(),
             record_line({**record, **version_fields})),
        )
        return Stored(record["id"], version_fields["version"], True, version_fields)

    def _mark_stored(self, db: sqlite3.Connection, url: str, record: dict[str, Any], stored: Stored, now: datetime, unchanged: bool) -> None:
        db.execute(
            "INSERT INTO urls (url, site, state, discovered_at) VALUES (?, ?, 'stored', ?) ON CONFLICT (url) DO NOTHING",
            (url, record["site"], now.isoformat()),
        )
        row = db.execute("SELECT unchanged_fetches FROM urls WHERE url = ?", (url,)).fetchone()
        unchanged_fetches = row[0] + 1 if unchanged else 0
        next_fetch = self._next_fetch(record, unchanged_fetches, now)
        db.execute(
            "UPDATE urls SET state = 'stored', reason = NULL, lease_until = NULL, fetched_at = ?, content_hash = ?, "
            "record_id = ?, unchanged_fetches = ?, next_fetch_at = ? WHERE url = ?",
            (now.isoformat(), record["content_hash"], stored.record_id, unchanged_fetches,
             next_fetch.isoformat() if next_fetch else None, url),
        )
        db.executemany(
            "INSERT INTO aliases (url, record_id) VALUES (?, ?) ON CONFLICT (url) DO NOTHING",
            [(alias, stored.record_id) for alias in {url, record["url"], record["canonical_url"]}],
        )

    def _next_fetch(self, record: dict[str, Any], unchanged_fetches: int, now: datetime) -> datetime | None:
        """Young articles come back on a backing-off schedule (edits, new comments); old ones only with --refresh."""
        published = record.get("published_at")
        young = published is None or datetime.fromisoformat(published) > now - self.recrawl_window
        if not young or unchanged_fetches >= len(RECRAWL_BACKOFF):
            return None
        return now + RECRAWL_BACKOFF[unchanged_fetches]

    def feed_validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified the feed last answered with, for a conditional request."""
        row = self.db.execute("SELECT etag, last_modified FROM feeds WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save_feed(self, url: str, etag: str | None, last_modified: str | None, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO feeds VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
                "last_modified = excluded.last_modified, fetched_at = excluded.fetched_at",
                (url, etag, last_modified, now.isoformat()),
            )

    def export_position(self, path: str) -> tuple[int, int]:
        """(last record seq written to the file, the file's size then); (0, 0) for a file never written."""
        row = self.db.execute("SELECT last_seq, size FROM exports WHERE path = ?", (path,)).fetchone()
        return (row[0], row[1]) if row else (0, 0)

    def set_export_position(self, path: str, last_seq: int, size: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO exports VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE SET last_seq = excluded.last_seq, "
                "size = excluded.size", (path, last_seq, size),
            )

    def lines_after(self, seq: int) -> list[tuple[int, str]]:
        return self.db.execute("SELECT seq, line FROM records WHERE seq > ? ORDER BY seq", (seq,)).fetchall()

    def seq_of(self, record_id: str, version: int) -> int | None:
        row = self.db.execute("SELECT seq FROM records WHERE id = ? AND version = ?", (record_id, version)).fetchone()
        return row[0] if row else None

    def counts(self) -> dict[str, int]:
        """URLs by state, and record versions: what an operator checks."""
        found = dict(self.db.execute("SELECT state, count(*) FROM urls GROUP BY state").fetchall())
        found["record_versions"] = self.db.execute("SELECT count(*) FROM records").fetchone()[0]
        return found

    def export_lines(self, *, since: str = "", site: str | None = None) -> list[str]:
        """Stored versions in store order, optionally from a time on (ISO, UTC) and for one site."""
        rows = self.db.execute(
            "SELECT line FROM records WHERE stored_at >= ? AND (? IS NULL OR site = ?) ORDER BY seq", (since, site, site)
        )
        return [line for line, in rows]
