"""The SQLite state store and the JSONL export derived from it, on real files."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newscrawler.export import JsonlExport
from newscrawler.state import SQLState, make_state
from newscrawler.state.lock import LockHeld
from newscrawler.state.sqlite import SQLiteState
from newscrawler.state.store import StateError

NOW = datetime(2022, 11, 23, 9, 0, tzinfo=UTC)
URL = "http://127.0.0.1:8080/regions/1-a.html"


FIRST, OTHER = "a1a1a1a1a1a1a1a1", "b9b9b9b9b9b9b9b9"  # record ids


def text_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def comment(comment_id: str, text: str) -> dict:
    return {"id": comment_id, "parent_id": None, "author": None, "published_at": None, "published_at_raw": None, "text": text}


def record(body: str = "Текст.", comments: list | None = None, views: int = 1, url: str = URL) -> dict:
    """A whole record as extract() makes it (the session's schema check reads the exports these tests write)."""
    return {"schema_version": 1, "id": FIRST, "url": url, "canonical_url": URL, "site": "s", "title": "Заголовок",
            "published_at": "2022-11-23T08:00:00+06:00", "published_at_raw": None, "modified_at": None, "authors": [],
            "body": body, "lead": None, "category": None, "tags": [], "images": [], "language": "ru", "views": views,
            "comment_count": len(comments or []), "comments": comments or [], "fetched_at": "2022-11-23T09:00:00+00:00",
            "content_hash": text_hash(body), "extractor": "dle/1", "charset": "utf-8", "charset_fixup": None, "warnings": []}


@pytest.fixture
def state(state_location: str) -> SQLState:
    store = make_state(state_location).open()
    yield store
    store.close()


def test_a_new_url_is_due_then_stored_then_not_due_until_its_recrawl(state: SQLState) -> None:
    state.discover("s", [(URL, {"published_at": None})], NOW)
    assert [url for url, _ in state.due(NOW)] == [URL]
    state.lease([URL], NOW + timedelta(minutes=5))
    assert [url for url, _ in state.due(NOW)] == [URL]  # a lease left at start belongs to a dead run
    stored = state.store(URL, record(), NOW)
    assert (stored.new, stored.version) == (True, 1)
    assert state.due(NOW) == []
    assert [url for url, _ in state.due(NOW + timedelta(minutes=16))] == [URL]
    assert [url for url, _ in state.due(NOW, refresh=True)] == [URL]


def test_storing_the_same_record_twice_writes_one_version(state: SQLState) -> None:
    state.store(URL, record(), NOW)
    again = state.store(URL, record(views=99), NOW + timedelta(minutes=20))
    assert (again.new, again.version) == (False, 1)
    assert state.counts()["record_versions"] == 1


def test_a_version_stored_before_change_keys_were_digests_is_still_recognised_as_unchanged(state: SQLState) -> None:
    state.store(URL, record(), NOW)
    legacy_key = json.dumps([record()[name] for name in ("title", "body", "comments")], ensure_ascii=False, sort_keys=True)
    with state.transaction():
        state.run("UPDATE records SET change_key = ?", (legacy_key,))
    assert state.store(URL, record(), NOW + timedelta(minutes=20)).new is False
    assert state.store(URL, record(body="Другой текст."), NOW + timedelta(minutes=40)).version == 2


def test_a_changed_body_or_new_comment_is_a_new_version_naming_what_changed(state: SQLState) -> None:
    first = state.store(URL, record(), NOW)
    edited = state.store(URL, record(body="Текст. Дополнение."), NOW)
    commented = state.store(URL, record(body="Текст. Дополнение.", comments=[comment("1", "Да")]), NOW)
    assert [first.version, edited.version, commented.version] == [1, 2, 3]
    assert edited.version_fields == {"version": 2, "previous_version_hash": text_hash("Текст."), "changed_fields": ["body"], "duplicate_of": None}
    assert commented.version_fields["changed_fields"] == ["comments"]


def test_old_articles_are_not_recrawled_and_failures_are_retried_up_to_the_limit(state: SQLState) -> None:
    old = {**record(), "published_at": "2020-01-01T00:00:00+06:00"}
    state.store(URL, old, NOW)
    assert state.due(NOW + timedelta(days=30)) == []
    other = "http://127.0.0.1:8080/regions/2-b.html"
    state.discover("s", [(other, {})], NOW)
    for _ in range(3):
        assert [url for url, _ in state.due(NOW)] == [other]
        state.fail(other, "http_500", NOW)
    assert state.due(NOW) == []


def test_every_url_of_an_article_becomes_an_alias_of_its_record(state: SQLState) -> None:
    state.store("http://127.0.0.1:8080/regions/1-a.html?utm_source=x", record(url="http://127.0.0.1:8080/politics/1-a.html"), NOW)
    aliases = sorted(url for url, in state.query("SELECT url FROM aliases WHERE record_id = ?", (FIRST,)))
    assert aliases == sorted({"http://127.0.0.1:8080/regions/1-a.html?utm_source=x", "http://127.0.0.1:8080/politics/1-a.html", URL})


def test_a_state_file_of_another_schema_version_stops_with_a_clear_message(tmp_path: Path) -> None:
    directory = tmp_path / "old"
    directory.mkdir()
    db = sqlite3.connect(directory / "state.sqlite3")
    db.executescript("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '0');")
    db.close()
    with pytest.raises(StateError, match="schema version 0, this newscrawler reads version 1"):
        SQLiteState(directory).open()


def test_a_state_path_that_is_not_a_database_stops_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite3").write_text("not sqlite", encoding="utf-8")
    with pytest.raises(StateError, match="state.sqlite3"):
        SQLiteState(tmp_path).open()


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_export_appends_each_version_once_across_runs(state: SQLState, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    export = JsonlExport(state, output)
    export.reconcile()
    state.store(URL, record(), NOW)
    assert export.flush() == 1
    assert export.flush() == 0
    state.store(URL, record(body="Новое."), NOW)
    later = JsonlExport(state, output)  # a later run
    later.reconcile()
    assert later.flush() == 1
    assert [(r["id"], r["version"]) for r in read_lines(output)] == [(FIRST, 1), (FIRST, 2)]


def test_export_after_a_crash_between_write_and_note_writes_no_line_twice(state: SQLState, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    export = JsonlExport(state, output)
    export.reconcile()
    state.store(URL, record(), NOW)
    state.store(URL, record(body="Новое."), NOW)
    _, line = state.lines_after(0)[0]
    second = state.lines_after(1)[0][1]
    output.write_text(line + "\n" + second[: len(second) // 2], encoding="utf-8")  # killed mid-write, nothing noted
    restarted = JsonlExport(state, output)
    restarted.reconcile()
    assert restarted.flush() == 1
    assert [(r["id"], r["version"]) for r in read_lines(output)] == [(FIRST, 1), (FIRST, 2)]


def test_a_second_lock_on_a_state_names_the_holder(state: SQLState) -> None:
    lock = state.run_lock().acquire()
    try:
        with pytest.raises(LockHeld, match=rf"already running \(lock held by PID {os.getpid()} "):
            state.run_lock().acquire()
    finally:
        lock.release()
    state.run_lock().acquire().release()


def test_a_postgres_state_that_cannot_be_reached_names_the_url_without_its_password() -> None:
    with pytest.raises(StateError, match=r"state postgresql://crawler@127.0.0.1:9/none: cannot connect") as error:
        make_state("postgresql://crawler:secret@127.0.0.1:9/none").open()
    assert "secret" not in str(error.value)


def test_due_for_a_feed_looks_up_only_its_urls(state: SQLState) -> None:
    urls = [f"http://127.0.0.1:8080/news/{i}-a.html" for i in range(1200)]  # more than one lookup batch
    state.discover("s", [(url, {"n": i}) for i, url in enumerate(urls)], NOW)
    state.store(urls[0], record(url=urls[0]), NOW)
    wanted = urls[:1100] + ["http://127.0.0.1:8080/never-seen.html"]
    assert sorted(url for url, _ in state.due(NOW, urls=wanted)) == sorted(urls[1:1100])


def test_a_page_the_server_says_is_gone_is_not_tried_again(state: SQLState) -> None:
    state.discover("s", [(URL, {})], NOW)
    state.fail(URL, "http_404", NOW)
    assert state.due(NOW) == []
    assert state.counts()["gone"] == 1


def test_the_same_text_under_another_id_is_stored_with_duplicate_of_the_first(state: SQLState) -> None:
    state.store(URL, record(), NOW)
    copy = {**record(url="http://127.0.0.1:8080/other/9-b.html"), "id": OTHER, "canonical_url": "http://127.0.0.1:8080/other/9-b.html"}
    stored = state.store(copy["url"], copy, NOW)
    assert (stored.new, stored.version_fields["duplicate_of"]) == (True, FIRST)
