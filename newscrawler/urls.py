"""URL normalisation, so one article fetched under tracking or session variants is one URL."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that change who is tracked, not what is shown; documented in docs/schema.md.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "yclid", "_openstat", "from", "phpsessid", "sid", "mc_cid", "mc_eid", "ref_src"}
)
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, drop the default port, the fragment and tracking parameters; sort the query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k))
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def site_name(url: str) -> str:
    """The default source name of a URL: its host (and port, when not the default) without `www.`."""
    netloc = urlsplit(normalize_url(url)).netloc
    return netloc.removeprefix("www.")
