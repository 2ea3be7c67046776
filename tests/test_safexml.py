"""The safe XML reader shared by feeds and sitemaps: entity bombs refused, external entities removed unread."""

from __future__ import annotations

from pathlib import Path

import pytest

from newscrawler.feeds import read_feed
from newscrawler.safexml import XmlError, defuse, parse_xml

HOSTILE = Path(__file__).resolve().parent.parent / "fixtures" / "sites" / "hostile-xml"
SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>%s
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://127.0.0.1:9/news/1-a.html%s</loc></url>
<url><loc>http://127.0.0.1:9/news/2-b.html</loc></url>
</urlset>"""


def sitemap(doctype: bytes = b"", reference: bytes = b"") -> bytes:
    return SITEMAP % (doctype, reference)


def locs(root) -> list[str]:
    return ["".join(loc.itertext()) for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]


def test_a_plain_sitemap_gives_its_urls_without_warnings() -> None:
    root, warnings = parse_xml(sitemap())
    assert locs(root) == ["http://127.0.0.1:9/news/1-a.html", "http://127.0.0.1:9/news/2-b.html"]
    assert warnings == ()


def test_a_sitemap_with_an_external_entity_is_read_without_it(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-sitemap")
    doctype = b'<!DOCTYPE urlset [<!ENTITY x SYSTEM "' + secret.as_uri().encode() + b'">]>'
    root, warnings = parse_xml(sitemap(doctype, b"&x;"))
    assert "SECRET" not in "".join(locs(root))
    assert locs(root)[1] == "http://127.0.0.1:9/news/2-b.html"
    assert warnings == ("xml_external_entity", "not_well_formed")  # the reference is left undefined


@pytest.mark.parametrize("name", ["billion-laughs.xml", "quadratic.xml"])
def test_entity_bombs_are_refused_as_sitemaps_too(name: str) -> None:
    with pytest.raises(XmlError, match="xml_entity_expansion"):
        parse_xml((HOSTILE / name).read_bytes())


def test_a_harmless_entity_is_kept_and_a_parameter_entity_removed() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY nbsp "&#160;"><!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">]><r>a&nbsp;b</r>'
    defused = defuse(body)
    assert b"<!ENTITY nbsp" in defused.body and b"x.dtd" not in defused.body
    assert defused.warnings == ("xml_external_entity",)


def test_an_entity_used_a_few_times_is_no_bomb() -> None:
    doctype = b'<!DOCTYPE urlset [<!ENTITY host "http://127.0.0.1:9">]>'
    body = sitemap(doctype).replace(b"http://127.0.0.1:9/news/2", b"&host;/news/2")
    assert defuse(body).body == body


def test_xxe_feed_titles_hold_no_secret() -> None:
    body = (HOSTILE / "xxe.xml").read_bytes().replace(b"file:///SITE_ROOT", HOSTILE.as_uri().encode())
    feed = read_feed(body, "http://127.0.0.1:9/xxe.xml")
    (entry,) = feed.entries
    assert entry.title.startswith("Лента с внешней сущностью")
    assert "SECRET" not in entry.title
    assert "xml_external_entity" in feed.warnings
