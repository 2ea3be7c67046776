"""The generic extractor layer by layer, on small hand-made pages: structured data, dates, authors, titles, body."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from itemadapter import ItemAdapter

from newscrawler.extract import extract
from newscrawler.extract.authors import clean_names, split_byline
from newscrawler.extract.language import SAMPLE_CHARS, identifier
from newscrawler.extract.titles import choose_title, fix_mojibake, strip_site_name
from newscrawler.pipelines.validate import find_problem
from tests.fixture_cases import CASES, read_json

FETCHED = datetime(2024, 5, 4, 9, 0, tzinfo=UTC)
STORY = (
    "<p>The council voted on Tuesday to approve the riverside housing plan after a debate of four hours.</p>"
    "<p>Residents who opposed the plan said they would ask for a judicial review of the decision.</p>"
    "<p>Building work is due to start next spring and the first homes should be ready in two years.</p>"
)


def page(head: str = "", body: str = "", title: str = "Council approves riverside plan") -> str:
    return (f"<html><head><title>{title}</title>{head}</head><body><main><article><h1>{title}</h1>"
            f"{body}{STORY}</article></main></body></html>")


def json_ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def record(markup: str, url: str = "https://example.com/news/1"):
    return extract(markup, url, FETCHED)


# Structured data -----------------------------------------------------------------------------------------------

ARTICLE = {"@type": "NewsArticle", "headline": "Council approves riverside plan",
           "datePublished": "2024-05-03T15:47:00+02:00", "author": {"@type": "Person", "name": "Jane Doe"}}


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(json_ld(ARTICLE), id="object"),
        pytest.param(json_ld([{"@type": "WebSite", "name": "Gazette"}, ARTICLE]), id="array"),
        pytest.param(json_ld({"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, ARTICLE]}), id="graph"),
        pytest.param(json_ld({"@type": "WebPage", "mainEntity": ARTICLE}), id="mainEntity"),
        pytest.param(json_ld(json.dumps(ARTICLE)), id="double-escaped"),
        pytest.param(json_ld({**ARTICLE, "@type": "ReportageNewsArticle"}), id="ReportageNewsArticle"),
        pytest.param(json_ld({**ARTICLE, "@type": ["Article", "NewsArticle"]}), id="type-list"),
    ],
)
def test_json_ld_article_is_found_in_every_shape_sites_write(script: str) -> None:
    found = record(page(head=script))
    assert (found.published_at, found.authors) == ("2024-05-03T15:47:00+02:00", ["Jane Doe"])


def test_a_json_ld_author_given_by_reference_is_resolved_in_the_graph() -> None:
    graph = {"@graph": [{**ARTICLE, "author": {"@id": "https://example.com/#/person/1"}},
                        {"@type": "Person", "@id": "https://example.com/#/person/1", "name": "Timo Shihepo"}]}
    assert record(page(head=json_ld(graph))).authors == ["Timo Shihepo"]


def test_microdata_gives_date_and_author_without_json_ld() -> None:
    body = ('<meta itemprop="datePublished" content="2024-05-03T09:15:00+01:00">'
            '<span itemprop="author" itemscope><meta itemprop="name" content="Max Muster"></span>')
    found = record(page(body=body))
    assert (found.published_at, found.authors) == ("2024-05-03T09:15:00+01:00", ["Max Muster"])


def test_opengraph_article_meta_and_dublin_core() -> None:
    og = record(page(head='<meta property="article:published_time" content="2024-05-03T10:00:00Z">'))
    dc = record(page(head='<meta name="DC.date.issued" content="2024-05-03T10:00:00+02:00">'))
    assert (og.published_at, dc.published_at) == ("2024-05-03T10:00:00+00:00", "2024-05-03T10:00:00+02:00")


def test_time_element_in_the_article_when_nothing_else_dates_the_page() -> None:
    body = '<aside><time datetime="2020-01-01T00:00:00Z">old</time></aside>'
    markup = page(body='<time datetime="2024-05-03T08:30:00+02:00">3 May 2024</time>').replace("<main>", f"{body}<main>")
    assert record(markup).published_at == "2024-05-03T08:30:00+02:00"


# Dates ---------------------------------------------------------------------------------------------------------


def test_an_offset_without_colon_is_kept_as_stated() -> None:
    found = record(page(head='<meta property="article:published_time" content="2024-05-03T18:47:00+0300">'))
    assert (found.published_at, found.published_at_raw) == ("2024-05-03T18:47:00+03:00", "2024-05-03T18:47:00+0300")


def test_a_date_without_offset_is_read_in_the_zone_of_the_site_country() -> None:
    markup = page(head=json_ld({**ARTICLE, "datePublished": "2024-05-03T18:47:00"}))
    assert record(markup, "https://gazeta.ru/news/1").published_at == "2024-05-03T18:47:00+03:00"


def test_unix_seconds_are_an_instant_in_utc() -> None:
    markup = page(head=json_ld({**ARTICLE, "datePublished": 1714751220}))
    assert record(markup).published_at == "2024-05-03T15:47:00+00:00"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-1e999", "99999999999999999999"])
def test_a_json_ld_date_that_is_no_instant_is_ignored_not_a_crash(value: str) -> None:
    script = f'<script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": {value}}}</script>'
    assert record(page(head=script)).published_at is None


def test_a_date_that_states_its_offset_beats_a_bare_one_for_the_same_moment() -> None:
    head = json_ld({**ARTICLE, "datePublished": "2024-05-03T17:47:00"})
    head += '<meta property="article:published_time" content="2024-05-03T17:47:00+02:00">'
    assert record(page(head=head)).published_at == "2024-05-03T17:47:00+02:00"


def test_structured_utc_beats_a_visible_local_time_that_disagrees() -> None:
    # The visible line says 19:47 Moscow (16:47 UTC); the JSON-LD instant says 15:47 UTC. Structured data is what
    # the CMS stored; the visible line may be rounded, "updated" or in the reader's zone.
    markup = page(head=json_ld({**ARTICLE, "datePublished": "2024-05-03T15:47:00Z"}),
                  body='<span class="date">03.05.2024, 19:47</span>')
    found = record(markup, "https://gazeta.ru/news/1")
    assert (found.published_at, found.published_at_raw) == ("2024-05-03T15:47:00+00:00", "2024-05-03T15:47:00Z")


def test_the_visible_date_line_dates_a_page_whose_markup_does_not() -> None:
    line = '<p class="article-date">Veröffentlicht am 3. Mai 2024 um 15:44</p>'
    markup = page(body=line).replace("<html>", '<html lang="de">')
    found = record(markup, "https://example.com/news/1")
    assert (found.published_at, found.published_at_raw) == ("2024-05-03T15:44:00+00:00", "Veröffentlicht am 3. Mai 2024 um 15:44")


def test_a_visible_date_line_is_read_in_the_site_zone() -> None:
    markup = page(body='<span class="date">3 мая 2024, 18:47</span>').replace("<html>", '<html lang="ru">')
    assert record(markup, "https://gazeta.ru/news/1").published_at == "2024-05-03T18:47:00+03:00"


def test_a_visible_date_after_the_fetch_is_not_the_publication_date() -> None:
    markup = page(body='<span class="date">3 мая 2025, 18:47</span>').replace("<html>", '<html lang="ru">')
    assert record(markup, "https://gazeta.ru/news/1").published_at is None


# Authors -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("Samya Kullab and Vasilisa Stepanenko", ["Samya Kullab", "Vasilisa Stepanenko"]),
        ("Felix Schröder und Jörg Soldwisch, dpa", ["Felix Schröder", "Jörg Soldwisch", "dpa"]),
        ("By Madeleine Howell", ["Madeleine Howell"]),
        ("Von: Simone Jung", ["Simone Jung"]),
        ("Автор: Иван Петров", ["Иван Петров"]),
        ("Elena Oberholzer (obe)", ["Elena Oberholzer"]),
        ("신현주 기자", ["신현주"]),
        ("Brazil, Rachel", ["Rachel Brazil"]),
        ("AFP, dpa", ["AFP", "dpa"]),
        ("srf/hosb;kesm", ["srf/hosb", "kesm"]),
        ("d.kuckelkorn@boersen-zeitung.de", []),
    ],
)
def test_a_byline_is_split_into_names(raw: str, names: list[str]) -> None:
    assert split_byline(raw) == names


def test_placeholders_and_the_site_itself_are_not_authors_when_a_person_signed() -> None:
    assert clean_names(["Редакция", "Jane Doe", "STERN.de"], ["stern.de"]) == ["Jane Doe"]


def test_an_author_page_slug_beside_the_name_is_dropped() -> None:
    assert clean_names(["Sophie Foster", "sophie-foster"]) == ["Sophie Foster"]


def test_the_site_name_is_the_author_when_no_person_signed() -> None:
    head = '<meta name="author" content="Gazette"><meta property="og:site_name" content="Gazette">'
    assert record(page(head=head)).authors == ["Gazette"]


def test_a_person_in_a_later_source_beats_the_site_name_in_an_earlier_one() -> None:
    head = ('<meta name="author" content="Gazette"><meta property="og:site_name" content="Gazette">'
            '<meta name="twitter:label1" content="Written by"><meta name="twitter:data1" content="Timo Shihepo">')
    assert record(page(head=head)).authors == ["Timo Shihepo"]


def test_rel_author_link_when_nothing_structured_names_anyone() -> None:
    body = '<p class="byline">By <a rel="author" href="/people/jane">Jane Doe</a> and <a rel="author" href="/people/max">Max Muster</a></p>'
    assert record(page(body=body)).authors == ["Jane Doe", "Max Muster"]


# Titles --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("LTE-Patent: Samsung soll Smartphones zerstören - Golem.de", "LTE-Patent: Samsung soll Smartphones zerstören"),
        ("Steigende US-Zinsen setzen Dax zu | Börsen-Zeitung", "Steigende US-Zinsen setzen Dax zu"),
        ("停戦「最も合意に近い」 - 毎日新聞", "停戦「最も合意に近い」"),
        ("Nam, SA Green hydrogen pipeline flagged - The Namibian", "Nam, SA Green hydrogen pipeline flagged"),
        ("Rail strike called off - but talks go on", "Rail strike called off - but talks go on"),
    ],
)
def test_the_site_name_is_cut_off_the_title(raw: str, title: str) -> None:
    names = ["Golem.de", "Börsen-Zeitung", "毎日新聞", "The Namibian", "golem.de"]
    assert strip_site_name(raw, names) == title


def test_a_section_tail_goes_when_the_rest_is_another_candidate() -> None:
    assert choose_title(["Thioune fordert Geduld | Sport", "Thioune fordert Geduld"], []) == "Thioune fordert Geduld"


def test_entities_escaped_twice_and_utf8_read_as_latin1_are_repaired() -> None:
    assert choose_title(["Swift&#8217;s &quot;Best Work&quot;"], []) == "Swift’s \"Best Work\""
    assert fix_mojibake("Toller Tarif jetzt fÃ¼r nur 5,99 Euro") == "Toller Tarif jetzt für nur 5,99 Euro"
    assert fix_mojibake("Größe") == "Größe"


def test_json_ld_headline_beats_h1_and_document_title() -> None:
    markup = page(head=json_ld(ARTICLE), title="Riverside: council says yes | Gazette")
    assert record(markup).title == "Council approves riverside plan"


# Body ----------------------------------------------------------------------------------------------------------


def test_the_body_keeps_the_story_and_drops_link_rails_lists_and_repeated_lines() -> None:
    extra = ('<p>Externer Inhalt nicht verfügbar</p><p><a href="/a">Read also: Bridge closed for repairs over summer</a></p>'
             "<ul><li>Popular story one</li><li>Popular story two</li></ul><p>Externer Inhalt nicht verfügbar</p>")
    body = record(page(body=extra)).body
    assert body.split("\n\n") == [
        "The council voted on Tuesday to approve the riverside housing plan after a debate of four hours.",
        "Residents who opposed the plan said they would ask for a judicial review of the decision.",
        "Building work is due to start next spring and the first homes should be ready in two years.",
    ]


STANDFIRST = "The plan for 300 homes on the old dairy site passed by seven votes to four after a long debate."


def test_the_standfirst_shown_above_the_story_opens_the_body() -> None:
    head = f'<meta property="og:description" content="{STANDFIRST}">'
    markup = page(head=head).replace("<main>", f'<main><header><div class="intro"><strong>{STANDFIRST}</strong></div></header>')
    assert record(markup).body.split("\n\n")[:2] == [STANDFIRST, STORY[3:STORY.index("</p>")]]


def test_a_description_the_page_does_not_show_stays_out_of_the_body() -> None:
    assert STANDFIRST not in record(page(head=f'<meta property="og:description" content="{STANDFIRST}">')).body


def test_a_page_without_a_story_has_no_body_and_the_record_fails_validation_with_the_reason() -> None:
    found = record("<html><head><title>Gallery</title></head><body><nav><a href='/'>Home</a></nav></body></html>")
    assert found.body is None
    assert find_problem(ItemAdapter(asdict(found))) == "missing_body"


# Language ------------------------------------------------------------------------------------------------------


def test_language_of_the_body_tells_kazakh_from_russian() -> None:
    kazakh = ("<p>Қазақстан Республикасының Үкіметі жаңа бағдарламаны бекітті. Бұл құжат елдің экономикасын "
              "дамытуға бағытталған және көптеген жаңа жұмыс орындарын ашуды көздейді.</p>")
    russian = ("<p>Правительство Республики Казахстан утвердило новую программу. Этот документ направлен на развитие "
               "экономики страны и предусматривает создание множества новых рабочих мест.</p>")
    def language(paragraph: str) -> str | None:
        return record(f"<html><body><article><h1>Тақырып</h1>{paragraph * 3}</article></body></html>").language

    assert (language(kazakh), language(russian)) == ("kk", "ru")


def test_the_language_model_in_float32_scores_as_py3langid_itself() -> None:
    """language.identifier() widens the model's table for speed: the same language and score on every fixture body."""
    import py3langid

    bodies = [read_json(case)["body"] for case in CASES if read_json(case)["body"]]
    assert len(bodies) >= 18
    for body in bodies:
        assert identifier().classify(body[:SAMPLE_CHARS]) == py3langid.classify(body[:SAMPLE_CHARS])
