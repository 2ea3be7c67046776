"""URL normalisation, so one article fetched under tracking or session variants is one URL."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Parameters that change who is tracked, not what is shown (documented in docs/schema.md); `name*` is a prefix.
# Session ids are among them: a site that puts one in every link would otherwise be a new site on every visit
# (reliability.md §A.3, Heritrix's StripSessionIDs). A crawl replaces the list with NEWSCRAWLER_TRACKING_PARAMS.
SESSION_PARAMS = ("phpsessid", "sid", "jsessionid", "sessionid", "session_id", "sessid", "aspsessionid*", "cfid", "cftoken", "oscsid", "zenid")
TRACKING_PARAMS = ("utm_*", "fbclid", "gclid", "yclid", "_openstat", "from", *SESSION_PARAMS, "mc_cid", "mc_eid", "ref_src")
_PATH_PARAM = re.compile(r";([^/;=?#]+)=[^/;?#]*")  # /a.html;jsessionid=0A1B (Java servers put the session in the path)
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str, tracking: tuple[str, ...] = TRACKING_PARAMS) -> bool:
    lowered = name.lower()
    return any(lowered.startswith(p[:-1]) if p.endswith("*") else lowered == p for p in tracking)


def normalize_url(url: str, tracking: tuple[str, ...] = TRACKING_PARAMS) -> str:
    """Lower-case scheme and host, drop the default port, the fragment and tracking parameters; sort the query.

    ValueError for what no server could be asked for: a port out of range or not a number, a broken IPv6 literal.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k, tracking))
    path = _PATH_PARAM.sub(lambda found: "" if is_tracking_param(found[1], tracking) else found[0], parts.path)
    return urlunsplit((scheme, netloc, path or "/", urlencode(query), ""))


def site_name(url: str) -> str:
    """The default source name of a URL: its host (and port, when not the default) without `www.`."""
    netloc = urlsplit(normalize_url(url)).netloc
    return netloc.removeprefix("www.")


def resolve(base: str, link: str) -> str | None:
    """urljoin, or None for a link no URL parser can split (a broken IPv6 literal such as `http://[::1/a`): one bad
    href or src of a page or feed is skipped or becomes a failure line, never a ValueError that loses the rest."""
    try:
        return urljoin(base, link)
    except ValueError:
        return None
