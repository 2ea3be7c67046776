from __future__ import annotations

import pytest

from newscrawler.feeds import FeedError, parse_feed

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
