"""What extraction needs to know about a site: its name, time zone and optional selector overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newscrawler.urls import TRACKING_PARAMS, site_name

# A site's country domain is the best guess of the zone its dates are printed in; `--tz` overrides it.
ZONE_BY_TLD = {
    "kz": "Asia/Almaty",
    "ru": "Europe/Moscow",
    "by": "Europe/Minsk",
    "ua": "Europe/Kyiv",
    "kg": "Asia/Bishkek",
    "uz": "Asia/Tashkent",
    "tj": "Asia/Dushanbe",
    "am": "Asia/Yerevan",
    "ge": "Asia/Tbilisi",
    "az": "Asia/Baku",
}
FALLBACK_ZONE = "UTC"


@dataclass(frozen=True)
class Selectors:
    """CSS selectors that override the profile's defaults for one site's theme (reference/dle.md §2.8)."""

    title: str | None = None
    date: str | None = None
    views: str | None = None
    comment_count: str | None = None
    author: str | None = None
    body: str | None = None
    related: str | None = None


@dataclass(frozen=True)
class Site:
    name: str
    timezone: ZoneInfo
    profile: str = "auto"  # auto | dle | wordpress | generic
    selectors: Selectors = field(default_factory=Selectors)
    tracking_params: tuple[str, ...] = TRACKING_PARAMS  # query parameters dropped from canonical URLs


def load_zone(name: str) -> ZoneInfo:
    """An IANA zone by name, or ValueError naming the zone and the fix."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as 'Asia/Almaty' or 'Europe/Moscow'")


def default_zone_name(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return ZONE_BY_TLD.get(host.rsplit(".", 1)[-1], FALLBACK_ZONE)


def site_for_url(
    url: str, tz: str | None = None, profile: str = "auto", tracking_params: tuple[str, ...] = TRACKING_PARAMS
) -> Site:
    """The Site of a URL when no configuration names it: host as name, zone from `tz` or the country domain."""
    zone = load_zone(tz or default_zone_name(url))
    return Site(name=site_name(url), timezone=zone, profile=profile, tracking_params=tracking_params)
