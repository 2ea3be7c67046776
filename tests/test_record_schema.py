"""schema/article.schema.json: the README's example line follows it, and it refuses what docs/schema.md rules out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.record_schema import validator

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> dict:
    (line,) = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith('{"authors"')]
    return json.loads(line)


def test_the_readme_example_line_follows_the_schema() -> None:
    assert list(validator().iter_errors(readme_example())) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"published_at": "2022-11-22T17:37:00"}, "published_at"),  # no UTC offset
        ({"schema_version": 2}, "schema_version"),
        ({"views": "338"}, "views"),
        ({"title": ""}, "title"),
        ({"surprise": 1}, ""),  # a field docs/schema.md does not describe
        ({"comments": [{"id": "1", "parent_id": None, "author": None, "published_at": None, "text": "Да"}]}, "comments"),
    ],
)
def test_the_schema_refuses_records_the_documentation_rules_out(change: dict, path: str) -> None:
    errors = list(validator().iter_errors(readme_example() | change))
    assert errors and {".".join(map(str, error.path)).split(".")[0] for error in errors} == {path}
