from __future__ import annotations

import pytest

from newscrawler.urls import normalize_url, resolve, site_name


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("HTTP://Example.KZ:80/news/1-a.html#comments", "http://example.kz/news/1-a.html"),
        ("https://example.kz:443/a?b=2&a=1", "https://example.kz/a?a=1&b=2"),
        ("https://example.kz:8443/a", "https://example.kz:8443/a"),
        ("http://example.kz/a.html?utm_source=telegram&utm_medium=social", "http://example.kz/a.html"),
        ("http://example.kz/a.html?id=5&fbclid=x&gclid=y&yclid=z&_openstat=q&from=rss&PHPSESSID=abc&sid=9", "http://example.kz/a.html?id=5"),
        ("http://example.kz/a.html;jsessionid=0A1B2C?JSESSIONID=9&ASPSESSIONIDQQ=1&osCsid=2&p=1", "http://example.kz/a.html?p=1"),
        ("http://example.kz/a.html;v=2", "http://example.kz/a.html;v=2"),
        ("http://example.kz", "http://example.kz/"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
    ],
)
def test_normalize_url(url: str, normalized: str) -> None:
    assert normalize_url(url) == normalized


def test_site_name_drops_www_and_keeps_a_non_default_port() -> None:
    assert site_name("https://www.turantimes.kz/regions/1-a.html") == "turantimes.kz"
    assert site_name("http://127.0.0.1:8080/rss.xml") == "127.0.0.1:8080"


def test_the_tracking_list_is_replaceable_with_prefixes_marked_by_a_star() -> None:
    url = "http://example.kz/a.html?ref=tg&ref_id=5&utm_source=x&id=1"
    assert normalize_url(url, ("ref*",)) == "http://example.kz/a.html?id=1&utm_source=x"


@pytest.mark.parametrize(
    ("link", "resolved"),
    [("/a/b.html", "https://news.kz/a/b.html"), ("c.html", "https://news.kz/x/c.html"), ("http://[::1/a", None)],
)
def test_resolve_joins_a_link_or_says_none_for_one_no_parser_can_split(link: str, resolved: str | None) -> None:
    assert resolve("https://news.kz/x/y.html", link) == resolved
