"""`--log-format json`: one JSON object a log line, for log shippers (Loki, Elasticsearch, CloudWatch)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message"} and "exception" when there is one; UTF-8, no escapes."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_log_handler(level: str) -> logging.Handler:
    """A stderr handler writing JSON lines, for the root logger in place of Scrapy's own (which Scrapy re-creates,
    with its text format, each time a crawler applies its settings)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    return handler
