"""Field coverage and drift alerts: a real crawl, a redesign of the site between runs, a real webhook receiver."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.settings import Settings

from newscrawler.monitoring import drift
from newscrawler.state import make_state
from tests.generated_site import GeneratedSite, serve_generated
from tests.site_server import ALLOW_LOOPBACK, SiteServer

NEWSCRAWLER = str(Path(sys.executable).parent / "newscrawler")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *ALLOW_LOOPBACK]
EXIT_WITH_ALERTS = 5


@contextmanager
def webhook_receiver() -> Iterator[list[dict]]:
    """A local HTTP server that keeps the JSON bodies POSTed to it; its URL is the list's `url` attribute."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield received, f"http://127.0.0.1:{server.server_port}/hooks/newscrawler"
    finally:
        server.shutdown()
        server.server_close()


def crawl(site: GeneratedSite, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [NEWSCRAWLER, "crawl", site.url("/rss.xml"), "-o", str(tmp_path / "out.jsonl"), "--state", str(tmp_path / "state"),
            "--tz", "Asia/Almaty", *FAST, *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=180)


def stored_alerts(tmp_path: Path) -> list[tuple]:
    state = make_state(tmp_path / "state").open()
    try:
        return state.query("SELECT field, coverage, baseline FROM alerts ORDER BY field")
    finally:
        state.close()


def test_a_redesign_that_drops_views_and_comments_raises_alerts_everywhere_an_operator_looks(tmp_path: Path) -> None:
    with serve_generated(pages=12) as site, webhook_receiver() as (received, url):
        first = crawl(site, tmp_path, "--alert-webhook", url)
        assert first.returncode == 0, first.stderr[-2000:]
        site.redesign()
        second = crawl(site, tmp_path, "--refresh", "--alert-webhook", url)
    assert second.returncode == EXIT_WITH_ALERTS, second.stderr[-2000:]
    alert_lines = [line for line in second.stdout.splitlines() if line.startswith("ALERT")]
    assert len(alert_lines) == 2 and "views in 0% of 12 records, down from 100%" in "\n".join(alert_lines)
    assert "drift alert" in second.stderr
    assert stored_alerts(tmp_path) == [("comments", 0.0, 1.0), ("views", 0.0, 1.0)]
    (posted,) = received  # the first run raised nothing, so posted nothing
    assert sorted(alert["field"] for alert in posted["alerts"]) == ["comments", "views"]
    assert {alert["site"] for alert in posted["alerts"]} == {site.base.removeprefix("http://")}


def test_runs_over_an_unchanged_site_raise_no_alert(tmp_path: Path) -> None:
    with serve_generated(pages=12) as site:
        runs = [crawl(site, tmp_path, "--refresh") for _ in range(3)]
    assert [run.returncode for run in runs] == [0, 0, 0]
    assert not any("ALERT" in run.stdout for run in runs)
    assert stored_alerts(tmp_path) == []


def test_an_unreachable_webhook_is_logged_and_the_run_still_reports_its_alerts(tmp_path: Path) -> None:
    with webhook_receiver() as (_, url):
        pass  # now nothing listens on that port
    with serve_generated(pages=12) as site:
        crawl(site, tmp_path)
        site.redesign()
        second = crawl(site, tmp_path, "--refresh", "--alert-webhook", url)
    assert second.returncode == EXIT_WITH_ALERTS
    assert f"alert webhook {url} failed" in second.stderr
    assert len(stored_alerts(tmp_path)) == 2


SETTINGS = Settings({"NEWSCRAWLER_DRIFT_MIN_RECORDS": 5, "NEWSCRAWLER_DRIFT_DROP": 0.5, "NEWSCRAWLER_DRIFT_MIN_BASELINE": 0.2})


@pytest.mark.parametrize(
    ("records", "present", "history", "alerts"),
    [
        (20, 0, [(20, 20), (10, 10)], True),  # dates from 100 % to 0 %
        (20, 12, [(20, 20)], False),  # 60 % of a 100 % baseline: a drop, not a break
        (20, 9, [(20, 20)], True),  # 45 %: below half
        (4, 0, [(20, 20)], False),  # too few records this run to judge
        (20, 0, [(3, 3)], False),  # the only earlier run was too small to be a baseline
        (20, 0, [], False),  # the site's first run
        (20, 0, [(20, 3)], False),  # a field the site rarely had (15 %) cannot drift
    ],
)
def test_drift_rule(records: int, present: int, history: list[tuple[int, int]], alerts: bool) -> None:
    assert (drift("site", "published_at", records, present, history, SETTINGS) is not None) == alerts



def test_the_summary_gives_each_site_its_feed_items_records_and_failure_rate(dle_site: SiteServer, tmp_path: Path) -> None:
    args = [NEWSCRAWLER, "crawl", dle_site.url("/rss.xml"), "-o", str(tmp_path / "out.jsonl"), "--state", str(tmp_path / "state"),
            "--tz", "Asia/Almaty", *FAST]
    first, second = (subprocess.run(args, capture_output=True, text=True, timeout=180) for _ in range(2))
    host = dle_site.base.removeprefix("http://")
    # 19 feed items, one a tracking-parameter copy; 16 articles stored; a 404 and a page without a title failed
    assert (f"site {host}: feed items 19, records 17, stored 16, unchanged 0, failures 2 (11%): "
            "http_404 1, missing_title 1") in first.stdout.splitlines()
    # the second run: the 404 is gone for good, the untitled page is tried again and fails again, nothing else fetched
    assert f"site {host}: feed items 19, records 1, stored 0, unchanged 0, failures 1 (100%): missing_title 1" in second.stdout
