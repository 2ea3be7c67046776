"""State store throughput: N synthetic URLs through the store as the feed spider drives it, on SQLite and PostgreSQL,
against an in-memory baseline in the same run; then crawl_throughput.py's full crawl with the store on and off.

The crawl benchmark stores 2 000 records, too few for costs that grow with the store's tables to show. This one
fills the tables to the size of a long-running deployment with the spider's own call pattern: per feed fetch one
discover() of its items, one due() and one lease() (batched, as FeedSpider.due_of/article_requests do), then per
article one store() in its own transaction (as StorePipeline does) or, for 1 % of them, one fail().

    python benchmarks/state_store.py [--urls 100000] [--backends sqlite,postgres] [--postgres URL] [--budget 120]
                                     [--pages 2000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))  # crawl_throughput is a sibling file, not a package

import crawl_throughput as ct  # noqa: E402

from newscrawler.extract import Hints, content_hash, dle, record_id  # noqa: E402
from newscrawler.fingerprint import band_keys, signature  # noqa: E402
from newscrawler.state import SQLState, make_state  # noqa: E402
from newscrawler.state.postgres import redacted  # noqa: E402
from newscrawler.state.store import Stored  # noqa: E402

FEED_ITEMS = 100  # URLs per discover(): a news feed lists 50-100 items
FAIL_EVERY = 100  # every 100th URL fails (1 %) instead of being stored
SITES = 10  # feeds take turns, one site each
LEASE = timedelta(minutes=5)  # NEWSCRAWLER_LEASE_SECONDS
OPERATIONS = ("discover", "due", "lease", "store", "fail")
# Published long ago: stored URLs never come due again (no re-crawl schedule), as for most of a real state.
OLDEST = datetime(2021, 1, 1, tzinfo=UTC)
BODY_WORDS = 60  # about 550 characters of Russian
MINHASH_SAMPLE = 2000
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"  # unless NEWSCRAWLER_TEST_POSTGRES names another, as for the tests
TARGET_COST = 0.15
GROWTH_NOTE, GROWTH_MIN_CALLS = 3.0, 100  # a per-call cost that triples over 100+ calls is flagged
# Seconds per backend: PostgreSQL takes about 5 min for 100 000 URLs on 2 cores, more than a benchmark run should.
DEFAULT_BUDGET = 120.0
# Real words (those of the generated DLE site), drawn at random: no two bodies share 5-word shingles, so no
# near-duplicate candidates, and every body is long enough for a MinHash signature, as a real article is.
WORDS = sorted({word for word in re.findall(r"[а-яё]{3,}", " ".join(ct.SENTENCES + ct.HEADLINES).lower())})


# --- The synthetic feed items and records (deterministic: URL i is the same for every backend) ---


def site_of(index: int) -> str:
    return f"news{index // FEED_ITEMS % SITES}.example.kz"


def article_url(index: int) -> str:
    return f"https://{site_of(index)}/society/{ct.FIRST_ID + index}-novost-{index}.html"


def published(index: int) -> datetime:
    return OLDEST - timedelta(minutes=index)


def hints(index: int) -> dict[str, Any]:
    """What the feed item says, as FeedSpider.article_urls keeps it."""
    when = published(index)
    return asdict(Hints(when.isoformat(), format_datetime(when), ("editor",)))


def body(index: int) -> str:
    rng = random.Random(index)
    words = rng.choices(WORDS, k=BODY_WORDS)
    sentences = [" ".join(words[start:start + 12]).capitalize() + "." for start in range(0, BODY_WORDS, 12)]
    return " ".join(sentences) + f" Новость № {index}."


def record(index: int) -> dict[str, Any]:
    """A small record with the fields the store reads, built as extract() builds them."""
    url, text = article_url(index), body(index)
    title = f"{ct.CITIES[index % len(ct.CITIES)]}: новость {index}"
    return {
        "id": record_id(site_of(index), url, dle), "url": url, "canonical_url": url, "site": site_of(index),
        "title": title, "body": text, "comments": [], "content_hash": content_hash(title, text),
        "published_at": published(index).isoformat(),
    }


def fails(index: int) -> bool:
    return index % FAIL_EVERY == FAIL_EVERY - 1


# --- The baseline: the same calls on a set and dicts ---


class State(Protocol):
    """The calls push() makes: SQLState's own, which MemoryState repeats on plain Python containers."""

    def discover(self, site: str, urls: Iterable[tuple[str, dict[str, Any]]], now: datetime) -> None: ...

    def due(self, now: datetime, *, urls: Iterable[str] | None = None) -> list[tuple[str, dict[str, Any]]]: ...

    def lease(self, urls: Iterable[str], until: datetime) -> None: ...

    def fail(self, url: str, reason: str, now: datetime) -> None: ...

    def store(self, url: str, record: dict[str, Any], now: datetime) -> Stored: ...


