from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from newscrawler.feeds import FeedError, feedparser_entries, plain_feed_entries, parse_feed
from newscrawler.urls import normalize_url

SITES = Path(__file__).parent.parent / "fixtures" / "sites"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
<item><title>\xd0\x9d\xd0\xbe\xd0\xb2\xd0\xbe\xd1\x81\xd1\x82\xd1\x8c</title><link>/regions/1-a.html</link>
<dc:creator>NTleukesh</dc:creator><pubDate>Tue, 22 Nov 2022 17:37:00 +0600</pubDate></item>
<item><title>No link</title></item>
</channel></rss>"""


def test_rss_items_carry_link_date_with_offset_and_creator() -> None:
    (entry,) = parse_feed(RSS, "http://127.0.0.1:9/rss.xml")
    assert entry.url == "http://127.0.0.1:9/regions/1-a.html"
    assert entry.title == "Новость"
    assert entry.published_at == "2022-11-22T17:37:00+06:00"
    assert entry.published_at_raw == "Tue, 22 Nov 2022 17:37:00 +0600"
    assert entry.authors == ("NTleukesh",)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "empty_feed"), (b"  \n", "empty_feed"), (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "not_rss_or_atom")],
)
def test_documents_that_are_not_feeds_are_rejected_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse_feed(body, "http://127.0.0.1:9/rss.xml")


FIXTURE_FEEDS = ["dle-kz/rss.xml", "syndicate/rss.xml", "generic-news/feed.atom"]


@pytest.mark.parametrize("name", FIXTURE_FEEDS)
def test_fast_rss_and_atom_reader_agrees_with_feedparser(name: str) -> None:
    """The lxml reader for well-formed RSS 2.0/Atom must give what feedparser gives (feedparser says '' for no title)."""
    body = (SITES / name).read_bytes()
    fast = plain_feed_entries(body, "http://127.0.0.1:9/feed")
    assert fast is not None and len(fast) >= 2
    assert fast == [replace(entry, title=entry.title or None) for entry in feedparser_entries(body, "http://127.0.0.1:9/feed")]


RSS_AUTHORS = b"""<rss version="2.0"><channel><item><link>http://127.0.0.1:9/a</link><author>desk@site.kz (Asel Nur)</author>
</item><item><link>http://127.0.0.1:9/b</link><author>desk@site.kz</author></item>
<item><guid>http://127.0.0.1:9/c</guid></item><item><guid isPermaLink="false">tag:1</guid></item></channel></rss>"""


def test_rss_author_names_and_permalink_guids_as_feedparser_reads_them() -> None:
    fast = plain_feed_entries(RSS_AUTHORS, "http://127.0.0.1:9/rss.xml")
    assert fast == feedparser_entries(RSS_AUTHORS, "http://127.0.0.1:9/rss.xml")
    assert [(entry.url, entry.authors) for entry in fast] == [
        ("http://127.0.0.1:9/a", ("Asel Nur",)), ("http://127.0.0.1:9/b", ()), ("http://127.0.0.1:9/c", ()),
    ]


RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="http://127.0.0.1:9/"><title>T</title></channel>
<item rdf:about="http://127.0.0.1:9/n/1"><title>One</title><link>http://127.0.0.1:9/n/1</link></item></rdf:RDF>"""
BROKEN_RSS = b"""<rss version="2.0"><channel><item><title>Tom & Jerry</title><link>http://127.0.0.1:9/n/2</link>
<pubDate>Tue, 22 Nov 2022 17:37:00 +0600</pubDate></item></channel></rss>"""


@pytest.mark.parametrize(("body", "url"), [(RDF, "http://127.0.0.1:9/n/1"), (BROKEN_RSS, "http://127.0.0.1:9/n/2")])
def test_rss_1_and_broken_xml_are_left_to_feedparser(body: bytes, url: str) -> None:
    assert plain_feed_entries(body, "http://127.0.0.1:9/rss.xml") is None
    assert [entry.url for entry in parse_feed(body, "http://127.0.0.1:9/rss.xml")] == [url]


BROKEN_LINK_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Bad</title><link>http://[::1/n/1</link></item>
<item><title>Good</title><link>/n/2</link></item></channel></rss>"""


def test_a_link_no_url_parser_can_split_does_not_cost_the_feed_its_other_items() -> None:
    """It stays an entry, which the spider makes an invalid_url failure line (normalize_url raises on it);
    feedparser, for feeds too broken for lxml, drops such a link itself and keeps the rest too."""
    entries = plain_feed_entries(BROKEN_LINK_RSS, "http://127.0.0.1:9/rss.xml")
    assert [entry.url for entry in entries] == ["http://[::1/n/1", "http://127.0.0.1:9/n/2"]
    with pytest.raises(ValueError):
        normalize_url(entries[0].url)
    assert [entry.url for entry in feedparser_entries(BROKEN_LINK_RSS, "http://127.0.0.1:9/rss.xml")] == ["http://127.0.0.1:9/n/2"]
