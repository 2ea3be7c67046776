"""The fixture sites' pages and their hand-written expected records."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newscrawler.extract import extract
from newscrawler.extract.site import Site, load_zone

SITES = Path(__file__).resolve().parent.parent / "fixtures" / "sites"
CASES = sorted(SITES.glob("*/expected/*.json"))
# Hashes are checked by their own tests, not written by hand; version fields are the store's, and fetch notes
# (charset, warnings) the crawl's, not extract()'s.
GENERATED = frozenset({"id", "content_hash", "version", "previous_version_hash", "changed_fields", "duplicate_of",
                       "charset", "charset_fixup", "warnings"})


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def site_config(case: Path) -> dict[str, str]:
    return read_json(case.parent.parent / "site.json")


def page_file(case: Path) -> Path:
    return case.parent.parent / urlsplit(read_json(case)["url"]).path.lstrip("/")


def fixture_site(case: Path) -> Site:
    config = site_config(case)
    return Site(name=config["name"], timezone=load_zone(config["timezone"]))


@cache
def extracted(case: Path) -> dict[str, Any]:
    """The record extract() makes of a case's page, at the case's fetch time (one extract() per page)."""
    expected = read_json(case)
    html = page_file(case).read_text(encoding="utf-8")
    record = extract(html, expected["url"], datetime.fromisoformat(expected["fetched_at"]), site=fixture_site(case))
    return asdict(record)


def case_id(case: Path) -> str:
    return f"{case.parent.parent.name}/{case.stem}"
