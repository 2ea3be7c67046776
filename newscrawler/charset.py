"""Which charset a page's bytes are really in, when the server or the page says otherwise.

Old DLE installs serve windows-1251, some Russian feeds KOI8-R, and a common misconfiguration sends
`Content-Type: ...; charset=utf-8` for windows-1251 bytes whose `<meta charset>` says windows-1251. Scrapy believes
the header (reliability.md §A.3) and the text comes out as U+FFFD runs without an error. The share of U+FFFD when
the bytes are read as UTF-8, and a header that disagrees with the document, tell; charset-normalizer (already
trafilatura's dependency; chosen over chardet for speed and its Cyrillic models) decides what is left open.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# At most this share of non-ASCII characters may come out as U+FFFD for bytes to count as UTF-8: a few broken
# bytes in a UTF-8 page (a cut excerpt, a pasted legacy snippet) are not another charset, while windows-1251 or
# KOI8-R text read as UTF-8 is over 90 % U+FFFD (its letters are lead bytes without continuation bytes).
UTF8_REPLACEMENT_SHARE = 0.25
# What detection chooses from when nothing usable is declared: the single-byte charsets of the web's
# Cyrillic and Latin pages.
DETECTABLE = ("cp1251", "koi8_r", "cp1252", "iso8859_5", "cp866", "mac_cyrillic", "cp1250", "iso8859_2")


@dataclass(frozen=True)
class Decoding:
    """The charset to decode with; `declared` and `evidence` are set only when what was declared is wrong."""

    encoding: str
    declared: str | None = None
    evidence: str | None = None


def canonical(name: str) -> str:
    """One spelling per charset: 'windows-1251', 'cp1251' and 'CP1251' compare equal."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def web_name(name: str) -> str:
    """The name pages and headers use: windows-1251, koi8-r, utf-8."""
    codec = canonical(name)
    return codec.replace("cp125", "windows-125") if codec.startswith("cp125") else codec


def replacement_share(body: bytes) -> float:
    """Of the characters outside ASCII, the share that are U+FFFD when the bytes are read as UTF-8."""
    try:
        body.decode("utf-8")
        return 0.0
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return text.count("\ufffd") / max(non_ascii, 1)


def detect(body: bytes, candidates: list[str]) -> str:
    best = from_bytes(body, cp_isolation=candidates or list(DETECTABLE)).best()
    return canonical(best.encoding) if best else canonical(candidates[0] if candidates else "cp1252")


def decide(body: bytes, content_type: str | None) -> Decoding:
    """The charset of a document's bytes, given the Content-Type header it came with."""
    bom, _ = read_bom(body)
    if bom:
        return Decoding(canonical(bom))
    header = http_content_type_encoding(content_type or "")
    document = html_body_declared_encoding(body)
    claimed = header or document
    if body.isascii():
        return Decoding(canonical(claimed or "utf-8"))
    share = replacement_share(body)
    evidence = []
    if share <= UTF8_REPLACEMENT_SHARE:
        actual = "utf-8"
        evidence.append("the bytes are valid UTF-8")
    else:
        candidates = list(dict.fromkeys(canonical(name) for name in (header, document) if name and canonical(name) != "utf-8"))
        actual = candidates[0] if len(candidates) == 1 else detect(body, candidates)
        if any(name and canonical(name) == "utf-8" for name in (header, document)):
            evidence.append(f"{share:.0%} of the non-ASCII characters are U+FFFD when read as UTF-8")
        if len(candidates) != 1:
            evidence.append(f"the bytes read best as {web_name(actual)}")
    if header and document and canonical(header) != canonical(document):
        evidence.append(f"the HTTP header says {web_name(header)}, the document says {web_name(document)}")
    if claimed and canonical(claimed) != actual:
        return Decoding(actual, canonical(claimed), "; ".join(evidence))
    return Decoding(actual)
