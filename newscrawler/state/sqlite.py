"""The embedded state store: SQLite in WAL mode, one file in the state directory, no server."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

from newscrawler.state.lock import RunLock
from newscrawler.state.store import RECRAWL_WINDOW, SQLState, StateError

DB_NAME = "state.sqlite3"


class SQLiteState(SQLState):
    SEQ_COLUMN = "INTEGER PRIMARY KEY AUTOINCREMENT"
    BEGIN = "BEGIN IMMEDIATE"  # take the write lock up front: no deadlock between two writers upgrading

    def __init__(
        self, directory: Path, recrawl_window: timedelta = RECRAWL_WINDOW, site_windows: dict[str, timedelta] | None = None
    ) -> None:
        super().__init__(recrawl_window, site_windows)
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self.location = str(self.path)

    def connect(self) -> sqlite3.Connection:
        if self.directory.is_dir() and not os.access(self.directory, os.W_OK):  # read-only mount, or permissions
            raise StateError(f"state directory {self.directory} is not writable; make it writable or choose another with --state")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses no commit
            return db
        except sqlite3.DatabaseError as error:
            raise StateError(f"state {self.path}: {error}; point --state at another directory or remove this one")
        except OSError as error:
            raise StateError(f"state directory {self.directory}: {error.strerror}; choose another with --state")

    def open(self) -> SQLiteState:
        try:
            return super().open()
        except sqlite3.DatabaseError as error:
            self.close()
            raise StateError(f"state {self.path}: {error}; point --state at another directory or remove this one")

    def table_names(self) -> set[str]:
        return {name for name, in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def run_lock(self) -> RunLock:
        return RunLock(self.directory)
