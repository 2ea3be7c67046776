"""Parquet export: the stored record versions as one typed table, for analysts' query engines (DuckDB, Spark, pandas).

Columns and names are the JSONL's (docs/schema.md). Timestamps stay ISO 8601 strings with their UTC offset, as in the
JSONL: a Parquet timestamp keeps the instant but drops the site's offset, which analyses of local publishing hours
need. `CAST(published_at AS TIMESTAMPTZ)` in DuckDB gives the instant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed; the message says how to install it."""


def _schema() -> Any:
    import pyarrow as pa

    text, texts = pa.string(), pa.list_(pa.string())
    comment = pa.struct([
        ("id", text), ("parent_id", text), ("author", text), ("published_at", text), ("published_at_raw", text), ("text", text),
    ])
    return pa.schema([
        ("schema_version", pa.int16()), ("id", text), ("version", pa.int32()), ("url", text), ("canonical_url", text),
        ("site", text), ("title", text), ("published_at", text), ("published_at_raw", text), ("modified_at", text),
        ("authors", texts), ("body", text), ("lead", text), ("category", text), ("tags", texts), ("images", texts),
        ("language", text), ("views", pa.int64()), ("comment_count", pa.int64()), ("comments", pa.list_(comment)),
        ("fetched_at", text), ("content_hash", text), ("extractor", text), ("previous_version_hash", text),
        ("changed_fields", texts), ("duplicate_of", text), ("charset", text),
        ("charset_fixup", pa.struct([("declared", text), ("used", text), ("evidence", text)])), ("warnings", texts),
    ])


def write_parquet(lines: list[str], path: Path) -> None:
    """Write JSONL record lines as a zstd-compressed Parquet file (replaced); an empty export is an empty table."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ParquetUnavailable("Parquet export needs pyarrow: pip install 'newscrawler[parquet]'") from None
    schema = _schema()
    rows = [json.loads(line) for line in lines]
    table = pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)
    pq.write_table(table, path, compression="zstd")
