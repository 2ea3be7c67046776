"""URL normalisation, so one article fetched under tracking or session variants is one URL."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that change who is tracked, not what is shown (documented in docs/schema.md); `name*` is a prefix.
# A crawl replaces the list with the NEWSCRAWLER_TRACKING_PARAMS setting.
TRACKING_PARAMS = ("utm_*", "fbclid", "gclid", "yclid", "_openstat", "from", "phpsessid", "sid", "mc_cid", "mc_eid", "ref_src")
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str, tracking: tuple[str, ...] = TRACKING_PARAMS) -> bool:
    lowered = name.lower()
    return any(lowered.startswith(p[:-1]) if p.endswith("*") else lowered == p for p in tracking)


def normalize_url(url: str, tracking: tuple[str, ...] = TRACKING_PARAMS) -> str:
    """Lower-case scheme and host, drop the default port, the fragment and tracking parameters; sort the query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k, tracking))
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def site_name(url: str) -> str:
    """The default source name of a URL: its host (and port, when not the default) without `www.`."""
    netloc = urlsplit(normalize_url(url)).netloc
    return netloc.removeprefix("www.")
