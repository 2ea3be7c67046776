"""The record schema (docs/schema.md) as dataclasses: itemadapter reads them, extract/ needs no Scrapy."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class Comment:
    """One reader comment; `parent_id` threads replies, None for a top-level comment."""

    id: str
    parent_id: str | None
    author: str | None
    published_at: str | None
    published_at_raw: str | None
    text: str


@dataclass
class Article:
    """One article record, one JSONL line."""

    id: str
    url: str
    canonical_url: str
    site: str
    title: str | None
    published_at: str | None
    published_at_raw: str | None
    modified_at: str | None
    authors: list[str]
    body: str | None
    lead: str | None
    category: str | None
    tags: list[str]
    images: list[str]
    language: str | None
    views: int | None
    comment_count: int | None
    comments: list[Comment]
    fetched_at: str
    content_hash: str
    extractor: str
    schema_version: int = SCHEMA_VERSION
    # Set by the store: 1 for the first sighting, +1 when title, body or comments change.
    version: int = 1
    previous_version_hash: str | None = None
    changed_fields: list[str] = field(default_factory=list)
    duplicate_of: str | None = None  # id of the record this one repeats (same or near-same text), set by the store
    # Set by the crawl, not by extract(): how the page's bytes were decoded, and what the record may lack.
    charset: str | None = None
    charset_fixup: dict[str, str] | None = None  # {"declared", "used", "evidence"} when the declared charset was wrong
    warnings: list[str] = field(default_factory=list)  # "code: detail", e.g. comment_count_mismatch


@dataclass
class Failure:
    """A URL that gave no record, and why: one line of the failures file."""

    url: str
    stage: str  # feed | download | extract | validate
    reason: str
    status: int | None = None
    time: str = ""
    attempts: int | None = None  # downloads tried in this run (retries included), for download failures
    detail: str | None = None  # the reason in words: "timeout after 30 s", "blocked address: ... is loopback"


LEAVES = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A JSON-ready copy of an item value (dataclasses to dicts, tuples to lists).

    ItemAdapter.asdict() does the same but asks every adapter class about every nested string: 1 ms a record,
    a fifth of the crawl process's time per page (benchmarks/crawl_throughput.py).
    """
    if type(value) in LEAVES:  # most values: checked first, is_dataclass() asks the type for its fields
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {item_field.name: plain(getattr(value, item_field.name)) for item_field in fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(element) for element in value]
    if isinstance(value, dict):
        return {key: plain(element) for key, element in value.items()}
    return value
