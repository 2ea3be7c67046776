"""`--log-format json`: one JSON object a log line, for log shippers (Loki, Elasticsearch, CloudWatch); and no
LogRecord made for a line no handler prints."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler


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


class LogLevelGate:
    """Scrapy sets the root logger to NOTSET and filters in its handler, so every DEBUG line of the crawl ("Crawled
    (200) ...", "Scraped from ...": two a page) is built as a LogRecord and then dropped: 1.5 % of the crawl
    process's CPU at LOG_LEVEL INFO. While the spider runs, the root logger takes the lowest level any handler
    accepts, so a record no handler would print is never made; restored when the spider closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.previous = logging.root.level
        crawler.signals.connect(self.raise_level, signal=signals.spider_opened)
        crawler.signals.connect(self.restore, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def raise_level(self, spider: Spider) -> None:
        self.previous = logging.root.level
        if self.previous == logging.NOTSET:
            logging.root.setLevel(lowest_handler_level())

    def restore(self, spider: Spider) -> None:
        logging.root.setLevel(self.previous)


def lowest_handler_level() -> int:
    """The lowest level of every handler of every logger but the NullHandlers libraries add to stay quiet; NOTSET
    when there is none (then nothing changes)."""
    loggers = [logging.root, *(item for item in logging.Logger.manager.loggerDict.values() if isinstance(item, logging.Logger))]
    levels = [handler.level for logger in loggers for handler in logger.handlers if not isinstance(handler, logging.NullHandler)]
    return min(levels, default=logging.NOTSET)
