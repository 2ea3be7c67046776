"""JSONL as analysts want it: UTF-8 (no \\u escapes), keys sorted, one record a line."""

from __future__ import annotations

from typing import Any

from scrapy.exporters import JsonLinesItemExporter


class RecordExporter(JsonLinesItemExporter):
    def __init__(self, file: Any, **kwargs: Any) -> None:
        kwargs.setdefault("sort_keys", True)
        kwargs.setdefault("encoding", "utf-8")
        super().__init__(file, **kwargs)
