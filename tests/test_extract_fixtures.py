"""extract() on every fixture page against its hand-written expected record, one test per field."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import pytest

from newscrawler.extract import extract
from newscrawler.extract.page import utf8_source
from tests.fixture_cases import CASES, GENERATED, case_id, extracted, fixture_site, page_file, read_json
from tests.record_schema import assert_valid_records

FIELD_CASES = [pytest.param(c, f, id=f"{case_id(c)}:{f}") for c in CASES for f in sorted(read_json(c))]


@pytest.mark.parametrize(("case", "field"), FIELD_CASES)
def test_fixture_field(case: Path, field: str) -> None:
    assert extracted(case)[field] == read_json(case)[field]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_fixture_has_no_unexpected_fields(case: Path) -> None:
    assert set(extracted(case)) - GENERATED == set(read_json(case))


@pytest.mark.parametrize("case", [c for c in CASES if read_json(c)["title"]], ids=case_id)
def test_fixture_record_follows_the_published_json_schema(case: Path) -> None:
    """Pages with a title: one without is a failure line, never a record."""
    assert_valid_records([extracted(case)])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_fixture_page_read_from_its_utf_8_bytes_gives_the_same_record(case: Path) -> None:
    """The workers hand lxml a valid UTF-8 body as it came (page.utf8_source), not decoded and encoded again."""
    body = page_file(case).read_bytes()
    expected = read_json(case)
    record = extract(utf8_source(body, "utf-8"), expected["url"], datetime.fromisoformat(expected["fetched_at"]), site=fixture_site(case))
    assert asdict(record) == extracted(case)


def test_there_are_fixture_cases() -> None:
    assert len(CASES) >= 18
