"""LogLevelGate: no LogRecord for a line no handler prints, and every line some handler prints still made."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from scrapy.utils.test import get_crawler

from newscrawler.logs import LogLevelGate

ENGINE = logging.getLogger("scrapy.core.engine")
OTHER = logging.getLogger("newscrawler.test")


@contextmanager
def only_handlers(root: logging.Handler, other: logging.Handler | None = None) -> Iterator[LogLevelGate]:
    """The root logger with one handler (pytest's capture handlers, re-added each test phase, set aside) and maybe
    one on another logger; a gate raised on them, then everything as before."""
    saved, level = logging.root.handlers[:], logging.root.level
    logging.root.handlers[:] = [root]
    logging.root.setLevel(logging.NOTSET)
    if other is not None:
        OTHER.addHandler(other)
    gate = LogLevelGate(get_crawler())
    try:
        gate.raise_level(None)
        yield gate
    finally:
        gate.restore(None)
        if other is not None:
            OTHER.removeHandler(other)
        logging.root.handlers[:] = saved
        logging.root.setLevel(level)


def handler(level: int) -> logging.Handler:
    made = logging.StreamHandler(io.StringIO())
    made.setLevel(level)
    return made


def test_debug_lines_are_not_made_while_every_handler_prints_info_and_up() -> None:
    with only_handlers(handler(logging.INFO)) as gate:
        assert not ENGINE.isEnabledFor(logging.DEBUG) and ENGINE.isEnabledFor(logging.INFO)
        gate.restore(None)
        assert ENGINE.isEnabledFor(logging.DEBUG)  # Scrapy's own root level: made, then dropped by the handler


def test_a_null_handler_at_notset_does_not_keep_debug_lines() -> None:
    """Libraries add NullHandlers (level NOTSET) to stay quiet; they print nothing, so they keep nothing made."""
    with only_handlers(handler(logging.INFO), logging.NullHandler()):
        assert not OTHER.isEnabledFor(logging.DEBUG)


def test_a_debug_handler_anywhere_keeps_debug_lines() -> None:
    with only_handlers(handler(logging.INFO), handler(logging.DEBUG)):
        assert OTHER.isEnabledFor(logging.DEBUG)
