"""Legacy encodings: windows-1251 and KOI8-R pages and feeds give the same records as UTF-8, and a page whose
header says utf-8 over windows-1251 bytes is re-decoded with the fix-up in its record (reliability.md §A.5 test 19)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from newscrawler.charset import decide
from newscrawler.extract import extract
from newscrawler.extract.page import utf8_source
from newscrawler.feeds import parse_feed
from newscrawler.middlewares.charset import FIXUP_META, CharsetMiddleware
from tests.site_server import Charset, SiteServer
from tests.test_crawl import BIN, FAST, comparable, read_jsonl, run

PAGE = ('<html><head><meta charset="{declared}"><title>Мажилис одобрил поправки</title></head>'
        "<body><h1>Мажилис одобрил поправки</h1><p>Депутаты одобрили законопроект в первом чтении.</p></body></html>")
FEED = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Новости</title><item><title>Цены на мясо стабилизировались</title>'
        "<link>http://127.0.0.1:9/economy/1-a.html</link><dc:creator xmlns:dc=\"http://purl.org/dc/elements/1.1/\">Редакция</dc:creator>"
        "</item></channel></rss>")
WINDOWS_1251 = Charset("cp1251", "windows-1251", "windows-1251")
FETCHED = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
KOI8_R = Charset("koi8-r", "koi8-r", "koi8-r")
KOI8_R_UNDECLARED = Charset("koi8-r", None, None)  # no charset in the header, no encoding in the XML declaration
MISLABELED = Charset("cp1251", "utf-8", "windows-1251")  # the server says utf-8; the bytes and <meta> are windows-1251


def test_windows_1251_bytes_sent_as_utf_8_are_detected_by_replacement_characters_and_the_meta() -> None:
    decoding = decide(PAGE.format(declared="windows-1251").encode("cp1251"), "text/html; charset=utf-8")
    assert (decoding.encoding, decoding.declared) == ("cp1251", "utf-8")
    assert "U+FFFD" in decoding.evidence and "the document says windows-1251" in decoding.evidence


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        (PAGE.format(declared="windows-1251").encode("cp1251"), "text/html; charset=windows-1251", "cp1251"),
        (PAGE.format(declared="koi8-r").encode("koi8-r"), "text/html", "koi8-r"),
        (FEED.encode("koi8-r"), "application/rss+xml", "koi8-r"),  # declared nowhere: detected
        (FEED.encode("cp1251"), "application/rss+xml", "cp1251"),
        (PAGE.format(declared="utf-8").encode() + b"\xff", "text/html; charset=utf-8", "utf-8"),  # one stray byte
    ],
)
def test_declared_or_detected_charsets_that_are_right_are_kept(body: bytes, content_type: str, encoding: str) -> None:
    assert decide(body, content_type).encoding == encoding
    assert decide(body, content_type).declared is None


def test_a_header_that_names_a_single_byte_charset_over_utf_8_bytes_is_corrected() -> None:
    decoding = decide(PAGE.format(declared="utf-8").encode(), "text/html; charset=windows-1251")
    assert (decoding.encoding, decoding.declared) == ("utf-8", "cp1251")


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (PAGE.format(declared="utf-8").encode() + b"\xd0", "utf-8"),  # a sequence cut short
        (PAGE.format(declared="utf-8").encode().replace(b"</p>", b"\x00</p>"), "utf-8"),  # a NUL byte
        (PAGE.format(declared="windows-1251").encode("cp1251"), "cp1251"),
        (b"\xff\xfe" + PAGE.format(declared="utf-16").encode("utf-16-le"), "utf-16"),
    ],
)
def test_a_body_lxml_would_read_otherwise_reaches_it_as_scrapy_decodes_it(body: bytes, encoding: str) -> None:
    """Broken UTF-8, NUL and other charsets: lxml's own decoding would differ (one U+FFFD a byte, NUL kept)."""
    response = HtmlResponse("http://127.0.0.1:9/a.html", body=body, encoding=encoding)
    assert utf8_source(body, encoding) == response.text


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf_8"])
def test_a_valid_utf_8_body_reaches_lxml_as_it_came(encoding: str) -> None:
    body = PAGE.format(declared="utf-8").encode()
    assert utf8_source(body, encoding) is body
    assert extract(body, "http://127.0.0.1:9/a.html", FETCHED) == extract(body.decode(), "http://127.0.0.1:9/a.html", FETCHED)


def test_a_charset_python_does_not_know_is_left_to_w3lib_not_an_error() -> None:
    body = PAGE.format(declared="utf-8").encode()
    assert utf8_source(body, "x-no-such-charset") == body.decode()


