"""The state store's logic, in SQL both backends speak: URL states, record versions, aliases, feeds, exports.

Every URL is one row with a state; a URL becomes 'stored' in the same transaction that stores its record version,
so a crash repeats work and never loses it, and storing the same content twice writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import EllipsisType
from typing import Any, ClassVar, TypeVar

from newscrawler.fingerprint import NEAR_DUPLICATE_JACCARD, band_keys, signature, similarity

SCHEMA_VERSION = 1
# Re-fetch an article while it is young, less and less often while it stays unchanged (then never, unless --refresh).
RECRAWL_BACKOFF = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6), timedelta(days=1))
RECRAWL_WINDOW = timedelta(days=3)
# Fields whose change makes a new record version; views and fetched_at are snapshots, not edits.
VERSIONED_FIELDS = ("title", "body", "comments")
GONE_REASONS = frozenset({"http_404", "http_410"})
TRANSIENT_ATTEMPTS = 3  # tries of a unit that a deadlock between workers aborted
T = TypeVar("T")
LOOKUP_BATCH = 500  # URLs per IN (...) lookup: well under SQLite's and PostgreSQL's parameter limits

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
    seq {seq},
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    change_key TEXT NOT NULL,
    site TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    line TEXT NOT NULL,
    UNIQUE (id, version)
);
CREATE INDEX records_content_hash ON records (content_hash);
CREATE TABLE aliases (url TEXT PRIMARY KEY, record_id TEXT NOT NULL);
CREATE TABLE exports (path TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE feeds (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, fetched_at TEXT NOT NULL);
CREATE TABLE fingerprints (record_id TEXT PRIMARY KEY, signature TEXT NOT NULL);
CREATE TABLE bands (band TEXT PRIMARY KEY, record_id TEXT NOT NULL)
"""


# Tables added after schema version 1 that older code ignores: created when missing, no version bump needed.
ADDED_TABLES = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, finish_reason TEXT, summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS coverage (
    run_id TEXT NOT NULL, site TEXT NOT NULL, finished_at TEXT NOT NULL, field TEXT NOT NULL,
    records INTEGER NOT NULL, present INTEGER NOT NULL, PRIMARY KEY (run_id, site, field)
);
CREATE INDEX IF NOT EXISTS coverage_history ON coverage (site, field, finished_at);
CREATE TABLE IF NOT EXISTS alerts (
    run_id TEXT NOT NULL, site TEXT NOT NULL, field TEXT NOT NULL, coverage REAL NOT NULL, baseline REAL NOT NULL,
    message TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (run_id, site, field)
)
"""


ADDED_TABLE_NAMES = frozenset({"runs", "coverage", "alerts"})


class StateError(RuntimeError):
    """The state cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class Stored:
    """What storing a record did: a new version (written to JSONL) or nothing new."""

    record_id: str
    version: int
    new: bool
    version_fields: dict[str, Any] = field(default_factory=dict)  # version, previous_version_hash, changed_fields


def is_due(state: str, attempts: int, next_fetch_at: str | None, now: str, refresh: bool, max_attempts: int) -> bool:
    """The rule of SQLState.due's whole-table query, for rows looked up by URL."""
    if state in ("discovered", "leased"):
        return True
    if state == "failed":
        return attempts < max_attempts
    return state == "stored" and (refresh or (next_fetch_at is not None and next_fetch_at <= now))


def change_key(record: dict[str, Any]) -> str:
    """A digest of the fields whose change makes a new version (title, body, comments)."""
    return hashlib.sha1(_versioned_json(record).encode("utf-8")).hexdigest()


def same_version(stored_key: str, record: dict[str, Any], key: str) -> bool:
    """States written before the digest kept the fields' JSON itself as the key; both compare."""
    return stored_key == key or (stored_key.startswith("[") and stored_key == _versioned_json(record))


def _versioned_json(record: dict[str, Any]) -> str:
    return json.dumps([record.get(name) for name in VERSIONED_FIELDS], ensure_ascii=False, sort_keys=True)


