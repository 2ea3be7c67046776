"""extract() on every fixture page against its hand-written expected record, one test per field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixture_cases import CASES, GENERATED, case_id, extracted, read_json

FIELD_CASES = [pytest.param(c, f, id=f"{case_id(c)}:{f}") for c in CASES for f in sorted(read_json(c))]


@pytest.mark.parametrize(("case", "field"), FIELD_CASES)
def test_fixture_field(case: Path, field: str) -> None:
    assert extracted(case)[field] == read_json(case)[field]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_fixture_has_no_unexpected_fields(case: Path) -> None:
    assert set(extracted(case)) - GENERATED == set(read_json(case))


def test_there_are_fixture_cases() -> None:
    assert len(CASES) >= 18
