"""Field coverage per site and run, and parser-drift alerts when a field falls well below the site's own recent level.

A redesign rarely breaks a crawl outright: it makes a parser quietly return nothing for one field (dates, views,
comments). Each run counts, per site, how many records have each field; the counts are kept in the state store, and
a field whose share falls below half of its share over the site's previous runs raises an alert: a log line and a
line in the run summary, a row in the store, exit status 5 from `newscrawler crawl`, and optionally a JSON POST to
NEWSCRAWLER_ALERT_WEBHOOK. Monitoring never fails a crawl: its own errors are logged and counted.

spidermon was considered: its field coverage and stats history are per spider and kept in pickle files beside the
project, while newscrawler needs them per site and in the shared state store (PostgreSQL when distributed).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any, Self

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler

from newscrawler.report import ALERT_PREFIX, SITE_PREFIX
from newscrawler.state import crawler_state
from newscrawler.state.runs import Alert, coverage_history, run_id, save_alerts, save_coverage

logger = logging.getLogger(__name__)
COVERED_FIELDS = ("title", "published_at", "authors", "body", "comments", "views")


def has_value(value: Any) -> bool:
    return value not in (None, "", [], ())


def drift(site: str, field: str, records: int, present: int, history: list[tuple[int, int]], settings: Any) -> Alert | None:
    """An alert when this run's share of the field is below DROP × its share over earlier runs (if that was real)."""
    earlier = [(n, k) for n, k in history if n >= settings.getint("NEWSCRAWLER_DRIFT_MIN_RECORDS")]
    if records < settings.getint("NEWSCRAWLER_DRIFT_MIN_RECORDS") or not earlier:
        return None
    coverage = present / records
    baseline = sum(k for _, k in earlier) / sum(n for n, _ in earlier)
    if baseline < settings.getfloat("NEWSCRAWLER_DRIFT_MIN_BASELINE") or coverage >= baseline * settings.getfloat("NEWSCRAWLER_DRIFT_DROP"):
        return None
    message = (f"{site}: {field} in {coverage:.0%} of {records} records, down from {baseline:.0%} over the last "
               f"{len(earlier)} runs; the site's pages may have changed")
    return Alert(site, field, round(coverage, 4), round(baseline, 4), message)


class FieldCoverage:
    """Counts fields of every record the spider produced (stored, unchanged, or refused by validation)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.state = crawler_state(crawler)
        self.webhook = crawler.settings.get("NEWSCRAWLER_ALERT_WEBHOOK")
        self.records: Counter[str] = Counter()
        self.present: defaultdict[str, Counter[str]] = defaultdict(Counter)
        crawler.signals.connect(self.count, signal=signals.item_scraped)
        crawler.signals.connect(self.count, signal=signals.item_dropped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def count(self, item: Any) -> None:
        adapter = ItemAdapter(item)
        site = adapter.get("site") or "?"
        self.records[site] += 1
        self.crawler.stats.inc_value(f"{SITE_PREFIX}{site}/records")
        self.present[site].update(name for name in COVERED_FIELDS if has_value(adapter.get(name)))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        for site, records in self.records.items():
            for name in COVERED_FIELDS:
                stats.set_value(f"newscrawler/coverage/{site}/{name}", round(self.present[site][name] / records, 4))
        if self.state is None:
            return
        try:
            alerts = self.remember(datetime.now(UTC))
        except Exception:  # monitoring must never fail the crawl it watches
            logger.exception("could not keep field coverage in %s", self.state.location)
            stats.inc_value("newscrawler/monitoring/errors")
            return
        for alert in alerts:
            logger.warning("drift alert: %s", alert.message)
            stats.set_value(f"{ALERT_PREFIX}{alert.site}/{alert.field}", alert.message)
        if alerts and self.webhook:
            self.post(alerts)

    def remember(self, now: datetime) -> list[Alert]:
        """Store this run's coverage and return the alerts it raises against the earlier runs."""
        run = run_id(self.crawler.stats)
        history_runs = self.settings.getint("NEWSCRAWLER_DRIFT_RUNS")
        alerts = []
        for site, records in sorted(self.records.items()):
            for name in COVERED_FIELDS:
                history = coverage_history(self.state, site, name, run, history_runs)
                if alert := drift(site, name, records, self.present[site][name], history, self.settings):
                    alerts.append(alert)
            save_coverage(self.state, run, now, site, records, {name: self.present[site][name] for name in COVERED_FIELDS})
        save_alerts(self.state, run, now, alerts)
        return alerts

    def post(self, alerts: list[Alert]) -> None:
        """One JSON POST for the run's alerts; an unreachable receiver is logged, never raised."""
        payload = {"run_id": run_id(self.crawler.stats), "alerts": [alert.__dict__ for alert in alerts]}
        request = urllib.request.Request(
            self.webhook, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "newscrawler-alerts"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.getfloat("NEWSCRAWLER_ALERT_WEBHOOK_TIMEOUT")) as response:
                response.read()
            self.crawler.stats.inc_value("newscrawler/alerts_posted", len(alerts))
        except (OSError, ValueError) as error:
            logger.error("alert webhook %s failed: %s", self.webhook, error)
            self.crawler.stats.inc_value("newscrawler/monitoring/webhook_failed")
