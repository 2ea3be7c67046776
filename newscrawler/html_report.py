"""`newscrawler report`: one static HTML page on the latest runs, for operators; it opens offline.

Everything is inline: CSS in a <style>, charts as SVG drawn by matplotlib (text as paths, so no font is fetched),
no script, no image or font URL. Data comes from the state store only: run summaries, per-site field coverage,
drift alerts, failed URLs by reason, and the first versions of the latest articles.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime
from html import escape
from typing import Any

from newscrawler.monitoring import COVERED_FIELDS
from newscrawler.state.runs import coverage_rows, failure_examples, first_versions, latest_runs, recent_alerts
from newscrawler.state.store import SQLState

LATENCY_BINS = ((0.25, "< 15 min"), (1, "15 min–1 h"), (6, "1–6 h"), (24, "6–24 h"), (72, "1–3 days"), (float("inf"), "> 3 days"))
STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}
.alert{background:#fde8e8}.chart{display:inline-block;margin:0 1em 1em 0}h2{margin-top:1.5em}"""


class ReportError(RuntimeError):
    """Nothing to report; the message says what is missing."""


def build_report(state: SQLState, runs: int = 30, site: str | None = None) -> str:
    """The report's HTML for the latest `runs` runs (and one site, if given)."""
    summaries = latest_runs(state, runs)
    if not summaries:
        raise ReportError(f"state {state.location} has no finished runs yet; run `newscrawler crawl` first")
    coverage = coverage_rows(state, [run["run_id"] for run in summaries])
    sites = sorted({row[1] for row in coverage})
    if site is not None and site not in sites:
        raise ReportError(f"no runs of site {site!r} in state {state.location}; sites with runs: {', '.join(sites) or 'none'}")
    records = [r for r in first_versions(state, 20000) if site is None or r["site"] == site]
    sections = [
        section("Runs", runs_table(summaries)),
        section("Sites by run", sites_table(summaries, site)),
        section("Drift alerts", alerts_table(state, site)),
        section("Field coverage", "".join(coverage_chart(name, coverage) for name in ([site] if site else sites))),
        section("Failures by reason", failures_table(failure_examples(state))),
        section("Publication hour (site's local time)", publication_chart(records)),
        section("Crawl latency (published → first fetched)", latency_chart(records)),
    ]
    title = f"newscrawler report{f' — {escape(site)}' if site else ''}"
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{title}</title><style>{STYLE}</style></head>"
            f"<body><h1>{title}</h1><p>{len(summaries)} latest runs in {escape(state.location)}; "
            f"{len(records)} articles.</p>{''.join(sections)}</body></html>")


def section(heading: str, body: str) -> str:
    return f"<section><h2>{escape(heading)}</h2>{body}</section>"


def table(headings: list[str], rows: list[list[Any]], left: int = 1, css: list[str] | None = None) -> str:
    """An HTML table; the first `left` columns align left; `css` gives each row a class."""
    def cell(tag: str, index: int, value: Any) -> str:
        return f"<{tag}{' class=l' if index < left else ''}>{escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headings))
    body = "".join(f"<tr{f' class={css[n]}' if css and css[n] else ''}>{''.join(cell('td', i, v) for i, v in enumerate(row))}</tr>"
                   for n, row in enumerate(rows))
    return f"<table><tr>{head}</tr>{body}</table>"


def runs_table(summaries: list[dict[str, Any]]) -> str:
    rows = [[run["finished_at"][:19].replace("T", " "), run.get("finish_reason"), run.get("pages_fetched", 0),
             run.get("records_new", 0), run.get("records_updated", 0), run.get("unchanged", 0), run.get("duplicates", 0),
             run.get("failures", 0), ", ".join(f"{k}: {v}" for k, v in run.get("failures_by_reason", {}).items()),
             len(run.get("alerts", []))] for run in reversed(summaries)]
    headings = ["finished (UTC)", "finish", "pages", "new", "updated", "unchanged", "duplicates", "failures", "by reason", "alerts"]
    return table(headings, rows, left=2, css=["alert" if row[-1] else "" for row in rows])


