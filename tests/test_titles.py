"""How the headline is chosen among a page's titles, on small hand-made pages (titles.py, generic.title and the
WordPress profile's title)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newscrawler.extract import extract
from newscrawler.extract.titles import choose_title, drop_added_tail, drop_kicker, strip_site_name

FETCHED = datetime(2024, 5, 4, 9, 0, tzinfo=UTC)
STORY = (
    "<p>The council voted on Tuesday to approve the riverside housing plan after a debate of four hours.</p>"
    "<p>Residents who opposed the plan said they would ask for a judicial review of the decision.</p>"
)


def record(markup: str, url: str = "https://example.com/news/1"):
    return extract(markup, url, FETCHED)


# WordPress: the theme's title element --------------------------------------------------------------------------

WP_GRID = """<html><head><title>Council approves riverside plan - Gazette</title>
<meta property="og:title" content="Council approves riverside plan - Gazette">
<link rel='stylesheet' href='/wp-content/themes/x/style.css' /></head><body class="single postid-7">
<div class="td-block-row"><h3 class="entry-title td-module-title"><a href="/other/">Drought hits northern farms</a></h3></div>
<div class="post"><h1 class="tdb-title-text">Council approves riverside plan</h1>{story}</div></body></html>"""


def test_a_wordpress_entry_title_the_head_does_not_name_is_another_posts() -> None:
    found = record(WP_GRID.format(story=STORY), "https://gazette.example/2024/05/03/riverside/")
    assert (found.extractor, found.title) == ("wordpress/2", "Council approves riverside plan")


def test_a_wordpress_entry_title_the_head_names_is_the_posts() -> None:
    markup = WP_GRID.format(story=STORY).replace("Drought hits northern farms", "Council approves riverside plan")
    markup = markup.replace("<h1 class=\"tdb-title-text\">Council approves riverside plan</h1>", "<h1>Riverside</h1>")
    assert record(markup, "https://gazette.example/2024/05/03/riverside/").title == "Council approves riverside plan"


# Kickers --------------------------------------------------------------------------------------------------------


def news_page(headline: str, og_title: str, h1: str) -> str:
    script = f'<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{headline}"}}</script>'
    return (f'<html><head><title>{headline} - Gazette</title><meta property="og:site_name" content="Gazette">'
            f'<meta property="og:title" content="{og_title}">{script}'
            f"</head><body><article><h1>{h1}</h1>{STORY}</article></body></html>")


def test_the_kicker_joined_to_the_headline_goes_when_the_social_title_leaves_it_out() -> None:
    markup = news_page("Neue Leipziger Schule: Judy Lybke, ganz und gar nicht eigenartig",
                       "Judy Lybke, ganz und gar nicht eigenartig - Gazette",
                       "Neue Leipziger Schule: Judy Lybke, ganz und gar nicht eigenartig")
    assert record(markup).title == "Judy Lybke, ganz und gar nicht eigenartig"


def test_a_kicker_stays_when_only_the_h1_leaves_it_out() -> None:
    # The h1 may print the kicker in an element of its own above it; that is layout, not the editor's headline.
    markup = news_page("Kenia: Nairobi von unten", "Kenia: Nairobi von unten", "Nairobi von unten")
    assert record(markup).title == "Kenia: Nairobi von unten"


def test_only_a_short_kicker_before_a_colon_or_bar_is_dropped() -> None:
    assert drop_kicker("Vierschanzentournee | Skisprung-Zoff ums Material", ["Skisprung-Zoff ums Material"]) == \
        "Skisprung-Zoff ums Material"
    long_head = "The minister said on Tuesday that the plan would go ahead in spite of the protests: it will"
    assert drop_kicker(f"{long_head} go ahead", ["it will go ahead"]) == f"{long_head} go ahead"
    assert drop_kicker("Rail strike called off - but talks go on", ["but talks go on"]) == \
        "Rail strike called off - but talks go on"
    assert choose_title(["Kicker: Headline here", "Other: Headline here"], [], ["Headline"]) == "Kicker: Headline here"


# Tails added for search -----------------------------------------------------------------------------------------


def test_a_tail_added_to_the_headline_goes_when_the_social_title_is_the_headline_alone() -> None:
    markup = news_page("Chelsea send clear message of intent on proud day at Cobham in battling win over Tottenham",
                       "Chelsea send clear message of intent on proud day at Cobham",
                       "Chelsea send clear message of intent on proud day at Cobham in battling win over Tottenham")
    assert record(markup).title == "Chelsea send clear message of intent on proud day at Cobham"


@pytest.mark.parametrize(
    ("title", "social"),
    [
        pytest.param("Council approves riverside plan after four hours of debate",
                     "Council approves riverside plan after…", id="ellipsis"),
        pytest.param("Riverside homes for the east: council approves the plan",
                     "Riverside homes for the east:", id="separator"),
        pytest.param("Council approves riverside plan after four hours of debate",
                     "Council approves riverside plan after four hours of", id="one-word-over"),
        pytest.param("Council approves riverside plan after four hours of debate", "Council approves", id="too-short"),
        pytest.param("Council approves riverside plan after four hours of debate",
                     "Council approves riverside plan aft", id="mid-word"),
    ],
)
def test_a_social_title_cut_for_length_does_not_shorten_the_headline(title: str, social: str) -> None:
    assert drop_added_tail(title, [social]) == title


# Site names and sections ----------------------------------------------------------------------------------------


def test_a_section_glued_on_by_a_dash_before_the_site_name_goes_with_it() -> None:
    assert strip_site_name("장동혁, 한동훈 제명했지만… 부담 커졌다-정치ㅣ한국일보", ["한국일보"]) == "장동혁, 한동훈 제명했지만… 부담 커졌다"
    assert strip_site_name("코로나 COVID-19ㅣ한국일보", ["한국일보"]) == "코로나 COVID-19"  # a number is no section
