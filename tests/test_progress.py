"""What a person watching a crawl sees: progress lines, a live display on a terminal, and JSON logs for shippers."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from tests.generated_site import GeneratedSite, serve_generated
from tests.site_server import ALLOW_LOOPBACK

NEWSCRAWLER = str(Path(sys.executable).parent / "newscrawler")
SLOW = ["-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "NEWSCRAWLER_PROGRESS_SECONDS=0.3", *ALLOW_LOOPBACK]


def crawl_args(site: GeneratedSite, tmp_path: Path, *extra: str) -> list[str]:
    return [NEWSCRAWLER, "crawl", site.url("/rss.xml"), "-o", str(tmp_path / "out.jsonl"), "--state", str(tmp_path / "state"),
            "--tz", "Asia/Almaty", *SLOW, *extra]


def test_without_a_terminal_progress_is_a_log_line_at_intervals(tmp_path: Path) -> None:
    with serve_generated(pages=40, delay=0.05) as site:
        done = subprocess.run(crawl_args(site, tmp_path), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.findall(r"progress: feed items (\d+), pages (\d+), records (\d+), failures (\d+), [\d.]+ pages/s, (\d+) to do, ETA (\S+)",
                       done.stderr)
    assert len(found) >= 2, done.stderr[-3000:]
    pages = [int(line[1]) for line in found]
    # robots.txt, the feed, DLE's 2 full-text feeds (404 here), its lastcomments listing and 40 articles
    assert pages == sorted(pages) and pages[-1] <= 45
    assert any(int(line[4]) > 0 and re.fullmatch(r"\d+:\d\d:\d\d", line[5]) for line in found)  # work left, time left
    assert "\x1b[" not in done.stdout  # no terminal drawing into a pipe


def test_on_a_terminal_a_live_display_redraws_in_place(tmp_path: Path) -> None:
    with serve_generated(pages=40, delay=0.05) as site:
        controller, terminal = pty.openpty()
        process = subprocess.Popen(crawl_args(site, tmp_path), stdout=terminal, stderr=terminal, stdin=subprocess.DEVNULL)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the crawl has exited
                break
            if not chunk:
                break
            shown += chunk
        process.wait(60)
        os.close(controller)
    text = shown.decode("utf-8", errors="replace")
    assert process.returncode == 0, text[-3000:]
    assert "pages fetched" in text and "ETA" in text and "\x1b[" in text  # the rich panel, drawn with control codes
    assert "progress: feed items" not in text  # the panel replaces the log lines
    assert "records written: 40" in text  # and the summary still follows


def test_json_log_format_gives_one_json_object_a_line(tmp_path: Path) -> None:
    with serve_generated(pages=5) as site:
        done = subprocess.run(crawl_args(site, tmp_path, "--log-format", "json"), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    entries = [json.loads(line) for line in done.stderr.splitlines()]  # fails on any line that is not JSON
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert entries[0]["message"].startswith("Scrapy ") and "started" in entries[0]["message"]
    assert any(entry["message"] == "Spider closed (finished)" for entry in entries)
    assert any(entry["message"].startswith("run summary") for entry in entries)
