"""Extraction quality: newscrawler's extract() and trafilatura, in the same run, on the Fundus pages.

The data set (../shared/datasets/fundus, 258 saved news pages with hand-checked title, date, authors and body)
is scored as its README says: body by 4-token shingles (precision averaged over pages with a prediction, recall
over pages with a truth, F1 their harmonic mean), title exact after whitespace normalisation, published date as
the same instant to the minute, authors as set F1 after case and whitespace normalisation.

    python benchmarks/extraction_quality.py [--data DIR] [--limit N] [--no-reference] [--misses FIELD]

The scoring functions are imported by tests/test_extraction_quality.py, which pins the quality floors.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newscrawler.extract import extract

ROOT = Path(__file__).resolve().parent.parent


def find_data(root: Path = ROOT) -> Path:
    """../shared/datasets/fundus beside the checkout, or beside a parent of it (a worktree in /work/wt/NAME)."""
    for folder in root.parents:
        candidate = folder / "shared" / "datasets" / "fundus"
        if (candidate / "index.jsonl").is_file():
            return candidate
    return root.parent / "shared" / "datasets" / "fundus"


DATA = find_data()
FIELDS = ("body", "title", "date", "authors")
TOKEN = re.compile(r"\w+")
SHINGLE = 4


@dataclass(frozen=True)
class Case:
    """One saved page and what Fundus's maintainers say it contains."""

    id: str
    publisher: str
    language: str
    url: str
    fetched_at: datetime
    markup: str
    expected: dict[str, Any]


@dataclass(frozen=True)
class Prediction:
    title: str | None
    published: str | None
    authors: list[str]
    body: str | None


def load_cases(data: Path = DATA, limit: int | None = None) -> list[Case]:
    """Every page of the index. Fundus saved each page decoded and re-encoded as UTF-8, whatever its <meta charset>
    says (People.cn declares GB2312), so UTF-8 is the right reading here, where a crawl would follow the header."""
    lines = (data / "index.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [_case(data, row) for row in rows[:limit]]


def _case(data: Path, row: dict[str, Any]) -> Case:
    markup = gzip.decompress((data / row["html"]).read_bytes()).decode("utf-8")
    fetched = datetime.fromisoformat(row["crawl_date"]).replace(tzinfo=UTC)
    return Case(row["id"], row["publisher"], row["language"], row["url"], fetched, markup, row["expected"])


def newscrawler_predict(case: Case) -> Prediction:
    record = extract(case.markup, case.url, case.fetched_at)
    return Prediction(record.title, record.published_at, list(record.authors), record.body)


def trafilatura_predict(case: Case) -> Prediction:
    """trafilatura as users call it for metadata and text, asking htmldate for the time of day too."""
    import trafilatura

    document = trafilatura.bare_extraction(
        case.markup, url=case.url, with_metadata=True, include_comments=False,
        date_extraction_params={"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
    )
    if document is None:
        return Prediction(None, None, [], None)
    authors = [name for name in re.split(r";", document.author or "") if name.strip()]
    return Prediction(document.title, document.date, authors, document.text)


# Scoring -------------------------------------------------------------------------------------------------------


def shingles(text: str | None) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))) if tokens else Counter()


def body_counts(predicted: str | None, expected: str | None) -> tuple[int, int, int]:
    """True positives, false positives, false negatives of one page's shingles."""
    got, want = shingles(predicted), shingles(expected)
    shared = sum((got & want).values())
    return shared, sum(got.values()) - shared, sum(want.values()) - shared


def page_body_f1(predicted: str | None, expected: str | None) -> float:
    tp, fp, fn = body_counts(predicted, expected)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def body_f1(pairs: Iterable[tuple[str | None, str | None]]) -> tuple[float, float, float]:
    """(precision, recall, F1) as the article-extraction-benchmark computes them over a set of pages."""
    precisions, recalls = [], []
    for predicted, expected in pairs:
        tp, fp, fn = body_counts(predicted, expected)
        if tp + fp:
            precisions.append(tp / (tp + fp))
        if tp + fn:
            recalls.append(tp / (tp + fn))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def title_ok(predicted: str | None, expected: str) -> bool:
    return _squash(predicted) == _squash(expected)


def _minute(value: str | None) -> datetime | None:
    """The instant to the minute; a string without offset is read as UTC, as a consumer would have to."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(second=0, microsecond=0)


def date_ok(predicted: str | None, expected: str) -> bool:
    got = _minute(predicted)
    return got is not None and got == _minute(expected)


def authors_f1(predicted: Iterable[str], expected: Iterable[str]) -> float:
    got = {_squash(name).casefold() for name in predicted} - {""}
    want = {_squash(name).casefold() for name in expected} - {""}
    if not got and not want:
        return 1.0
    shared = len(got & want)
    return 2 * shared / (len(got) + len(want)) if shared else 0.0


@dataclass
class Scores:
    """One extractor's scores on a set of cases."""

    body: float
    title: float
    date: float
    authors: float
    body_precision: float
    body_recall: float


