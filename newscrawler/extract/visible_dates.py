"""The date line a page prints ("Veröffentlicht am 13. Mai 2026 um 15:44"), for pages whose markup dates nothing.

dateparser reads the forms of 200 languages; it costs about 2 ms a line (measured on the Fundus pages), so it
runs only where structured data gave no date (4 % of those pages), on at most a few short lines.
Relative forms resolve against the page's `fetched_at`, never the clock.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime
from functools import cache

from newscrawler.extract.page import Page
from newscrawler.extract.site import Site
from newscrawler.extract.text import collapse

# Elements whose class or id says they hold the date line, in the story first.
DATE_LINE = (
    "//*[contains(@class, 'date') or contains(@class, 'Date') or contains(@class, 'time') or contains(@class, 'datum')"
    " or contains(@class, 'fecha') or contains(@id, 'date')]"
)
MAX_LINE = 80  # chars; longer is prose that mentions a date, not the date line
MAX_LINES = 4  # the date line comes early; reading more costs time and finds "related" dates
_LOOKS_DATED = re.compile(r"\d{4}|\d{1,2}[./]\d{1,2}[./]\d{2}")  # a year or a numeric date: "Heute" alone is not
# Words before the date: "Veröffentlicht am", "Published", "erstellt:"; dateparser wants the date alone.
_LEADING_WORDS = re.compile(r"^[^\d]*?(?=\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\s+\d)", re.I)


def visible_date(page: Page, site: Site) -> tuple[datetime, str] | None:
    """The first date line that parses, with the text it was read from; None when the page prints none."""
    for line in date_lines(page):
        when = parse_line(line, page, site)
        if when is not None:
            return when, line
    return None


def date_lines(page: Page) -> list[str]:
    story = page.root.xpath("//article | //main")
    elements = (story[0].xpath("." + DATE_LINE) if story else []) or page.root.xpath("//body" + DATE_LINE)
    lines = (collapse(element.text_content()) for element in elements)
    return [line for line in lines if 0 < len(line) <= MAX_LINE and _LOOKS_DATED.search(line)][:MAX_LINES]


def parse_line(line: str, page: Page, site: Site) -> datetime | None:
    import dateparser  # imported on first use: 0.3 s, and most pages never need it

    text = _LEADING_WORDS.sub("", line).replace(" um ", " ").strip(" :,|")
    settings = {
        "TIMEZONE": str(site.timezone), "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": page.fetched_at.astimezone(site.timezone).replace(tzinfo=None), "STRICT_PARSING": False,
    }
    with warnings.catch_warnings():  # dateparser warns about pytz/regex internals on some inputs
        warnings.simplefilter("ignore")
        try:
            when = dateparser.parse(text, languages=_languages(page), settings=settings)
        except (ValueError, OverflowError):  # "31.02.99999": a line that is no date, not a broken page
            return None
    if when is None or when > page.fetched_at:
        return None
    return when


def _languages(page: Page) -> list[str] | None:
    """The page's declared language, which spares dateparser guessing among all it knows."""
    declared = (page.root.get("lang") or "").split("-")[0].lower()
    return [declared] if re.fullmatch(r"[a-z]{2}", declared) and declared in _supported() else None


@cache
def _supported() -> frozenset[str]:
    from dateparser.languages.loader import default_loader

    return frozenset(default_loader.get_locale_map())
