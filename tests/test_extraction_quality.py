"""Quality floors of the generic extractor on the Fundus pages (../shared/datasets/fundus), scored as
benchmarks/extraction_quality.py scores them. Floors, not timings: the figures themselves are the benchmark's."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import extraction_quality as quality  # noqa: E402

BODY_F1_FLOOR = 0.95
TITLE_EXACT_FLOOR = 0.83  # measured 0.864

pytestmark = pytest.mark.skipif(
    not (quality.DATA / "index.jsonl").is_file(),
    reason=f"the Fundus data set is not at {quality.DATA} (../shared/datasets/fundus beside the checkout)",
)


@cache
def scores() -> quality.Scores:
    cases = quality.load_cases()
    predictions, _ = quality.run(quality.newscrawler_predict, cases)
    return quality.score(cases, predictions)


def test_the_whole_data_set_is_read() -> None:
    assert len(quality.load_cases()) == 258


def test_body_f1_stays_above_its_floor() -> None:
    assert scores().body >= BODY_F1_FLOOR


def test_title_exact_stays_above_its_floor() -> None:
    assert scores().title >= TITLE_EXACT_FLOOR


def test_shingle_scoring_counts_shared_extra_and_missing_shingles() -> None:
    # 6 tokens -> 3 shingles each; "a b c d" / "b c d e" shared, "c d e f" vs "c d e x" differ.
    assert quality.body_counts("a b c d e f", "a b c d e x") == (2, 1, 1)
    assert quality.body_f1([("a b c d e f", "a b c d e x"), (None, "a b c d")]) == pytest.approx((2 / 3, 1 / 3, 4 / 9))


def test_dates_compare_instants_to_the_minute() -> None:
    assert quality.date_ok("2024-05-03T18:47:59+03:00", "2024-05-03T15:47:02.389000+00:00")
    assert not quality.date_ok("2024-05-03T15:47:00+03:00", "2024-05-03T15:47:00+00:00")


def test_authors_compare_as_sets_ignoring_case_and_spaces() -> None:
    assert quality.authors_f1(["jane  DOE", "Max Muster"], ["Jane Doe"]) == pytest.approx(2 / 3)
