"""The headline out of the page's several titles: entities and mis-decoded UTF-8 repaired, the site's name cut off."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from newscrawler.extract.authors import name_key
from newscrawler.extract.text import collapse

# Between a headline and the site's name or section: "Title | Site", "Title - Site", "Title：朝日新聞". In
# "Title-정치ㅣ한국일보" the section (one word of letters) glued on by a dash goes with the site's name, whether or
# not another candidate confirms the bare headline.
_SEPARATOR = re.compile(r"\s+[|\-–—·•*»:/]\s+|\s*[|｜ㅣ：]\s*|-[^\W\d_]{1,12}\s*ㅣ\s*")
# UTF-8 read as Latin-1 / cp1252: "fÃ¼r", "sanciÃ³n", "â€“".
_MOJIBAKE = re.compile(r"[ÃÂâ][\x80-\xbf\u2018-\u203a\u0152-\u017e\u02c6\u02dc]")
# A kicker before the headline: "Olympische Spiele: ", "Vierschanzentournee | ".
_KICKER = re.compile(r".*\S\s*[:|]\s+")
MAX_KICKER_WORDS = 8  # "SVP-Sonderparteitag zur Migration"; a longer head is a headline of its own
MIN_HEADLINE_WORDS, MIN_TAIL_WORDS = 4, 2  # a shorter headline, or a one-word tail, is a social title cut for length
_CUT_ENDS = ("…", "...", ":", "|", "-", "–", "—", ",", ";")
MAX_SITE_WORDS = 3  # "Golem.de", "Lebanon News", "Mirror Online"; a longer tail is the headline's second half


def clean_title(text: str | None) -> str | None:
    """Collapsed text with entities decoded once more ("&quot;" written into the markup escaped twice)."""
    if not text:
        return None
    if "&" in text:
        text = html.unescape(text)
    return collapse(fix_mojibake(text)) or None


def fix_mojibake(text: str) -> str:
    """UTF-8 bytes that were decoded as cp1252 or Latin-1, decoded again; text that is not is returned as it is."""
    if not _MOJIBAKE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return text


def strip_site_name(title: str, site_names: Iterable[str], others: Iterable[str] = ()) -> str:
    """`title` without a trailing "| Site" (a known name of the site) or "| Section" (when the rest is another title)."""
    own = {name_key(name) for name in site_names if name}
    known = set(others)
    while (parts := list(_SEPARATOR.finditer(title))):
        head, tail = title[: parts[-1].start()].strip(), title[parts[-1].end():].strip()
        if not head or not (name_key(tail) in own or head in known or _looks_like_site(tail, own)):
            break
        title = head
    return title


def _looks_like_site(tail: str, own: set[str]) -> bool:
    """A tail holding a site name or held by one: "Golem.de" for golem, "Samastipur News" is not."""
    key = name_key(tail)
    return len(tail.split()) <= MAX_SITE_WORDS and any(len(name) >= 3 and (name in key or key in name) for name in own)


def choose_title(
    candidates: Iterable[str | None], site_names: Iterable[str], social: Iterable[str | None] = ()
) -> str | None:
    """The first candidate, in the order given, once every one is cleaned and stripped of the site's name; shorn of
    its kicker or its added tail where one of the `social` titles (og:title, twitter:title) is the headline without
    it."""
    cleaned = [title for raw in candidates if (title := clean_title(raw))]
    names = list(site_names)
    stripped = [strip_site_name(title, names, [other for other in cleaned if other != title]) for title in cleaned]
    chosen = next((title for title in stripped if title), None)
    shared = [strip_site_name(title, names, cleaned) for raw in social if (title := clean_title(raw))]
    return drop_added_tail(drop_kicker(chosen, shared), shared) if chosen else None


def drop_kicker(title: str, headlines: Iterable[str]) -> str:
    """`title` without a leading kicker ("Neue Leipziger Schule: ", "«Evnukkmakeren»: ") when one of `headlines` is
    the rest of it.

    Many newsrooms print a kicker (Dachzeile, overline) over the headline and join it into the JSON-LD headline and
    the <h1> text; the title written for sharing is a standalone headline, and when the editor left the kicker out
    of it, the kicker is a label over the story, not part of its headline.
    """
    for headline in headlines:
        kicker = title[: -len(headline)] if headline and len(headline) < len(title) and title.endswith(headline) else ""
        if _KICKER.fullmatch(kicker) and len(kicker.split()) <= MAX_KICKER_WORDS:
            return headline
    return title


def drop_added_tail(title: str, headlines: Iterable[str]) -> str:
    """`title` cut back to one of `headlines` that is its beginning: "Chelsea send clear message of intent on proud
    day at Cobham" out of "… at Cobham in battling win over Tottenham".

    The JSON-LD headline, and the <h1> many sites print from the same field, is lengthened for search with a clause
    of detail; the title written for sharing is the headline standing alone. One that ends in an ellipsis or a
    separator, or leaves a single word over, was cut for length rather than written, and does not count.
    """
    for headline in headlines:
        rest = title[len(headline):] if title.startswith(headline) else ""
        if (rest[:1].isspace() and len(rest.split()) >= MIN_TAIL_WORDS and len(headline.split()) >= MIN_HEADLINE_WORDS
                and not headline.endswith(_CUT_ENDS)):
            return headline
    return title
