"""A JOBDIR (Scrapy's pause/resume directory) is read only by the versions that wrote it.

Its queue is pickled requests, and Scrapy 2.18's release notes say a JOBDIR cannot be shared across versions: read by
another one it fails in the middle of a run with a pickle traceback, or loads something it should not. So the
directory carries a stamp of the versions that wrote it, and a run of other versions stops at start with a message
(reliability.md §A.1.1, §A.5 test 29). Nothing is lost by removing it: every URL's state is in the state store.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

import newscrawler

STAMP = "newscrawler-version.json"


class JobdirMismatch(RuntimeError):
    """The JOBDIR was written by other versions; the message names it and the fix."""


def current_versions() -> dict[str, str]:
    return {"newscrawler": newscrawler.__version__, "scrapy": scrapy.__version__, "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}


def describe(versions: dict[str, Any]) -> str:
    return ", ".join(f"{name} {versions.get(name, '?')}" for name in ("newscrawler", "scrapy", "python"))


def jobdir_problem(path: Path) -> str | None:
    """Why this JOBDIR cannot be resumed by this newscrawler, or None (absent, empty, or written by these versions)."""
    if not path.is_dir() or not any(path.iterdir()):
        return None
    try:
        written = json.loads((path / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        written = None
    if written == current_versions():
        return None
    by = describe(written) if isinstance(written, dict) else "a version that left no stamp"
    return (f"JOBDIR {path} was written by {by}; this is {describe(current_versions())}, and its queue of pickled "
            "requests is readable only by the versions that wrote it. Remove the directory (the state store keeps "
            "every URL, so nothing is lost) or resume with the versions that wrote it")


def stamp(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / STAMP).write_text(json.dumps(current_versions(), sort_keys=True) + "\n", encoding="utf-8")


class JobdirVersionCheck:
    """At crawler start, before the scheduler reads the queue: stop on a foreign JOBDIR, stamp a new one."""

    def __init__(self, crawler: Crawler) -> None:
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            raise NotConfigured
        if problem := jobdir_problem(Path(jobdir)):
            raise JobdirMismatch(problem)
        stamp(Path(jobdir))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)
