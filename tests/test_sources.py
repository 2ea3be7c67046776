"""sources.toml: every kind of mistake stops the run before any request, naming file, line, key and fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newscrawler.cli import main
from newscrawler.extract import extract
from newscrawler.sources import SourcesError, load_sources
from newscrawler.state import make_state
from tests.generated_site import FIRST_ID, GeneratedSite, serve_generated
from tests.test_crawl import BIN, run

PROJECT = Path(__file__).resolve().parent.parent
GOOD = """\
[sites.synthetic]
start_urls = ["{base}/rss.xml"]
profile = "dle"
timezone = "Asia/Almaty"
"""
# One mistake each, on the line given: (what is written, line, the key named, words of the fix).
MISTAKES = {
    "unknown key": ('timezon = "Asia/Almaty"', 5, "sites.synthetic.timezon", "did you mean 'timezone'?"),
    "wrong type": ("recrawl_days = \"three\"", 5, "sites.synthetic.recrawl_days", "write a number without quotes"),
    "bad CSS selector": ('[sites.synthetic.selectors]\ntitle = "h1..title"', 6, "sites.synthetic.selectors.title",
                         "not a valid CSS selector"),
    "bad XPath selector": ("[sites.synthetic.selectors]\nbody = \"//div[@class='text'\"", 6, "sites.synthetic.selectors.body",
                           "not a valid XPath selector"),
    "unknown timezone": ('[sites.other]\nstart_urls = ["http://127.0.0.1:9/rss.xml"]\ntimezone = "Asia/Almata"', 7,
                         "sites.other.timezone", "use an IANA name such as 'Asia/Almaty'"),
    "missing required key": ('[sites.other]\nprofile = "generic"', 5, "sites.other.start_urls",
                             "add it, e.g. start_urls = ["),
    "value out of range": ('[sites.synthetic.politeness]\ndelay = -1', 6, "sites.synthetic.politeness.delay",
                        "greater than or equal to 0"),
}


@pytest.fixture(scope="module")
def site() -> Iterator[GeneratedSite]:
    with serve_generated(3) as served:
        yield served


def config(tmp_path: Path, site: GeneratedSite, extra: str = "") -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD.format(base=site.base) + extra + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", MISTAKES)
def test_each_mistake_stops_the_crawl_before_any_request(
    kind: str, site: GeneratedSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written, line, key, fix = MISTAKES[kind]
    path = config(tmp_path, site, written)
    before = len(site.requests)
    status = main(["crawl", "--config", str(path), "-o", str(tmp_path / "out.jsonl"), "--state", str(tmp_path / "state")])
    message = capsys.readouterr().err
    assert status == 2
    assert f"{path}:{line}: {key}: " in message
    assert fix in message
    assert site.requests[before:] == []
    assert not (tmp_path / "out.jsonl").exists()


def test_the_command_exits_2_with_every_mistake_listed_and_no_request(site: GeneratedSite, tmp_path: Path) -> None:
    path = config(tmp_path, site, 'titel = "x"\n[sites.synthetic.selectors]\ndate = "span[data-x"')
    before = len(site.requests)
    result = run([str(BIN / "newscrawler"), "crawl", "--config", str(path), "-o", str(tmp_path / "out.jsonl"),
                  "--state", str(tmp_path / "state")])
    assert result.returncode == 2
    assert f"{path}:5: sites.synthetic.titel: unknown key" in result.stderr
    assert f"{path}:7: sites.synthetic.selectors.date: 'span[data-x' is not a valid CSS selector" in result.stderr
    assert site.requests[before:] == []


def test_sources_check_validates_without_crawling(site: GeneratedSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(site.requests)
    assert main(["sources", "check", "--config", str(config(tmp_path, site))]) == 0
    assert "synthetic: dle, Asia/Almaty, 1 start URL(s)" in capsys.readouterr().out
    bad = config(tmp_path, site, '[sites.mars]\nstart_urls = ["http://127.0.0.1:9/"]\ntimezone = "Mars/Olympus"')
    assert main(["sources", "check", "--config", str(bad)]) == 2
    assert f"{bad}:7: sites.mars.timezone: unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    assert site.requests[before:] == []


def test_a_duplicate_key_is_a_toml_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[sites.a]\nstart_urls = ["http://127.0.0.1:9/"]\nstart_urls = []\n', encoding="utf-8")
    with pytest.raises(SourcesError, match=r"sources.toml: not valid TOML: .*line 3"):
        load_sources(path)


def test_without_a_url_the_default_sources_toml_is_read(tmp_path: Path) -> None:
    result = run([str(BIN / "newscrawler"), "crawl", "-o", str(tmp_path / "out.jsonl")], cwd=tmp_path)
    assert result.returncode == 2
    assert "no URL given and ./sources.toml does not exist" in result.stderr


def test_an_unknown_site_name_lists_the_sites(site: GeneratedSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["crawl", "--config", str(config(tmp_path, site)), "--site", "nope", "-o", str(tmp_path / "o.jsonl")])
    assert status == 2
    assert "no site 'nope'; the sites are: synthetic" in capsys.readouterr().err


def test_the_shipped_example_is_valid() -> None:
    sources = load_sources(PROJECT / "sources.example.toml")
    assert {source.profile for source in sources} == {"dle", "wordpress"}


def test_selector_overrides_reach_the_dle_profile(tmp_path: Path) -> None:
    """A theme whose title and date the engine-level defaults would not find: CSS and XPath overrides do."""
    path = tmp_path / "sources.toml"
    path.write_text("""