class MemoryState:
    """What the same logical work costs with no database: a seen-set, the due URLs and a dict of records."""

    def __init__(self, max_attempts: int = 3) -> None:
        self.max_attempts = max_attempts
        self.seen: set[str] = set()
        self.hints: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, int] = {}  # URL not stored yet -> failed attempts
        self.leases: dict[str, datetime] = {}
        self.records: dict[str, dict[str, Any]] = {}

    def discover(self, site: str, urls: Iterable[tuple[str, dict[str, Any]]], now: datetime) -> None:
        for url, found in urls:
            self.hints[url] = found
            if url not in self.seen:
                self.seen.add(url)
                self.pending[url] = 0

    def due(self, now: datetime, *, urls: Iterable[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
        wanted = self.pending if urls is None else urls
        return [(url, self.hints[url]) for url in wanted if self.pending.get(url, self.max_attempts) < self.max_attempts]

    def lease(self, urls: Iterable[str], until: datetime) -> None:
        for url in urls:
            if url in self.pending:
                self.leases[url] = until

    def fail(self, url: str, reason: str, now: datetime) -> None:
        if url in self.pending:
            self.pending[url] += 1
            self.leases.pop(url, None)

    def store(self, url: str, record: dict[str, Any], now: datetime) -> Stored:
        self.records[record["id"]] = record
        self.pending.pop(url, None)
        self.leases.pop(url, None)
        return Stored(record["id"], 1, True)


# --- Driving a state as the feed spider and the pipelines do ---


@dataclass
class Timings:
    """Seconds of every call per operation, in call order, so a cost that grows with the tables shows."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in OPERATIONS})
    urls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    duplicates: int = 0
    pushed: int = 0  # URLs whose feed fetch ran: all of them unless the time budget ran out
    wall: float = 0.0
    start_due: float = 0.0  # the whole-table due() a run starts with, at the final table size
    start_due_rows: int = 0

    def call(self, operation: str, count: int, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`function(*args, **kwargs)`, timed as one call of `operation` that handled `count` URLs."""
        started = time.perf_counter()
        result = function(*args, **kwargs)
        self.seconds[operation].append(time.perf_counter() - started)
        self.urls[operation] += count
        return result

    def total(self, operation: str | None = None) -> float:
        names = [operation] if operation else OPERATIONS
        return sum(sum(self.seconds[name]) for name in names)

    def calls(self, operation: str | None = None) -> int:
        names = [operation] if operation else OPERATIONS
        return sum(len(self.seconds[name]) for name in names)


def feed_fetch(state: State, indexes: range, timings: Timings) -> None:
    """One feed fetch (discover, due, lease), then each of its articles stored or failed, each call timed."""
    found = {article_url(index): hints(index) for index in indexes}
    records = {article_url(index): record(index) for index in indexes if not fails(index)}  # built before timing
    now = datetime.now(UTC)
    timings.call("discover", len(found), state.discover, site_of(indexes[0]), found.items(), now)
    due = timings.call("due", 0, state.due, now, urls=found)  # FeedSpider.due_of: this feed's URLs only
    timings.urls["due"] += len(due)  # the URLs it returned
    todo = [url for url, _ in due]
    timings.call("lease", len(todo), state.lease, todo, now + LEASE)
    for url in todo:
        if url not in records:
            timings.call("fail", 1, state.fail, url, "http_500", datetime.now(UTC))
            continue
        stored = timings.call("store", 1, state.store, url, records[url], datetime.now(UTC))
        timings.duplicates += bool(stored.version_fields.get("duplicate_of"))


def push(state: State, urls: int, budget: float = 0.0) -> Timings:
    """All `urls`, or those pushed until `budget` seconds have passed (0: no budget), whole feed fetches only."""
    timings = Timings()
    started = time.perf_counter()
    for start in range(0, urls, FEED_ITEMS):
        feed_fetch(state, range(start, min(start + FEED_ITEMS, urls)), timings)
        timings.pushed = min(start + FEED_ITEMS, urls)
        if budget and time.perf_counter() - started > budget:
            break
    timings.wall = time.perf_counter() - started
    start_due(state, timings)
    return timings


def start_due(state: State, timings: Timings) -> None:
    """FeedSpider.start's due() over the whole table (leases a killed run left, re-crawls): once per run."""
    started = time.perf_counter()
    timings.start_due_rows = len(state.due(datetime.now(UTC)))
    timings.start_due = time.perf_counter() - started


def expected_calls(urls: int) -> dict[str, int]:
    failed = sum(1 for index in range(urls) if fails(index))
    fetches = -(-urls // FEED_ITEMS)
    return {"discover": fetches, "due": fetches, "lease": fetches, "store": urls - failed, "fail": failed}


def projected_seconds(timings: Timings, urls: int) -> float:
    """The store's call time for all `urls`, from a straight line fitted to each operation's per-call time against
    its call number: what grows (a scan) grows with the tables, and they grow linearly with the URLs pushed."""
    total = 0.0
    for name, calls in expected_calls(urls).items():
        seconds = timings.seconds[name]
        if len(seconds) < 2:
            total += calls * (seconds[0] if seconds else 0.0)
            continue
        slope, intercept = statistics.linear_regression(range(len(seconds)), seconds)
        total += intercept * calls + slope * calls * (calls - 1) / 2
    return total


# --- The backends, each in a place of its own that is removed afterwards ---


@contextmanager
def sqlite_state() -> Iterator[SQLState]:
    with tempfile.TemporaryDirectory(prefix="state-store-") as directory:
        state = make_state(Path(directory)).open()
        try:
            yield state
        finally:
            state.close()


@contextmanager
def postgres_state(url: str) -> Iterator[SQLState]:
    """A fresh schema per run, so an earlier run's rows never make this one slower; dropped afterwards."""
    import psycopg

    admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        state = make_state(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}").open()
        try:
            yield state
        finally:
            state.close()
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def postgres_problem(url: str) -> str | None:
    """Why PostgreSQL cannot be used, or None: the benchmark skips it rather than failing."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'newscrawler[postgres]')"
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as error:
        return f"cannot connect to {redacted(url)} ({str(error).strip().splitlines()[0]})"
    return None


# --- Report of the store runs ---


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "n/a"


def per_call_ms(seconds: list[float], last: bool) -> float | None:
    """Mean ms per call over the first or the last tenth of the calls: how the cost grows with the tables."""
    tenth = max(1, len(seconds) // 10)
    part = seconds[-tenth:] if last else seconds[:tenth]
    return sum(part) / len(part) * 1000 if part else None


def ms(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "n/a"


def growth_notes(timings: Timings) -> list[str]:
    """Operations whose per-call cost grew several times over the run: a scan, where a lookup was meant."""
    notes = []
    for name in OPERATIONS:
        first, last = per_call_ms(timings.seconds[name], last=False), per_call_ms(timings.seconds[name], last=True)
        if len(timings.seconds[name]) >= GROWTH_MIN_CALLS and first and last and last / first >= GROWTH_NOTE:
            notes.append(f"  GROWS: {name}() {first:.3f} -> {last:.3f} ms per call from the first to the last tenth "
                         f"of its calls ({last / first:.1f}x): its cost grows with the tables")
    return notes


def memory_seconds(memory: Timings, timings: Timings, name: str) -> float:
    """The baseline's time for the same calls: the same prefix, when the store stopped at its time budget."""
    return sum(memory.seconds[name][:len(timings.seconds[name])])


def table(timings: Timings, memory: Timings) -> str:
    header = (f"  {'operation':<10}{'calls':>8}{'URLs':>9}{'seconds':>9}{'calls/s':>10}{'URLs/s':>10}"
              f"{'memory calls/s':>16}{'slower':>9}{'ms/call first 10 %':>20}{'last 10 %':>11}")
    rows = [header, *(table_row(timings, memory, name) for name in OPERATIONS)]
    seconds, calls = timings.total(), timings.calls()
    baseline = sum(memory_seconds(memory, timings, name) for name in OPERATIONS)
    rows.append(f"  {'all':<10}{calls:>8}{timings.pushed:>9}{seconds:>9.2f}{rate(calls, seconds):>10}"
                f"{rate(timings.pushed, seconds):>10}{rate(calls, baseline):>16}{seconds / baseline:>8.0f}x")
    return "\n".join(rows)


def table_row(timings: Timings, memory: Timings, name: str) -> str:
    seconds, calls, urls = timings.total(name), timings.calls(name), timings.urls[name]
    baseline = memory_seconds(memory, timings, name)
    slower = f"{seconds / baseline:.0f}x" if baseline > 0 else "n/a"
    return (f"  {name:<10}{calls:>8}{urls:>9}{seconds:>9.2f}{rate(calls, seconds):>10}{rate(urls, seconds):>10}"
            f"{rate(calls, baseline):>16}{slower:>9}"
            f"{ms(per_call_ms(timings.seconds[name], last=False)):>20}{ms(per_call_ms(timings.seconds[name], last=True)):>11}")


def expected_counts(urls: int) -> dict[str, int]:
    calls = expected_calls(urls)
    return {"stored": calls["store"], "failed": calls["fail"], "record_versions": calls["store"]}


def minhash_ms(urls: int) -> float:
    """ms per record of what store() spends in Python before any SQL: the body's MinHash signature and bands."""
    bodies = [body(index) for index in range(min(urls, MINHASH_SAMPLE))]
    started = time.perf_counter()
    for text in bodies:
        band_keys(signature(text) or [])
    return (time.perf_counter() - started) / len(bodies) * 1000


def budget_note(timings: Timings, urls: int) -> str | None:
    """When the time budget stopped the run: how far it got, and what all the URLs would take at this growth."""
    if timings.pushed >= urls:
        return None
    projected = projected_seconds(timings, urls)
    minutes = f" ({projected / 60:.1f} min)" if projected >= 60 else ""
    return (f"  STOPPED at the time budget after {timings.pushed} of {urls} URLs. Fitted to the per-call times so far, "
            f"all {urls} would spend about {projected:,.0f} s{minutes} in the store's calls; --budget 0 measures it")


def backend_report(name: str, timings: Timings, memory: Timings, counts: dict[str, int]) -> list[str]:
    """Print the backend's table; the problems found in what it stored."""
    print(f"\n{name}: {timings.pushed} URLs in {timings.calls('discover')} feed fetches of {FEED_ITEMS}, "
          f"{timings.wall:.1f} s wall ({timings.total():.1f} s in the store's calls)")
    print(table(timings, memory))
    store_ms = timings.total("store") / max(1, timings.calls("store")) * 1000
    fingerprint = minhash_ms(timings.pushed)
    print(f"  store(): {store_ms:.3f} ms per record, of which MinHash signature and bands (Python, no SQL) "
          f"{fingerprint:.3f} ms ({fingerprint / store_ms:.0%})")
    print(f"  due() over the whole table, once at each run's start: {timings.start_due * 1000:.1f} ms for "
          f"{timings.start_due_rows} rows (memory, after its {memory.pushed} URLs: {memory.start_due * 1000:.1f} ms for "
          f"{memory.start_due_rows})")
    print(f"  counts(): {json.dumps(counts, sort_keys=True)}")
    for note in growth_notes(timings):
        print(note)
    found = []
    if counts != expected_counts(timings.pushed):
        found.append(f"{name}: counts {counts}, expected {expected_counts(timings.pushed)}")
    if timings.duplicates:
        found.append(f"{name}: {timings.duplicates} records were taken for duplicates; the bodies must be unique")
    return found


def run_backend(name: str, args: argparse.Namespace, memory: Timings) -> list[str]:
    """Push the URLs through one backend and report it; the problems found (a skipped backend is none)."""
    if name == "postgres" and (problem := postgres_problem(args.postgres)):
        print(f"\npostgres: SKIPPED: {problem}; start PostgreSQL or pass --postgres URL")
        return []
    print(f"\n{name}: pushing {args.urls} URLs ...", flush=True)
    with sqlite_state() if name == "sqlite" else postgres_state(args.postgres) as state:
        timings = push(state, args.urls, args.budget)
        counts = state.counts()
    found = backend_report(name, timings, memory, counts)
    if note := budget_note(timings, args.urls):
        print(note)
    return found


# --- The end-to-end crawl with the store on and off ---


def store_off_command(site: ct.ServedSite, output: Path) -> list[str]:
    """crawl_throughput's full crawl with the store off. The store is what writes -O's JSONL, so with it off the
    same file comes from Scrapy's feed export (newscrawler's RecordExporter: sorted keys, UTF-8), as for
    `scrapy crawl feed -O`; everything else on the command line is identical."""
    feeds = json.dumps({str(output): {"format": "jsonlines", "overwrite": True}})
    return [*ct.full_command(site, output), "-s", "NEWSCRAWLER_STORE_ENABLED=False", "-s", f"FEEDS={feeds}"]


CRAWLS = (
    ct.Variant("store-on", "store", "on", ct.full_command, newscrawler=True),
    ct.Variant("store-off", "store", "off", store_off_command, newscrawler=True),
)


def crawl_once(variant: ct.Variant, site: ct.ServedSite, outdir: Path, attempt: int) -> ct.Run:
    """Each crawl in a directory of its own: its state (.newscrawler under the working directory) starts empty."""
    workdir = outdir / f"{variant.name}-{attempt}"
    workdir.mkdir()
    return ct.crawl(variant, site, workdir, attempt)


def state_left_behind(run: ct.Run) -> str | None:
    """What the store-off crawl left in its state directory: it should not have opened the state at all."""
    state_dir = run.log.parent / ".newscrawler"
    if not state_dir.exists():
        return None
    state = make_state(state_dir).open()
    counts = state.counts()
    state.close()
    written = "no rows in it" if not any(counts.values()) else f"rows in it: {counts}"
    return (f"{run.variant.label} #{run.attempt}: the state {state_dir} was created ({written}); `newscrawler crawl` "
            "opens the state for its run lock (cli.held_state) whether or not the store is enabled")


def crawl_report(runs: dict[str, list[ct.Run]], pages: int, repeat: int) -> list[str]:
    """Print both crawls and the store's cost; the problems found in any attempt."""
    on, off = (ct.best(runs[variant.name]) for variant in CRAWLS)
    print(f"\ncrawl: {pages} pages of crawl_throughput.py's site, newscrawler's defaults, best of {repeat}")
    print(ct.table([on, off]))
    if on.rate and off.rate:
        cost = 1 - on.rate / off.rate
        verdict = "meets the target" if cost < TARGET_COST else "ABOVE the target"
        print(f"store cost: {cost:.1%} of the store-off pages/s (target < {TARGET_COST:.0%}): {verdict}; "
              f"CPU s {on.usage.main_cpu - off.usage.main_cpu:+.1f} (main), {on.usage.cpu - off.usage.cpu:+.1f} (tree)")
    if note := state_left_behind(runs["store-off"][0]):
        print(f"NOTE: {note}")
    return [problem for attempts in runs.values() for run in attempts for problem in ct.run_problems(run, pages)]


def crawl_both(pages: int, repeat: int, outdir: Path) -> list[str]:
    print(f"\ngenerating {pages} pages and starting the server ...", flush=True)
    runs: dict[str, list[ct.Run]] = {variant.name: [] for variant in CRAWLS}
    with ct.served_site(pages) as site:
        for attempt in range(1, repeat + 1):  # alternating, so a slow spell of the machine does not hit one only
            for variant in CRAWLS:
                print(f"crawl {variant.label} #{attempt} ...", flush=True)
                runs[variant.name].append(crawl_once(variant, site, outdir, attempt))
    return crawl_report(runs, pages, repeat)


# --- Command line ---


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="State store operations/s on SQLite and PostgreSQL, and its crawl cost.")
    parser.add_argument("--urls", type=int, default=100_000, help="synthetic URLs to push through (default 100000)")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    postgres = os.environ.get("NEWSCRAWLER_TEST_POSTGRES", LOCAL_POSTGRES)
    parser.add_argument("--postgres", default=postgres, help=f"server URL (default {postgres})")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help=f"seconds per backend before it stops and projects the rest; 0: none (default {DEFAULT_BUDGET:.0f})")
    parser.add_argument("--pages", type=int, default=2000, help="pages of the store on/off crawl; 0 skips it")
    parser.add_argument("--repeat", type=int, default=2, help="crawl each way K times, keep the best (default 2)")
    args = parser.parse_args(argv)
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    if unknown := set(args.backends) - {"sqlite", "postgres"}:
        parser.error(f"--backends: unknown {', '.join(sorted(unknown))}; choose from sqlite, postgres")
    if args.urls < FEED_ITEMS or args.budget < 0 or args.pages < 0 or args.repeat < 1:
        parser.error(f"--urls must be at least {FEED_ITEMS}, --budget and --pages at least 0, --repeat at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so a killed run still drops its schema
    memory = push(MemoryState(), args.urls)
    print(f"memory baseline: {args.urls} URLs, {memory.total():.3f} s in its calls")
    found = [problem for name in args.backends for problem in run_backend(name, args, memory)]
    if args.pages:
        with tempfile.TemporaryDirectory(prefix="state-store-crawl-") as scratch:
            found += crawl_both(args.pages, args.repeat, Path(scratch))
    for problem in found:
        print(f"WARNING: {problem}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