def score(cases: list[Case], predictions: list[Prediction]) -> Scores:
    pairs = list(zip(cases, predictions))
    precision, recall, f1 = body_f1((p.body, c.expected.get("body")) for c, p in pairs)
    titles = [title_ok(p.title, c.expected["title"]) for c, p in pairs if "title" in c.expected]
    dates = [date_ok(p.published, c.expected["published"]) for c, p in pairs if "published" in c.expected]
    authors = [authors_f1(p.authors, c.expected["authors"]) for c, p in pairs if "authors" in c.expected]
    return Scores(f1, _mean(titles), _mean(dates), _mean(authors), precision, recall)


def _mean(values: list[float] | list[bool]) -> float:
    return sum(values) / len(values) if values else float("nan")


# Running and printing ------------------------------------------------------------------------------------------


def run(predict: Callable[[Case], Prediction], cases: list[Case]) -> tuple[list[Prediction], float]:
    """Predictions and the CPU seconds they took (process time: the machine is shared, wall time is noisy)."""
    started = time.process_time()
    predictions = [predict(case) for case in cases]
    return predictions, time.process_time() - started


def report(cases: list[Case], results: dict[str, tuple[list[Prediction], float]], misses: str | None) -> None:
    names = list(results)
    scored = {name: score(cases, predictions) for name, (predictions, _) in results.items()}
    print(f"{len(cases)} pages from {len({c.publisher for c in cases})} publishers ({DATA})\n")
    print(f"{'field':<18}" + "".join(f"{name:>14}" for name in names))
    for field in ("body", "body_precision", "body_recall", "title", "date", "authors"):
        label = {"body": "body F1", "title": "title exact", "date": "date to minute", "authors": "authors F1"}.get(field, field.replace("_", " "))
        print(f"{label:<18}" + "".join(f"{getattr(scored[name], field):>14.3f}" for name in names))
    print(f"{'pages/s (CPU)':<18}" + "".join(f"{len(cases) / max(seconds, 1e-9):>14.1f}" for _, seconds in results.values()))
    _by_language(cases, results)
    _worst(cases, results[names[0]][0], names[0])
    if misses:
        _misses(cases, results[names[0]][0], misses)


def _by_language(cases: list[Case], results: dict[str, tuple[list[Prediction], float]]) -> None:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, case in enumerate(cases):
        groups[case.language].append(index)
    print("\nper language (body F1 / title / date / authors), " + " | ".join(results))
    for language, indexes in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        subset = [cases[i] for i in indexes]
        cells = []
        for predictions, _ in results.values():
            s = score(subset, [predictions[i] for i in indexes])
            cells.append(f"{s.body:.3f} {s.title:.2f} {s.date:.2f} {s.authors:.2f}")
        print(f"  {language:<3} {len(indexes):>4}  " + "  |  ".join(cells))


def _worst(cases: list[Case], predictions: list[Prediction], name: str) -> None:
    ranked = sorted(zip(cases, predictions), key=lambda pair: page_body_f1(pair[1].body, pair[0].expected.get("body")))
    print(f"\n10 worst pages by body F1 ({name})")
    for case, prediction in ranked[:10]:
        f1 = page_body_f1(prediction.body, case.expected.get("body"))
        print(f"  {f1:.3f}  {case.publisher:<24} {case.id:<32} {len(prediction.body or ''):>6} of {len(case.expected.get('body', '')):>6} chars")


def _misses(cases: list[Case], predictions: list[Prediction], field: str) -> None:
    """Every page where one field is wrong, with both values: the list to read when improving that field."""
    print(f"\nmisses: {field}")
    for case, p in zip(cases, predictions):
        want = case.expected.get({"date": "published"}.get(field, field))
        if want is None:
            continue
        if field == "title" and not title_ok(p.title, want):
            print(f"  {case.id}\n    got  {p.title!r}\n    want {want!r}")
        elif field == "date" and not date_ok(p.published, want):
            print(f"  {case.id}  got {p.published}  want {want}")
        elif field == "authors" and authors_f1(p.authors, want) < 1:
            print(f"  {case.id}  got {p.authors}  want {want}")
        elif field == "body" and (f1 := page_body_f1(p.body, want)) < 0.9:
            print(f"  {case.id}  F1 {f1:.3f}  got {len(p.body or '')} chars, want {len(want)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the fundus data set directory (default: %(default)s)")
    parser.add_argument("--limit", type=int, help="only the first N pages (for quick iterations)")
    parser.add_argument("--no-reference", action="store_true", help="skip trafilatura")
    parser.add_argument("--misses", choices=FIELDS, help="list every page where this field is wrong")
    args = parser.parse_args(argv)
    if not (args.data / "index.jsonl").is_file():
        parser.error(f"no data set at {args.data} (index.jsonl missing); pass --data")
    cases = load_cases(args.data, args.limit)
    extract(cases[0].markup, cases[0].url, cases[0].fetched_at)  # warm-up: imports, language model, selector cache
    results = {"newscrawler": run(newscrawler_predict, cases)}
    if not args.no_reference:
        trafilatura_predict(cases[0])
        results["trafilatura"] = run(trafilatura_predict, cases)
    report(cases, results, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
