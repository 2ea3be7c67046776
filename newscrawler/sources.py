"""sources.toml: the sites to crawl, validated before any request, so a mistake stops the run naming file, line, key
and fix.

pydantic v2 (not attrs+cattrs) because its errors carry the full path of every bad key (`sites.x.selectors.title`),
`extra="forbid"` rejects unknown keys without glue code, and one error list reports every mistake at once.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cssselect import HTMLTranslator, SelectorError
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newscrawler.extract.site import Selectors as SiteSelectors
from newscrawler.extract.page import XPATH_START
from newscrawler.extract.site import Site, default_zone_name, load_zone
from newscrawler.urls import site_name

SITE_NAME = re.compile(r"[^\s/]+")  # the record's `site`: any word without spaces or slashes (hosts, [::1]:8080, IDN)


class SourcesError(ValueError):
    """One or more mistakes in a sources file; the message has one line per mistake."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_selector(value: str | None) -> str | None:
    """A CSS selector, or XPath when it starts with '/', './' or '(': compiled now, so a typo fails before the crawl."""
    if value is None:
        return None
    try:
        if value.startswith(XPATH_START):
            etree.XPath(value)
        else:
            HTMLTranslator().css_to_xpath(value)
    except (SelectorError, etree.XPathSyntaxError) as error:
        kind = "XPath" if value.startswith(XPATH_START) else "CSS"
        raise ValueError(f"{value!r} is not a valid {kind} selector ({error}); check its brackets and quotes") from None
    return value


class Selectors(Strict):
    """Overrides of the DLE profile's defaults for a site's theme (reference/dle.md §2.8)."""

    title: str | None = None
    date: str | None = None
    views: str | None = None
    comment_count: str | None = None
    author: str | None = None
    body: str | None = None
    related: str | None = None

    @field_validator("*")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return check_selector(value)


class Politeness(Strict):
    """Per-site download slot: seconds between requests and requests at a time."""

    delay: float | None = Field(default=None, ge=0)
    concurrency: int | None = Field(default=None, ge=1)


class Limits(Strict):
    max_pages: int | None = Field(default=None, ge=1)  # article fetches per run
    since: date | None = None  # articles published before this day are not fetched (backfill)


class Backfill(Strict):
    """Where `--backfill` looks for article URLs besides the feeds."""

    sitemaps: bool = True  # robots.txt Sitemap: lines, else /sitemap.xml; indexes, gzip, Google News
    listings: list[str] = Field(default_factory=lambda: ["/"])  # DLE listing roots, walked as <root>page/N/
    date_archives: bool = True  # DLE /YYYY/MM/DD/ when a --since bound is given
    wp_json: bool = False  # WordPress /wp-json/wp/v2/posts pagination

    @field_validator("listings")
    @classmethod
    def _paths(cls, roots: list[str]) -> list[str]:
        for root in roots:
            if not root.startswith("/") or not root.endswith("/"):
                raise ValueError(f"listing root {root!r} must be a path between slashes, e.g. '/' or '/politics/'")
        return roots


class Source(Strict):
    """One site of sources.toml."""

    name: str
    start_urls: list[str] = Field(min_length=1)  # feeds, a home page or a sitemap
    profile: Literal["auto", "dle", "wordpress", "generic"] = "auto"
    timezone: str | None = None  # IANA name; default by country domain
    article_pattern: str | None = None  # a regex on the URL path that overrides the profile's article shape
    recrawl_days: float | None = Field(default=None, ge=0)  # re-crawl window: younger articles are re-fetched
    selectors: Selectors = Field(default_factory=Selectors)
    politeness: Politeness = Field(default_factory=Politeness)
    limits: Limits = Field(default_factory=Limits)
    backfill: Backfill = Field(default_factory=Backfill)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not SITE_NAME.fullmatch(name):
            raise ValueError(f"site name {name!r}: write it without spaces or slashes, e.g. [sites.turantimes]")
        return name

    @field_validator("start_urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL; give a full address, e.g. 'https://example.kz/rss.xml'")
        return urls

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        if name is not None:
            load_zone(name)
        return name

    @field_validator("article_pattern")
    @classmethod
    def _pattern(cls, pattern: str | None) -> str | None:
        try:
            return pattern if pattern is None else re.compile(pattern).pattern
        except re.error as error:
            raise ValueError(f"{pattern!r} is not a regular expression ({error}); escape '.' and '?' with a backslash") from None

    @property
    def zone_name(self) -> str:
        return self.timezone or default_zone_name(self.start_urls[0])

    @property
    def hosts(self) -> frozenset[str]:
        """The hosts of the start URLs (with port, without www.): a URL of another host is not this site's."""
        return frozenset(site_name(url) for url in self.start_urls)

    def owns(self, url: str) -> bool:
        """Whether a URL is on this site (example.kz and www.example.kz are one site)."""
        return site_name(url) in self.hosts

    @property
    def since(self) -> datetime | None:
        """limits.since as the first moment of that day in the site's zone."""
        day = self.limits.since
        return datetime.combine(day, time(), ZoneInfo(self.zone_name)) if day else None

    def site(self, tracking_params: tuple[str, ...] | None = None) -> Site:
        """What extraction needs to know about this site."""
        extra = {"tracking_params": tracking_params} if tracking_params is not None else {}
        selectors = SiteSelectors(**self.selectors.model_dump())
        return Site(name=self.name, timezone=load_zone(self.zone_name), profile=self.profile, selectors=selectors, **extra)


