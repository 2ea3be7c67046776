"""XML from sites we do not control (feeds, sitemaps): entity declarations are judged before any parser sees them.

Why not trust the parsers alone (reference/reliability.md §A.2): feedparser drops "unsafe" entities and expat >= 2.4
refuses amplification, and lxml's defaults expand no external entity; but those are version-dependent details of
three libraries. Here the rule is ours and the same for every XML document: external and parameter entities are
removed (a warning, never a file read or a fetch), and a document whose internal entities would expand past
MAX_EXPANSION bytes (billion laughs, quadratic blow-up) is rejected with a reason, in time linear in its size.
defusedxml was considered: it refuses every entity declaration, also the harmless `<!ENTITY nbsp "&#160;">` that
real feeds carry, and cannot tell a bomb from one such declaration. Scrapy's own `scrapy.utils.sitemap.Sitemap`
expands nothing either, but gives no URL at all, and no reason, for a sitemap that declares entities: run `defuse`
first, or read sitemaps with `parse_xml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

MAX_EXPANSION = 1024 * 1024  # bytes of entity text a document may expand to; a news feed needs none
_DOCTYPE = re.compile(rb"<!DOCTYPE\s[^\[>]*\[", re.IGNORECASE)
_ENTITY = re.compile(
    rb"""<!ENTITY\s+(?P<param>%\s+)?(?P<name>[^\s%"'>]+)\s+"""
    rb"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<external>(?:SYSTEM|PUBLIC)\b(?:[^>"']|"[^"]*"|'[^']*')*))\s*>""",
    re.IGNORECASE,
)
_REFERENCE = re.compile(rb"&([^\s&;#<>]+);")


class XmlError(ValueError):
    """An XML document we refuse to parse; the message is the reason code of its failure line."""


@dataclass(frozen=True)
class Defused:
    """The document to hand to a parser, and what was wrong with the original (reason codes)."""

    body: bytes
    warnings: tuple[str, ...] = ()


def defuse(body: bytes, max_expansion: int = MAX_EXPANSION) -> Defused:
    """Remove external and parameter entity declarations; XmlError('xml_entity_expansion') for an entity bomb.

    Documents in UTF-16/32 are not scanned (their bytes do not match); their parser's own limits apply.
    """
    subset = _internal_subset(body)
    if subset is None:
        return Defused(body)
    start, end = subset
    declarations = list(_ENTITY.finditer(body, start, end))
    hostile = [d for d in declarations if d["param"] or d["external"]]
    internal = {d["name"]: d["dq"] if d["dq"] is not None else d["sq"] for d in declarations if d not in hostile}
    if _expansion(internal, body[end:], max_expansion) > max_expansion:
        raise XmlError("xml_entity_expansion")
    if not hostile:
        return Defused(body)
    kept = bytearray(body)
    for declaration in reversed(hostile):
        del kept[declaration.start() : declaration.end()]
    return Defused(bytes(kept), ("xml_external_entity",))


def parse_xml(body: bytes, max_expansion: int = MAX_EXPANSION) -> tuple[etree._Element, tuple[str, ...]]:
    """A safe lxml tree (for sitemaps and the like) and the warnings; XmlError names why a document is refused.

    Lenient, as Scrapy's sitemap reader is (`recover=True`): a broken sitemap still gives its URLs, with a warning.
    """
    defused = defuse(body, max_expansion)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(defused.body, parser=parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise XmlError("not_xml")
    return root, defused.warnings + (("not_well_formed",) if parser.error_log else ())


def _internal_subset(body: bytes) -> tuple[int, int] | None:
    """Where the DOCTYPE's internal subset (the only place entities are declared) starts and ends, or None."""
    found = _DOCTYPE.search(body)
    if found is None:
        return None
    close = body.find(b"]", found.end())
    while close != -1 and not body[close + 1 : close + 64].lstrip().startswith(b">"):
        close = body.find(b"]", close + 1)
    return found.end(), len(body) if close == -1 else close


def _expansion(entities: dict[bytes, bytes], content: bytes, limit: int) -> int:
    """Bytes the document's references would expand to, stopping once past limit (so a bomb costs no more)."""
    sizes: dict[bytes, int] = {}

    def size(name: bytes, seen: frozenset[bytes]) -> int:
        if name in sizes:
            return sizes[name]
        if name not in entities or name in seen:  # predefined (&amp;), undeclared or recursive: no expansion
            return len(name) + 2
        total = len(entities[name])
        for reference in _REFERENCE.finditer(entities[name]):
            total += size(reference[1], seen | {name}) - len(reference[0])
            if total > limit:
                break
        sizes[name] = total
        return total

    expanded = 0
    for reference in _REFERENCE.finditer(content):
        if reference[1] in entities:
            expanded += size(reference[1], frozenset())
            if expanded > limit:
                break
    return expanded
