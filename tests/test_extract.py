"""extract() beyond the fixture pages: identity, hashing, profile choice, hostile input, the extract command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newscrawler.cli import main
from newscrawler.extract import extract
from newscrawler.extract.site import site_for_url

FETCHED = datetime(2022, 11, 23, 9, 0, tzinfo=UTC)
DLE_PAGE = """<html><head><title>{title}</title><meta name="generator" content="DataLife Engine (https://dle-news.ru)">
<link rel="canonical" href="{canonical}"></head><body><div id='dle-content'><h1>{title}</h1>
<span class="date">22.11.2022, 17:37</span><div class="text"><p>{body}</p><p>Второй абзац статьи.</p></div></div></body></html>"""


def dle_record(title: str = "Заголовок", body: str = "Первый абзац статьи.", url: str = "https://news.kz/regions/12345-slug.html"):
    return extract(DLE_PAGE.format(title=title, body=body, canonical=url), url, FETCHED)


def test_a_kz_site_gets_almaty_time_with_the_offset_of_the_day() -> None:
    record = dle_record()
    assert record.extractor == "dle/1"
    assert record.published_at == "2022-11-22T17:37:00+06:00"
    assert record.body == "Первый абзац статьи.\n\nВторой абзац статьи."


def test_the_dle_news_id_keeps_the_record_id_when_slug_and_category_change() -> None:
    first = dle_record(url="https://news.kz/regions/12345-old-slug.html")
    moved = dle_record(url="https://news.kz/politics/12345-new-slug.html")
    other = dle_record(url="https://news.kz/regions/12346-old-slug.html")
    assert first.id == moved.id != other.id


def test_content_hash_follows_the_text_not_its_whitespace() -> None:
    assert dle_record(body="Первый  абзац\n статьи.").content_hash == dle_record().content_hash
    assert dle_record(body="Другой текст.").content_hash != dle_record().content_hash
    assert dle_record(title="Новый заголовок").content_hash != dle_record().content_hash


@pytest.mark.parametrize(
    "marker",
    [
        '<meta name="generator" content="DataLife Engine">',
        "<script>var dle_root = '/'; var dle_skin = 'Default';</script>",
        '<script src="/engine/classes/js/dle_js.js"></script>',
        "<div id='dle-content'></div>",
        '<link rel="search" href="/engine/opensearch.php">',
    ],
)
def test_each_engine_marker_alone_selects_the_dle_profile(marker: str) -> None:
    page = f"<html><head></head><body>{marker}<h1>Заголовок</h1><p>Текст статьи, довольно длинный абзац.</p></body></html>"
    assert extract(page, "https://news.kz/1-a.html", FETCHED).extractor == "dle/1"


def test_a_page_without_engine_markers_goes_to_the_generic_extractor() -> None:
    page = "<html><head><title>Plain</title></head><body><article><h1>Plain</h1><p>Some text here.</p></article></body></html>"
    assert extract(page, "https://example.com/a", FETCHED).extractor == "generic/2"


@pytest.mark.parametrize(
    "markup",
    ["", "\x00\x00", "<html><body><div id='dle-content'><h1>Т\x00итул</h1><p>Текст <b>без конца", "<?xml version='1.0' encoding='windows-1251'?><html><body><p>x</p></body></html>", "not html at all"],
)
def test_broken_markup_gives_a_record_never_an_exception(markup: str) -> None:
    record = extract(markup, "https://news.kz/regions/1-a.html", FETCHED)
    assert record.url == "https://news.kz/regions/1-a.html"


BAD_SRC = "http://[::1/broken.jpg"  # a loopback IPv6 literal without its "]": no URL parser can split it
STORY = "<p>Текст статьи, достаточно длинный для записи.</p>"


@pytest.mark.parametrize(
    ("page", "extractor"),
    [
        (f"<html><head><meta name='generator' content='DataLife Engine'></head><body><div id='dle-content'><h1>Титул</h1>"
         f"<div>{STORY}<img src='{BAD_SRC}'><img src='/uploads/a.jpg'><!--dle_image_begin:{BAD_SRC}|--></div></div></body></html>", "dle/1"),
        (f"<html><head><meta name='generator' content='WordPress 6.4'><link rel='https://api.w.org/' href='{BAD_SRC}'></head>"
         f"<body><article><h1 class='entry-title'>Титул</h1><div class='entry-content'>{STORY}<img src='{BAD_SRC}'>"
         f"<img src='/uploads/a.jpg'></div></article></body></html>", "wordpress/"),
        (f"<html><head><title>Титул</title></head><body><article><h1>Титул</h1>{STORY}<figure><img src='{BAD_SRC}'></figure>"
         f"<figure><img src='/uploads/a.jpg'></figure></article></body></html>", "generic/"),
    ],
)
def test_an_image_url_no_parser_can_split_is_left_out_and_the_record_kept(page: str, extractor: str) -> None:
    record = extract(page, "https://news.kz/regions/1-a.html", FETCHED)
    assert record.extractor.startswith(extractor) and record.title == "Титул"
    assert record.images == ["https://news.kz/uploads/a.jpg"]


def test_a_page_without_a_title_has_none_not_an_empty_string() -> None:
    page = "<html><body><div id='dle-content'><h1> </h1><div><p>Текст статьи без заголовка.</p></div></div></body></html>"
    assert extract(page, "https://news.kz/regions/1-a.html", FETCHED).title is None


def test_the_extract_package_imports_nothing_from_scrapy() -> None:
    code = "import sys, newscrawler.extract; print(sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_site_zone_defaults_by_country_domain_and_is_overridable() -> None:
    assert str(site_for_url("https://turantimes.kz/rss.xml").timezone) == "Asia/Almaty"
    assert str(site_for_url("https://example.ru/").timezone) == "Europe/Moscow"
    assert str(site_for_url("http://127.0.0.1:8080/", tz="Asia/Almaty").timezone) == "Asia/Almaty"
    assert str(site_for_url("https://example.com/").timezone) == "UTC"


def test_extract_command_prints_the_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html"
    page.write_text(DLE_PAGE.format(title="Заголовок", body="Текст.", canonical="https://news.kz/regions/5-a.html"), encoding="utf-8")
    assert main(["extract", str(page), "--url", "https://news.kz/regions/5-a.html", "--fetched-at", "2022-11-23T09:00:00+00:00"]) == 0
    printed = capsys.readouterr().out
    record = json.loads(printed)
    assert "Заголовок" in printed  # UTF-8, not \\u escapes
    assert (record["title"], record["published_at"], record["fetched_at"]) == ("Заголовок", "2022-11-22T17:37:00+06:00", "2022-11-23T09:00:00+00:00")


def test_extract_command_reads_a_windows_1251_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html"
    markup = DLE_PAGE.format(title="Заголовок", body="Текст.", canonical="https://news.kz/regions/5-a.html")
    page.write_bytes(markup.replace("<head>", '<head><meta charset="windows-1251">').encode("cp1251"))
    assert main(["extract", str(page), "--url", "https://news.kz/regions/5-a.html"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Заголовок"


def test_extract_command_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["extract", str(tmp_path / "missing.html"), "--url", "https://news.kz/1-a.html"])
    assert stop.value.code == 2
    assert "missing.html" in capsys.readouterr().err


def test_the_attribute_axis_finds_the_elements_an_attribute_predicate_finds_in_page_order() -> None:
    """Page.ids and Page.itemprops use //@id/.. and //@itemprop/.. (faster): the same elements as //*[@id] and
    //*[@itemprop], in the same order, on every fixture page."""
    from lxml import etree

    from newscrawler.extract.page import WITH_ID, WITH_ITEMPROP, parse_html

    root_dir = Path(__file__).resolve().parent.parent / "fixtures"
    pages = sorted(root_dir.rglob("*.htm*"))
    assert len(pages) > 30
    for path in pages:
        root = parse_html(path.read_text(encoding="utf-8", errors="replace"))
        assert WITH_ID(root) == etree.XPath("//*[@id]")(root), path
        assert WITH_ITEMPROP(root) == etree.XPath("//*[@itemprop]")(root), path
