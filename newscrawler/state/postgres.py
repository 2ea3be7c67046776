"""The shared state store: PostgreSQL through a URL, for runs on several machines (same tables as SQLite)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from newscrawler.state.lock import LockHeld
from newscrawler.state.store import RECRAWL_WINDOW, SQLState, StateError

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(value: str) -> bool:
    return urlsplit(str(value)).scheme in SCHEMES


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}" if user else netloc))


class PostgresState(SQLState):
    PLACEHOLDER = "%s"
    SEQ_COLUMN = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('newscrawler-schema:' || current_schema()))"

    def __init__(
        self, url: str, recrawl_window: timedelta = RECRAWL_WINDOW, site_windows: dict[str, timedelta] | None = None
    ) -> None:
        super().__init__(recrawl_window, site_windows)
        self.url = url
        self.location = redacted(url)

    def connect(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise StateError(f"state {self.location}: PostgreSQL needs psycopg; pip install 'newscrawler[postgres]'")
        try:
            # No server-side prepared statements: a plan prepared while a table was empty kept seq-scanning it
            # as it grew (bands, fingerprints: 4.7 M rows read for 1 000 records, benchmarks/distributed.py).
            return psycopg.connect(self.url, autocommit=True, connect_timeout=5, prepare_threshold=None)
        except psycopg.Error as error:
            reason = str(error).strip().splitlines()[0]
            raise StateError(f"state {self.location}: cannot connect ({reason}); check the URL and that PostgreSQL runs")

    def is_broken(self) -> bool:
        return self.db is None or self.db.closed or self.db.broken

    def transient_errors(self) -> tuple[type[Exception], ...]:
        import psycopg

        return (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)

    def table_names(self) -> set[str]:
        rows = self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        return {name for name, in rows}

    def run_lock(self) -> PostgresLock:
        return PostgresLock(self)


class PostgresLock:
    """One run per state schema: a session advisory lock, which PostgreSQL drops when the holder's connection dies."""

    KEY = "SELECT hashtext('newscrawler:' || current_schema())"

    def __init__(self, state: PostgresState) -> None:
        self.state = PostgresState(state.url, state.recrawl_window)

    def acquire(self) -> PostgresLock:
        self.state.open()
        (taken,) = self.state.query(f"SELECT pg_try_advisory_lock(({self.KEY}))")[0]
        if not taken:
            holder = self.state.query("SELECT value FROM meta WHERE key = 'run_pid'")
            self.state.close()
            raise LockHeld(f"already running (lock held by PID {holder[0][0] if holder else '?'} on {self.state.location})")
        with self.state.transaction():
            self.state.run(
                "INSERT INTO meta VALUES ('run_pid', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(os.getpid()),),
            )
        return self

    def release(self) -> None:
        self.state.close()  # closing the session releases the advisory lock