def sites_table(summaries: list[dict[str, Any]], only: str | None) -> str:
    """Per run and site: feed items, records, stored, unchanged, failures with reasons, and the failure rate."""
    rows = []
    for run in reversed(summaries):
        for name, figures in run.get("sites", {}).items():
            if only is None or name == only:
                reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(figures["failures"].items()))
                rows.append([run["finished_at"][:19].replace("T", " "), name, figures["feed_items"], figures["records"],
                             figures["stored"], figures["unchanged"], sum(figures["failures"].values()),
                             f"{figures['failure_rate']:.0%}", reasons])
    if not rows:
        return "<p>No per-site figures in these runs.</p>"
    headings = ["finished (UTC)", "site", "feed items", "records", "stored", "unchanged", "failures", "rate", "by reason"]
    return table(headings, rows, left=2)


def alerts_table(state: SQLState, site: str | None) -> str:
    alerts = [alert for alert in recent_alerts(state) if site is None or alert.site == site]
    if not alerts:
        return "<p>No drift alerts.</p>"
    rows = [[a.site, a.field, f"{a.coverage:.0%}", f"{a.baseline:.0%}", a.message] for a in alerts]
    return table(["site", "field", "coverage", "before", "message"], rows, left=5, css=["alert"] * len(rows))


def failures_table(examples: dict[str, tuple[int, list[str]]]) -> str:
    if not examples:
        return "<p>No failed URLs.</p>"
    rows = [[reason, count, " ".join(urls)] for reason, (count, urls) in sorted(examples.items(), key=lambda item: -item[1][0])]
    return table(["reason", "URLs", "latest examples"], rows)


def figure(width: float = 6.4, height: float = 2.8) -> Any:
    from matplotlib.figure import Figure  # here: matplotlib is the `report` extra, and slow to import

    return Figure(figsize=(width, height), layout="constrained")


def svg(fig: Any, label: str) -> str:
    """The figure as inline SVG, in a box named for tests and readers."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return f'<div class=chart data-chart="{escape(label)}" role=img aria-label="{escape(label)}">{text[text.index("<svg"):]}</div>'


def coverage_chart(site: str, rows: list[tuple[str, str, str, str, int, int]]) -> str:
    """Per field, the share of the site's records that had it, run by run."""
    series: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for _, row_site, finished, field, records, present in rows:
        if row_site == site and records:
            series[field].append((finished, 100 * present / records))
    fig = figure()
    axes = fig.add_subplot()
    for field in COVERED_FIELDS:
        points = series.get(field, [])
        axes.plot(range(1, len(points) + 1), [value for _, value in points], marker="o", label=field)
    axes.set(title=f"{site}: field coverage by run", xlabel="run (oldest first)", ylabel="% of records", ylim=(-5, 105))
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="lower left", fontsize="small", ncols=3)
    return svg(fig, f"coverage {site}")


def publication_chart(records: list[dict[str, Any]]) -> str:
    hours = [datetime.fromisoformat(r["published_at"]).hour for r in records if r.get("published_at")]
    if not hours:
        return "<p>No publication dates yet.</p>"
    fig = figure()
    axes = fig.add_subplot()
    axes.hist(hours, bins=range(25), color="#4878a8", edgecolor="white")
    axes.set(xlabel="hour of publication", ylabel="articles", xticks=range(0, 25, 3))
    return svg(fig, "publication hours")


def latency_chart(records: list[dict[str, Any]]) -> str:
    counts = [0] * len(LATENCY_BINS)
    for record in records:
        if record.get("published_at") and record.get("fetched_at"):
            published, fetched = (datetime.fromisoformat(record[key]) for key in ("published_at", "fetched_at"))
            hours = max((fetched - published).total_seconds() / 3600, 0)
            counts[next(i for i, (limit, _) in enumerate(LATENCY_BINS) if hours < limit)] += 1
    if not any(counts):
        return "<p>No articles with both dates yet.</p>"
    fig = figure()
    axes = fig.add_subplot()
    axes.bar([label for _, label in LATENCY_BINS], counts, color="#6a9f58")
    axes.set(ylabel="articles")
    return svg(fig, "crawl latency")
