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


def invalid_lines(directory: Path) -> list[str]:
    """`file:line: problem` for each JSONL record line under a directory that is not a valid record.

    A last line without its newline is a write a test cut short on purpose (a full disk, a kill): not a record yet.
    """
    problems = []
    for path in sorted(directory.rglob("*")):
        if path.suffix not in (".jsonl", ".jl") or path.name.endswith("failures.jsonl") or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        lines = text.split("\n")
        for number, line in enumerate(lines[:-1], 1):  # the piece after the last newline is unfinished or empty
            try:
                errors = [error.message for error in validator().iter_errors(json.loads(line))]
            except json.JSONDecodeError as error:
                errors = [f"not JSON ({error.msg})"]
            problems += [f"{path}:{number}: {message}" for message in errors[:1]]
    return problems