class SourcesFile(Strict):
    sites: dict[str, dict[str, Any]] = Field(min_length=1)


def load_sources(path: Path) -> list[Source]:
    """Every site of a sources file, or SourcesError listing each mistake as `file:line: key: problem; fix`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SourcesError(f"{path}: cannot read ({error.strerror}); create it from sources.example.toml or pass --config") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SourcesError(f"{path}: not valid TOML: {error}; fix the syntax there") from None
    problems: list[str] = []
    try:
        top = SourcesFile.model_validate(data)
    except ValidationError as error:
        raise SourcesError("\n".join(describe(path, text, err) for err in error.errors())) from None
    sources = []
    for name, table in top.sites.items():
        try:
            sources.append(Source.model_validate({**table, "name": name}))
        except ValidationError as error:
            problems += [describe(path, text, {**err, "loc": ("sites", name, *err["loc"])}) for err in error.errors()]
    if problems:
        raise SourcesError("\n".join(problems))
    return sources


def select_sources(sources: list[Source], name: str | None, path: Path) -> list[Source]:
    """All sites, or the one `--site` names."""
    if name is None:
        return sources
    chosen = [source for source in sources if source.name == name]
    if not chosen:
        known = ", ".join(source.name for source in sources)
        raise SourcesError(f"{path}: no site {name!r}; the sites are: {known}")
    return chosen


def describe(path: Path, text: str, error: dict[str, Any]) -> str:
    """One mistake as `file:line: sites.x.key: problem; fix`."""
    loc = tuple(part for part in error["loc"] if part != "name")
    key = ".".join(str(part) for part in loc)
    line = line_of(text, loc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {key}: {problem(error)}"


def problem(error: dict[str, Any]) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        owner = {1: SourcesFile, 3: Source}.get(len(loc)) or MODELS.get(str(loc[2]), Source)
        known = sorted(set(owner.model_fields) - {"name"})
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key; {hint}known keys here: {', '.join(known)}"
    if kind == "missing":
        return f"required key is missing; add it, e.g. {EXAMPLES.get(str(loc[-1]), str(loc[-1]) + ' = ...')}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind != "value_error" and "input" in error:
        message += f" (got {error['input']!r})"
    fix = next((fix for prefix, fix in TYPE_FIXES.items() if kind.startswith(prefix)), None)
    return f"{message}; {fix}" if fix else message


MODELS: dict[str, type[BaseModel]] = {"selectors": Selectors, "politeness": Politeness, "limits": Limits, "backfill": Backfill}
TYPE_FIXES = {
    "float": "write a number without quotes, e.g. 1.5", "int": "write a whole number without quotes, e.g. 2",
    "bool": "write true or false without quotes", "string": "write a quoted string, e.g. \"h1.title\"",
    "list": "write a list, e.g. [\"https://example.kz/rss.xml\"]", "date": "write a date without quotes, e.g. 2024-03-01",
    "dict": "write a table, e.g. [sites.NAME.selectors]", "model": "write a table, e.g. [sites.NAME]",
}
EXAMPLES = {"start_urls": "start_urls = [\"https://example.kz/rss.xml\"]", "sites": "[sites.example] with start_urls = [...]"}


def line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line of a key in the TOML text: the `key =` line inside its table, else the table's header line.

    tomllib keeps no positions; this reads table headers and keys, enough for the files people write.
    """
    keys = [str(part) for part in loc if not isinstance(part, int)]
    table, key = keys[:-1], keys[-1] if keys else ""
    current: list[str] = []
    header_line = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            current = [part.strip().strip("\"'") for part in line.strip("[]").split(".")]
            if current == keys:
                header_line = number
            continue
        name, sep, _ = line.partition("=")
        dotted = [part.strip().strip("\"'") for part in name.split(".")] if sep else []
        if dotted and current + dotted[:-1] == table and dotted[-1] == key:
            return number
        if dotted and current + dotted == keys[: len(current) + len(dotted)] and len(current + dotted) < len(keys):
            header_line = header_line or number  # an inline table holding the key
    return header_line or (line_of(text, loc[:-1]) if len(keys) > 1 else None)
