"""Author fields as pages write them -> person names: bylines split, "By"/"Von" and roles off, the site itself out.

Hand-written: no well-kept library does bylines across languages (newspaper4k's is English-only and 300 lines of
heuristics); the forms here are the ones the Fundus pages show, and each rule is one regex or one set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from newscrawler.extract.text import collapse

# "A and B", "A und B", "A, B", "A; B", "A & B" in the languages of the pages we meet.
_SPLIT = re.compile(r"\s*[,;&|]\s*|\s+(?:and|und|og|och|en|et|y|e|i|и|ve|és|a)\s+", re.I)
# "By Jane Doe", "Von: Max Muster", "Автор: Иван Петров", "Text: ..."; the byline word, not the name.
_PREFIX = re.compile(
    r"^(?:(?:written\s+)?by|von|par|por|di|da|av|af|door|przez|text|texte|autor(?:in)?|author|автор|авторы|"
    r"редактор|fotos?|photos?)\s*[:.-]?\s+",
    re.I,
)
# "Elena Oberholzer (obe)", "신현주 기자" (reporter), "Jane Doe, Reporter": roles and initials after the name.
_SUFFIX = re.compile(r"\s*\([^)]*\)$|\s+(?:기자|特派員|記者)$")
_LAST_FIRST = re.compile(r"^([^\W\d_][\w'’-]*), ([^\W\d_][\w'’.-]*)$")  # "Brazil, Rachel" (Nature, library style)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")  # "sophie-foster": an author page's slug, not a byline
_TLD = re.compile(r"\.[a-z]{2,3}$")
MAX_NAME_WORDS = 6  # longer is a sentence ("... universiteto ... fakulteto profesorius"), not a name
# Placeholders sites put where no person signed: the newsroom, the admin account, "staff".
PLACEHOLDERS = frozenset(
    {"редакция", "редакція", "redaktion", "redaction", "rédaction", "redacción", "redazione", "redactie", "admin",
     "administrator", "staff", "editor", "editorial", "newsroom", "nachrichten", "news", "unknown", "guest"}
)


def clean_names(raw: Iterable[str], site_names: Iterable[str] = ()) -> list[str]:
    """Names from raw author values, in order, without duplicates, placeholders or the names in site_names."""
    own = {name_key(name) for name in site_names if name}
    kept = [name for value in raw for name in split_byline(value) if not _is_placeholder(name) and name_key(name) not in own]
    slugs = {name.casefold().replace(" ", "-") for name in kept if " " in name}
    return list(dict.fromkeys(name for name in kept if not (_SLUG.match(name) and name in slugs)))


def split_byline(value: str) -> list[str]:
    """One author value -> the names in it: "By A and B, C" -> [A, B, C]; "Brazil, Rachel" -> [Rachel Brazil]."""
    text = collapse(value)
    if "@" in text or "://" in text:
        return []
    if (swapped := _LAST_FIRST.match(text)) and swapped[1].istitle() and swapped[2].istitle():
        return [f"{swapped[2]} {swapped[1]}"]  # not "AFP, dpa": agencies are not written as names
    return [name for part in _SPLIT.split(text) if (name := _name(part))]


def _name(part: str) -> str | None:
    name = _SUFFIX.sub("", _PREFIX.sub("", part.strip(" :-–—·•"))).strip(" :-–—·•")
    if not name or not any(ch.isalpha() for ch in name) or len(name.split()) > MAX_NAME_WORDS:
        return None
    return name


def _is_placeholder(name: str) -> bool:
    return name.casefold() in PLACEHOLDERS


def name_key(name: str) -> str:
    """Comparison form, so "STERN.de", "stern" and "www.stern.de" meet: case, "www.", the TLD, spaces, dots off."""
    key = _TLD.sub("", name.casefold().strip().removeprefix("www."))
    return re.sub(r"[\s.\-]+", "", key)
