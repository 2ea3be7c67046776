"""Every record the tests produce is checked against schema/article.schema.json, the schema analysts code against."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "article.schema.json"


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def assert_valid_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records, after failing the test with every schema violation of the first bad one."""
    for record in records:
        errors = sorted(validator().iter_errors(record), key=lambda error: list(error.path))
        assert not errors, f"{record.get('url')}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)
    return records