def test_the_middleware_re_decodes_and_notes_the_fix_up_for_the_record() -> None:
    crawler = get_crawler(settings_dict={"NEWSCRAWLER_CHARSET_ENABLED": True})
    middleware = build_from_crawler(CharsetMiddleware, crawler)
    request = Request("http://127.0.0.1:9/politics/1-a.html")
    body = PAGE.format(declared="windows-1251").encode("cp1251")
    response = HtmlResponse(request.url, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=request)
    assert "\ufffd" in response.text  # what Scrapy alone makes of it
    fixed = middleware.process_response(request, response)
    assert "Мажилис одобрил поправки" in fixed.text and "\ufffd" not in fixed.text
    assert request.meta[FIXUP_META]["declared"] == "utf-8" and request.meta[FIXUP_META]["used"] == "windows-1251"
    assert crawler.stats.get_value("newscrawler/charset/fixed") == 1


def test_a5_19_a_koi8_r_feed_without_a_declared_charset_gives_cyrillic_titles_and_authors() -> None:
    body = FEED.encode("koi8-r")
    (entry,) = parse_feed(body, "http://127.0.0.1:9/rss.xml", decide(body, "application/rss+xml").encoding)
    assert (entry.title, entry.authors) == ("Цены на мясо стабилизировались", ("Редакция",))


def crawl(site: SiteServer, output: Path) -> subprocess.CompletedProcess[str]:
    state = ["--state", str(output.with_suffix(".state"))]
    return run([str(BIN / "newscrawler"), "crawl", site.url("/rss.xml"), "-o", str(output), "--tz", "Asia/Almaty", *state, *FAST])


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]]]:
    """The DLE fixture site crawled as UTF-8 and as the copies an old install serves."""
    variants = {
        "utf-8": SiteServer("dle-kz"),
        "windows-1251 pages, KOI8-R feed": SiteServer("dle-kz", charset=WINDOWS_1251, feed_charset=KOI8_R_UNDECLARED),
        "KOI8-R pages and feed": SiteServer("dle-kz", charset=KOI8_R),
        "mislabeled": SiteServer("dle-kz", charset=MISLABELED, feed_charset=WINDOWS_1251),
    }
    servers = [site.start() for site in variants.values()]
    found = {}
    for name, site in variants.items():
        output = tmp_path_factory.mktemp("encodings") / "articles.jsonl"
        result = crawl(site, output)
        found[name] = (result, sorted(read_jsonl(output), key=lambda r: urlsplit(r["url"]).path))
    yield found
    for server in servers:
        server.shutdown()


def same_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record as comparable across crawls of copies on other ports: no host, no clock, no fetch notes."""
    kept = comparable(record)
    for key in ("site", "charset", "charset_fixup", "fetched_at"):
        kept.pop(key, None)
    host = urlsplit(record["url"]).netloc
    return with_host_replaced(kept, host)


def with_host_replaced(value: Any, host: str) -> Any:
    if isinstance(value, str):
        return value.replace(host, "HOST")
    if isinstance(value, list):
        return [with_host_replaced(item, host) for item in value]
    if isinstance(value, dict):
        return {key: with_host_replaced(item, host) for key, item in value.items()}
    return value


@pytest.mark.parametrize("variant", ["windows-1251 pages, KOI8-R feed", "KOI8-R pages and feed", "mislabeled"])
def test_legacy_encoded_copies_give_the_same_records_as_utf_8(crawls: dict, variant: str) -> None:
    result, records = crawls[variant]
    assert result.returncode == 4, result.stderr[-3000:]  # the 404 and the untitled page, as in UTF-8
    _, utf8 = crawls["utf-8"]
    assert len(records) == len(utf8) == 16
    assert [same_record(r) for r in records] == [same_record(r) for r in utf8]
    assert not [r["url"] for r in records if "\ufffd" in r["title"] + r["body"] + str(r["comments"])]


@pytest.mark.parametrize(("variant", "charset"), [("utf-8", "utf-8"), ("windows-1251 pages, KOI8-R feed", "windows-1251"), ("KOI8-R pages and feed", "koi8-r")])
def test_records_name_the_charset_their_page_was_read_in_and_need_no_fix_up(crawls: dict, variant: str, charset: str) -> None:
    result, records = crawls[variant]
    assert {(r["charset"], r["charset_fixup"] is None) for r in records} == {(charset, True)}
    assert "re-decoded" not in result.stdout


def test_a5_19_a_page_sent_as_utf_8_in_windows_1251_is_re_decoded_and_its_record_says_so(crawls: dict) -> None:
    result, records = crawls["mislabeled"]
    fixups = [r["charset_fixup"] for r in records]
    assert {(f["declared"], f["used"]) for f in fixups} == {("utf-8", "windows-1251")}
    assert all("U+FFFD when read as UTF-8" in f["evidence"] and "the document says windows-1251" in f["evidence"] for f in fixups)
    assert {r["charset"] for r in records} == {"windows-1251"}
    # every article page fetched (the 16 records and the untitled one) was fixed; the feed was labelled right
    assert "pages re-decoded because their declared charset was wrong: 17" in result.stdout
