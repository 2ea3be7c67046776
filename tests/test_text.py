from __future__ import annotations

import sys

import pytest
from lxml import etree, html

from newscrawler.extract.text import paragraphs, parse_count


def paragraphs_of(markup: str) -> list[str]:
    return paragraphs(html.fragment_fromstring(markup, create_parent="div"))


def test_block_elements_and_double_br_split_paragraphs_single_br_is_a_newline() -> None:
    markup = "First<br>line two<br><br>Second <b>bold</b><p>Third&nbsp;one</p><ul><li>Item</li></ul>"
    assert paragraphs_of(markup) == ["First\nline two", "Second bold", "Third one", "Item"]


def test_hidden_elements_scripts_and_forms_are_not_text() -> None:
    markup = (
        '<p>Visible</p><div style="display: none"><a href="http://spam.invalid/">spam</a></div>'
        '<span hidden>secret</span><script>var x;</script><form><textarea>draft</textarea></form>tail'
    )
    assert paragraphs_of(markup) == ["Visible", "tail"]


def test_text_after_an_html_comment_is_kept() -> None:
    assert paragraphs_of("<p>before <!-- note --> after</p>") == ["before after"]


def test_a_tree_deeper_than_the_recursion_limit_does_not_exhaust_the_stack() -> None:
    root = element = html.Element("div")
    for _ in range(sys.getrecursionlimit() * 3):  # deeper than any parser builds; only a loop survives it
        element = html.Element("span") if element is None else etree.SubElement(element, "span")
    element.text = "deep"
    assert paragraphs(root) == ["deep"]


@pytest.mark.parametrize(
    ("text", "count"),
    [("338", 338), ("1 234", 1234), ("12\u00a0345", 12345), ("Просмотров: 1\u202f024", 1024), ("", None), ("нет", None), (None, None)],
)
def test_parse_count(text: str | None, count: int | None) -> None:
    assert parse_count(text) == count


def test_collapse_treats_as_whitespace_exactly_what_regex_s_does() -> None:
    """collapse() splits on str.isspace(); it used to be re.sub(r"\\s+", " ", text).strip(), and must stay equal."""
    import re
    import sys

    from newscrawler.extract.text import collapse

    space = re.compile(r"\s")
    assert [cp for cp in range(sys.maxunicode + 1) if bool(space.match(chr(cp))) != chr(cp).isspace()] == []
    for text in ("  a\u00a0\u00a0b\n\tc  ", "\u2009x\u202fy\u3000", "", " \n ", "\x1cseparators\x1f"):
        assert collapse(text) == re.sub(r"\s+", " ", text).strip()
