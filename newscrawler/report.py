"""The run summary: pages fetched, records written, failures by reason; logged, and printed by the CLI."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from newscrawler.state import crawler_state
from newscrawler.state.runs import run_id, save_run

logger = logging.getLogger(__name__)
FAILURE_PREFIX = "newscrawler/failures/"
WARNING_PREFIX = "newscrawler/warnings/"
ALERT_PREFIX = "newscrawler/alerts/"
SITE_PREFIX = "newscrawler/sites/"  # + site + "/feed_items", "/records", "/stored", "/unchanged", "/failures/<reason>"


def summarize(stats: dict[str, Any]) -> dict[str, Any]:
    failures = {key.removeprefix(FAILURE_PREFIX): n for key, n in stats.items() if key.startswith(FAILURE_PREFIX)}
    return {
        "finish_reason": stats.get("finish_reason"),
        "pages_fetched": stats.get("downloader/response_count", 0),
        "feed_items": stats.get("newscrawler/feed/items", 0),
        "feeds_not_modified": stats.get("newscrawler/feed/not_modified", 0),
        "records_written": stats.get("item_scraped_count", 0),
        "records_new": stats.get("newscrawler/store/new", 0),
        "records_updated": stats.get("newscrawler/store/updated", 0),
        "unchanged": stats.get("newscrawler/store/unchanged", 0),
        # the same URL twice (e.g. with utm_ parameters) and the same article under two URLs
        "duplicates": sum(stats.get(key, 0) for key in ("newscrawler/feed/duplicates", "dupefilter/filtered", "newscrawler/dedup/duplicates")),
        "failures": stats.get("newscrawler/failures", 0),
        "postponed": stats.get("newscrawler/budget/postponed", 0),  # past a site's page budget: left for the next run
        # backfill: URLs its sources listed, and those not fetched (not article-shaped, out of --since/--until, over max_pages)
        "backfill_urls": sum(stats.get(f"newscrawler/backfill/{key}", 0) for key in ("sitemap_urls", "listing_urls", "wp_json_urls")),
        "not_articles": stats.get("newscrawler/backfill/not_articles", 0),
        "out_of_range": stats.get("newscrawler/limits/out_of_range", 0),
        "over_max_pages": sum(n for key, n in stats.items() if key.startswith("newscrawler/limits/max_pages/")),
        "comment_count_mismatches": stats.get("newscrawler/comments/count_mismatch", 0),
        "charset_fixups": stats.get("newscrawler/charset/fixed", 0),
        "failures_by_reason": dict(sorted(failures.items())),
        # documents read despite a fault (a feed with external entities, not well-formed XML)
        "warnings_by_reason": {key.removeprefix(WARNING_PREFIX): n for key, n in sorted(stats.items()) if key.startswith(WARNING_PREFIX)},
        "alerts": [message for key, message in sorted(stats.items()) if key.startswith(ALERT_PREFIX)],
        "sites": per_site(stats),
    }


def per_site(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per site: feed items, records the spider made, versions stored, unchanged re-fetches, failures by reason, and
    the failure rate: failed URLs over the URLs this run finished (stored, unchanged or failed)."""
    sites: dict[str, dict[str, Any]] = {}
    for key, value in stats.items():
        if key.startswith(SITE_PREFIX):
            site, _, what = key.removeprefix(SITE_PREFIX).partition("/")
            figures = sites.setdefault(site, {"feed_items": 0, "records": 0, "stored": 0, "unchanged": 0, "failures": {}})
            if what.startswith("failures/"):
                figures["failures"][what.removeprefix("failures/")] = value
            else:
                figures[what] = value
    for figures in sites.values():
        failed = sum(figures["failures"].values())
        finished = failed + figures["stored"] + figures["unchanged"]
        figures["failure_rate"] = round(failed / finished, 4) if finished else 0.0
    return dict(sorted(sites.items()))


def site_line(site: str, figures: dict[str, Any]) -> str:
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(figures["failures"].items()))
    return (f"site {site}: feed items {figures['feed_items']}, records {figures['records']}, stored {figures['stored']}, "
            f"unchanged {figures['unchanged']}, "
            f"failures {sum(figures['failures'].values())} ({figures['failure_rate']:.0%}){f': {reasons}' if reasons else ''}")


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"pages fetched: {summary['pages_fetched']}  feed items: {summary['feed_items']}  "
        f"feeds not modified: {summary['feeds_not_modified']}  "
        f"records written: {summary['records_written']}  duplicates: {summary['duplicates']}  "
        f"failures: {summary['failures']}  ({summary['finish_reason']})"
    ]
    if summary["backfill_urls"] or summary["out_of_range"] or summary["over_max_pages"]:
        lines.append(
            f"backfill URLs listed: {summary['backfill_urls']}  not articles: {summary['not_articles']}  "
            f"out of date range: {summary['out_of_range']}  left for the next run (max_pages): {summary['over_max_pages']}"
        )
    lines += [f"  {reason}: {count}" for reason, count in summary["failures_by_reason"].items()]
    # Records written all the same, but not as the page shows them: the warnings in their metadata say why.
    if summary["comment_count_mismatches"]:
        lines.append(f"records whose comment counter differs from the comments found: {summary['comment_count_mismatches']}")
    if summary["charset_fixups"]:
        lines.append(f"pages re-decoded because their declared charset was wrong: {summary['charset_fixups']}")
    if summary.get("postponed"):
        lines.append(f"  postponed to the next run (page budget): {summary['postponed']}")
    lines += [f"  warning {reason}: {count}" for reason, count in summary.get("warnings_by_reason", {}).items()]
    lines += [site_line(site, figures) for site, figures in summary.get("sites", {}).items()]
    lines += [f"ALERT {message}" for message in summary["alerts"]]
    return "\n".join(lines)


class RunSummary:
    """Logs the summary when the spider closes, so `scrapy crawl` shows it too, and keeps it in the state store."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.state = crawler_state(crawler)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = dict(self.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        summary = summarize(stats)
        logger.info("run summary\n%s", format_summary(summary))
        if self.state is not None:
            self.keep(summary, stats)

    def keep(self, summary: dict[str, Any], stats: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        try:
            save_run(self.state, run_id(self.stats), stats.get("start_time", now), now, summary)
        except Exception:  # the summary is for people; losing its copy must not fail the crawl
            logger.exception("could not keep the run summary in %s", self.state.location)