def record_line(record: dict[str, Any]) -> str:
    """The JSONL line of a record: UTF-8, keys sorted."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


class SQLState:
    """A backend supplies connect(), table_names(), its placeholder and its auto-increment column."""

    PLACEHOLDER: ClassVar[str] = "?"
    SEQ_COLUMN: ClassVar[str]
    BEGIN: ClassVar[str] = "BEGIN"
    SCHEMA_LOCK: ClassVar[str] = ""  # a statement that serialises schema creation, where BEGIN does not
    location: str

    def __init__(self, recrawl_window: timedelta = RECRAWL_WINDOW, site_windows: dict[str, timedelta] | None = None) -> None:
        self.recrawl_window = recrawl_window
        self.site_windows = site_windows or {}  # sources.toml recrawl_days, by site name
        self.db: Any = None
        self.batch_open = False
        self.statements = 0  # sent to the database by this store (BEGIN and COMMIT included)
        # Called with True after each commit, False when one failed: the distributed frontier acknowledges the
        # requests whose outcomes a commit made durable, and gives back those a failed one lost.
        self.commit_listeners: list[Callable[[bool], None]] = []

    def connect(self) -> Any:
        raise NotImplementedError

    def table_names(self) -> set[str]:
        raise NotImplementedError

    def run_lock(self) -> Any:
        """The lock that keeps a second run off this state (RunLock for a directory, an advisory lock in PostgreSQL)."""
        raise NotImplementedError

    def open(self) -> SQLState:
        self.db = self.connect()
        self._check_schema()
        return self

    def close(self) -> None:
        if self.db is not None:
            self.commit_batch()
            self.db.close()
            self.db = None

    def is_broken(self) -> bool:
        """The connection to a store server was lost (SQLite, a file, has none to lose)."""
        return False

    def reconnect(self) -> None:
        """A new connection after is_broken(); what the lost one had not committed is gone. StateError if none."""
        try:
            self.db.close()
        except Exception:  # closing a broken connection may fail too; it is being replaced
            pass
        self.batch_open = False
        self.db = self.connect()

    def sql(self, statement: str) -> str:
        return statement.replace("?", self.PLACEHOLDER) if self.PLACEHOLDER != "?" else statement

    def execute(self, statement: str, params: tuple = (), many: list[tuple] | None = None) -> Any:
        """Every statement goes through here, counted (benchmarks/distributed.py reports statements per page)."""
        self.statements += 1 if many is None else len(many)
        if many is not None:
            cursor = self.db.cursor()
            cursor.executemany(statement, many)
            return cursor
        return self.db.execute(statement, params)

    def query(self, statement: str, params: tuple = ()) -> list[tuple]:
        return list(self.execute(self.sql(statement), params).fetchall())

    def run(self, statement: str, params: tuple = ()) -> None:
        self.execute(self.sql(statement), params)

    def run_many(self, statement: str, rows: list[tuple]) -> None:
        if rows:
            self.execute(self.sql(statement), many=rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of work: its own transaction, or a savepoint inside an open batch (a failed unit undoes only itself)."""
        begin, commit, rollback = (
            ("SAVEPOINT unit", "RELEASE SAVEPOINT unit", "ROLLBACK TO SAVEPOINT unit") if self.batch_open
            else (self.BEGIN, "COMMIT", "ROLLBACK")
        )
        self.execute(begin)
        try:
            yield
        except BaseException:
            self.execute(rollback)
            if self.batch_open:
                self.execute(commit)
            raise
        if self.batch_open:
            self.execute(commit)
        else:
            self.commit()

    def commit(self) -> None:
        try:
            self.execute("COMMIT")
        except BaseException:
            self.notify(False)
            raise
        self.notify(True)

    def notify(self, committed: bool) -> None:
        for listener in self.commit_listeners:
            listener(committed)

    def begin_batch(self) -> None:
        """Group the units that follow into one transaction until commit_batch(): one commit for many records.

        A killed run loses the uncommitted units whole: their URLs are not marked stored, so they are fetched again.
        """
        if not self.batch_open:
            self.execute(self.BEGIN)
            self.batch_open = True

    def commit_batch(self) -> None:
        if self.batch_open:
            self.batch_open = False
            self.commit()

    def _check_schema(self) -> None:
        tables = self.table_names()
        if not tables:
            self._create_schema()
        else:
            self._check_version(tables)
        if not ADDED_TABLE_NAMES <= self.table_names():  # a write only when one is missing: readers stay readers
            with self.transaction():
                if self.SCHEMA_LOCK:
                    self.run(self.SCHEMA_LOCK)
                for statement in ADDED_TABLES.split(";"):
                    self.run(statement)

    def _check_version(self, tables: set[str]) -> None:
        found = self.query("SELECT value FROM meta WHERE key = 'schema_version'") if "meta" in tables else []
        version = int(found[0][0]) if found else 0
        if version != SCHEMA_VERSION:
            raise StateError(
                f"state {self.location} has schema version {version}, this newscrawler reads version {SCHEMA_VERSION}; "
                "export what you need with the newscrawler that wrote it, then start a new state"
            )

    def _create_schema(self) -> None:
        """Create the tables, unless a process that opened the state at the same moment got there first."""
        with self.transaction():
            if self.SCHEMA_LOCK:
                self.run(self.SCHEMA_LOCK)
            if self.table_names():
                return
            for statement in SCHEMA.format(seq=self.SEQ_COLUMN).split(";"):
                self.run(statement)
            self.run("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def discover(self, site: str, urls: Iterable[tuple[str, dict[str, Any]]], now: datetime) -> None:
        """New URLs start 'discovered' with the hints the feed gave; known URLs keep their state.

        Rows go in URL order: two workers discovering the same URLs then lock them in the same order."""
        rows = sorted((url, site, json.dumps(hints, ensure_ascii=False), now.isoformat()) for url, hints in urls)
        self.retrying(self._discover, rows)

    def _discover(self, rows: list[tuple[str, str, str, str]]) -> None:
        with self.transaction():
            self.run_many(
                "INSERT INTO urls (url, site, state, hints, discovered_at) VALUES (?, ?, 'discovered', ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET hints = excluded.hints", rows,
            )

    def retrying(self, unit: Callable[..., T], *args: Any) -> T:
        """Run a unit of work again when the server aborted it to break a deadlock between workers (PostgreSQL)."""
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                return unit(*args)
            except self.transient_errors():
                if attempt == TRANSIENT_ATTEMPTS:
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def transient_errors(self) -> tuple[type[Exception], ...]:
        """Errors after which the same unit may succeed (none for SQLite: one writer at a time)."""
        return ()

    def due(
        self, now: datetime, *, refresh: bool = False, max_attempts: int = 3, urls: Iterable[str] | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """URLs to fetch now: never stored, leases a dead run left, failures with attempts left, re-crawls due.

        With `urls` (a feed's items) they are looked up by primary key and judged here, so a feed costs its own
        size: in SQL, planners took the (state, next_fetch_at) index and read the whole table (benchmarks/state_store.py).
        """
        stamp = now.isoformat()
        if urls is None:
            rows = self.query(
                "SELECT url, hints FROM urls WHERE state IN ('discovered', 'leased') OR (state = 'failed' AND attempts < ?) "
                "OR (state = 'stored' AND (? OR (next_fetch_at IS NOT NULL AND next_fetch_at <= ?))) ORDER BY discovered_at, url",
                (max_attempts, refresh, stamp),
            )
            return [(url, json.loads(hints or "{}")) for url, hints in rows]
        found = []
        wanted = list(urls)
        for start in range(0, len(wanted), LOOKUP_BATCH):
            chunk = wanted[start : start + LOOKUP_BATCH]
            marks = ", ".join("?" * len(chunk))
            found += self.query(f"SELECT url, hints, state, attempts, next_fetch_at FROM urls WHERE url IN ({marks})", tuple(chunk))
        return [(url, json.loads(hints or "{}")) for url, hints, state, attempts, next_fetch in found
                if is_due(state, attempts, next_fetch, stamp, refresh, max_attempts)]

    def lease(self, urls: Iterable[str], until: datetime) -> None:
        with self.transaction():
            self.run_many(
                "UPDATE urls SET state = 'leased', lease_until = ? WHERE url = ? AND state != 'stored'",
                [(until.isoformat(), url) for url in urls],
            )

    def fail(self, url: str, reason: str, now: datetime) -> None:
        """A failed attempt; a page the server says is gone (404, 410) is not tried again."""
        state = "gone" if reason in GONE_REASONS else "failed"
        with self.transaction():
            self.run(
                "UPDATE urls SET state = ?, reason = ?, attempts = attempts + 1, fetched_at = ?, lease_until = NULL "
                "WHERE url = ? AND state != 'stored'", (state, reason, now.isoformat(), url),
            )

    def store(self, url: str, record: dict[str, Any], now: datetime, body_signature: list[int] | None | EllipsisType = ...) -> Stored:
        """One transaction: the record version (if its text or comments changed), the URL's state, its aliases.

        `body_signature` is the body's MinHash signature when the caller has it (workers compute it with the
        record); `...` computes it here, if the record is new.
        """
        return self.retrying(self._store, url, record, now, body_signature)

    def _store(self, url: str, record: dict[str, Any], now: datetime, body_signature: list[int] | None | EllipsisType) -> Stored:
        with self.transaction():
            latest = self.query(
                "SELECT version, content_hash, change_key, line FROM records WHERE id = ? ORDER BY version DESC LIMIT 1",
                (record["id"],),
            )
            latest_row = latest[0] if latest else None
            key = change_key(record)
            unchanged = latest_row is not None and same_version(latest_row[2], record, key)
            stored = (Stored(record["id"], latest_row[0], False) if unchanged
                      else self._insert_version(record, key, latest_row, now, body_signature))
            self._mark_stored(url, record, stored, now, unchanged)
        return stored

    def _insert_version(
        self, record: dict[str, Any], key: str, latest: tuple | None, now: datetime, body_signature: list[int] | None | EllipsisType
    ) -> Stored:
        previous = json.loads(latest[3]) if latest else {}
        version_fields = {
            "version": latest[0] + 1 if latest else 1,
            "previous_version_hash": latest[1] if latest else None,
            "changed_fields": [name for name in VERSIONED_FIELDS if previous.get(name) != record.get(name)] if latest else [],
            "duplicate_of": previous.get("duplicate_of") if latest else self._first_copy(record, body_signature),
        }
        # Keyed on (id, version): when two workers store one article at once (a lease expired while its first worker
        # still ran), the second waits for the first's commit, then inserts nothing and counts it unchanged.
        inserted = self.execute(self.sql(
            "INSERT INTO records (id, version, content_hash, change_key, site, stored_at, line) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id, version) DO NOTHING"),
            (record["id"], version_fields["version"], record["content_hash"], key, record["site"], now.isoformat(),
             record_line({**record, **version_fields})),
        ).rowcount
        return Stored(record["id"], version_fields["version"], bool(inserted), version_fields if inserted else {})

    def _first_copy(self, record: dict[str, Any], body_signature: list[int] | None | EllipsisType) -> str | None:
        """The record this new article repeats: the same text (content hash), else a near-duplicate body (MinHash)."""
        # No ORDER BY ... LIMIT here: PostgreSQL would walk the seq index to the end when nothing matches.
        same = self.query("SELECT seq, id FROM records WHERE content_hash = ? AND id != ?", (record["content_hash"], record["id"]))
        first_same = min(same)[1] if same else None
        values = signature(record.get("body")) if body_signature is ... else body_signature
        if values is None:
            return first_same
        keys = sorted(band_keys(values))  # sorted: workers inserting shared bands lock them in one order
        near = None if first_same else self._nearest(record["id"], values, keys)
        self.run("INSERT INTO fingerprints VALUES (?, ?) ON CONFLICT (record_id) DO NOTHING", (record["id"], json.dumps(values)))
        # A band remembers its first body only: the first copy is what duplicate_of names, and look-alike articles
        # (weather, exchange rates) then cost one comparison per band, not one per earlier article.
        rows = ", ".join(["(?, ?)"] * len(keys))  # one statement: 16 executions of one row cost twice as much
        self.run(f"INSERT INTO bands VALUES {rows} ON CONFLICT (band) DO NOTHING", tuple(v for band in keys for v in (band, record["id"])))
        return first_same or near

    def _nearest(self, record_id: str, values: list[int], keys: list[str]) -> str | None:
        """The earliest body sharing a band with this one, if similar enough (at most one candidate per band)."""
        marks = ", ".join("?" * len(keys))
        candidates = self.query(
            f"SELECT DISTINCT b.record_id, f.signature FROM bands b JOIN fingerprints f ON f.record_id = b.record_id "
            f"WHERE b.band IN ({marks}) AND b.record_id != ?", (*keys, record_id),
        )
        scored = [(similarity(values, json.loads(other)), other_id) for other_id, other in candidates]
        best = max(scored, default=(0.0, None))
        return best[1] if best[0] >= NEAR_DUPLICATE_JACCARD else None

    def _mark_stored(self, url: str, record: dict[str, Any], stored: Stored, now: datetime, unchanged: bool) -> None:
        self.run(
            "INSERT INTO urls (url, site, state, discovered_at) VALUES (?, ?, 'stored', ?) ON CONFLICT (url) DO NOTHING",
            (url, record["site"], now.isoformat()),
        )
        # The count is read only when it grows: a new version starts it again (one query a stored record less).
        unchanged_fetches = self.query("SELECT unchanged_fetches FROM urls WHERE url = ?", (url,))[0][0] + 1 if unchanged else 0
        next_fetch = self._next_fetch(record, unchanged_fetches, now)
        self.run(
            "UPDATE urls SET state = 'stored', reason = NULL, lease_until = NULL, fetched_at = ?, content_hash = ?, "
            "record_id = ?, unchanged_fetches = ?, next_fetch_at = ? WHERE url = ?",
            (now.isoformat(), record["content_hash"], stored.record_id, unchanged_fetches,
             next_fetch.isoformat() if next_fetch else None, url),
        )
        self.run_many(
            "INSERT INTO aliases (url, record_id) VALUES (?, ?) ON CONFLICT (url) DO NOTHING",
            [(alias, stored.record_id) for alias in sorted({url, record["url"], record["canonical_url"]})],
        )

    def _next_fetch(self, record: dict[str, Any], unchanged_fetches: int, now: datetime) -> datetime | None:
        """Young articles come back on a backing-off schedule (edits, new comments); old ones only with --refresh."""
        published = record.get("published_at")
        window = self.site_windows.get(record.get("site", ""), self.recrawl_window)
        young = published is None or datetime.fromisoformat(published) > now - window
        if not young or unchanged_fetches >= len(RECRAWL_BACKOFF):
            return None
        return now + RECRAWL_BACKOFF[unchanged_fetches]

    def comment_ids(self, urls: list[str]) -> dict[str, set[str]]:
        """The comment ids of the latest stored version of each article known under one of these URLs."""
        found: dict[str, tuple[int, set[str]]] = {}
        for start in range(0, len(urls), LOOKUP_BATCH):
            chunk = urls[start : start + LOOKUP_BATCH]
            marks = ", ".join("?" * len(chunk))
            rows = self.query(
                f"SELECT a.url, r.version, r.line FROM aliases a JOIN records r ON r.id = a.record_id WHERE a.url IN ({marks})",
                tuple(chunk),
            )
            for url, version, line in rows:
                if url not in found or version > found[url][0]:
                    found[url] = (version, {str(comment["id"]) for comment in json.loads(line).get("comments", [])})
        return {url: ids for url, (_, ids) in found.items()}

    def feed_validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified the feed last answered with, for a conditional request."""
        rows = self.query("SELECT etag, last_modified FROM feeds WHERE url = ?", (url,))
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def save_feed(self, url: str, etag: str | None, last_modified: str | None, now: datetime) -> None:
        with self.transaction():
            self.run(
                "INSERT INTO feeds VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
                "last_modified = excluded.last_modified, fetched_at = excluded.fetched_at",
                (url, etag, last_modified, now.isoformat()),
            )

    def export_position(self, path: str) -> tuple[int, int]:
        """(last record seq written to the file, the file's size then); (0, 0) for a file never written."""
        rows = self.query("SELECT last_seq, size FROM exports WHERE path = ?", (path,))
        return (rows[0][0], rows[0][1]) if rows else (0, 0)

    def set_export_position(self, path: str, last_seq: int, size: int) -> None:
        with self.transaction():
            self.run(
                "INSERT INTO exports VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE SET last_seq = excluded.last_seq, "
                "size = excluded.size", (path, last_seq, size),
            )

    def lines_after(self, seq: int) -> list[tuple[int, str]]:
        return self.query("SELECT seq, line FROM records WHERE seq > ? ORDER BY seq", (seq,))

    def seq_of(self, record_id: str, version: int) -> int | None:
        rows = self.query("SELECT seq FROM records WHERE id = ? AND version = ?", (record_id, version))
        return rows[0][0] if rows else None

    def export_lines(self, *, since: str = "", site: str | None = None) -> list[str]:
        """Stored versions in store order, optionally from a time on (ISO, UTC) and for one site."""
        rows = self.query(
            "SELECT line FROM records WHERE stored_at >= ? AND (site = ? OR ? = '') ORDER BY seq", (since, site or "", site or "")
        )
        return [line for line, in rows]

    def counts(self) -> dict[str, int]:
        """URLs by state, and record versions: what an operator checks."""
        found = {state: count for state, count in self.query("SELECT state, count(*) FROM urls GROUP BY state")}
        found["record_versions"] = self.query("SELECT count(*) FROM records")[0][0]
        return found