[sites.theme]
start_urls = ["https://example.kz/rss.xml"]
profile = "dle"
[sites.theme.selectors]
title = "div.headline b"
date = "//p[@class='when']"
""", encoding="utf-8")
    (source,) = load_sources(path)
    page = """<html><head><meta name="generator" content="DataLife Engine"></head><body><div id='dle-content'>
    <div class="headline"><b>Заголовок темы</b></div><p class="when">22.11.2022, 17:37</p>
    <div class="text"><p>Текст новости, достаточно длинный, чтобы быть телом статьи и пройти проверку.</p></div>
    </div></body></html>"""
    record = extract(page, "https://example.kz/news/1-a.html", datetime(2022, 11, 23, tzinfo=UTC), site=source.site())
    assert record.title == "Заголовок темы"
    assert record.published_at == "2022-11-22T17:37:00+06:00"  # .kz: Asia/Almaty, +06:00 before March 2024
    assert record.site == "theme"


def test_a_sites_recrawl_window_decides_whether_its_articles_come_back(tmp_path: Path) -> None:
    now = datetime(2022, 11, 30, tzinfo=UTC)
    state = make_state(tmp_path / "state", timedelta(days=3), {"slow": timedelta(days=10)}).open()
    try:
        for site_name in ("slow", "fast"):
            url = f"http://127.0.0.1:9/{site_name}/{FIRST_ID}-a.html"
            state.discover(site_name, [(url, {})], now)
            record = {"id": site_name, "url": url, "canonical_url": url, "site": site_name, "title": "T", "body": "B",
                      "comments": [], "content_hash": site_name, "published_at": "2022-11-25T10:00:00+06:00"}
            state.store(url, record, now)
        due_later = {url for url, _ in state.due(now + timedelta(hours=1))}
    finally:
        state.close()
    assert due_later == {f"http://127.0.0.1:9/slow/{FIRST_ID}-a.html"}  # 5 days old: within 10 days, not within 3


def test_sources_check_reads_the_default_file_of_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sources.toml").write_text('[sites.here]\nstart_urls = ["https://example.ru/rss.xml"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["sources", "check"]) == 0
    assert "here: auto, Europe/Moscow, 1 start URL(s)" in capsys.readouterr().out  # .ru: Moscow by default


def test_a_sites_timezone_beats_its_country_domain(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[sites.w]\nstart_urls = ["https://example.kz/rss.xml"]\nprofile = "dle"\ntimezone = "Asia/Oral"\n'
                    '[sites.w.selectors]\ndate = "p.when"\n', encoding="utf-8")
    (source,) = load_sources(path)
    page = ("<html><body><div id='dle-content'><h1>Заголовок</h1><p class='when'>22.11.2022, 17:37</p><div><p>"
            + "Текст новости. " * 20 + "</p></div></div></body></html>")
    record = extract(page, "https://example.kz/news/1-a.html", datetime(2022, 11, 23, tzinfo=UTC), site=source.site())
    assert record.published_at == "2022-11-22T17:37:00+05:00"  # western Kazakhstan; .kz alone would give +06:00
