"""Deploy to a real Scrapyd with scrapyd-deploy, schedule the feed spider through its JSON API, read what it wrote."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.record_schema import assert_valid_records
from tests.site_server import SiteServer

pytest.importorskip("scrapyd", reason="scrapyd is not installed (pip install -e '.[test]' installs it)")
pytest.importorskip("scrapyd_client", reason="scrapyd-client is not installed (pip install -e '.[test]' installs it)")
BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parent.parent
START_SECONDS, JOB_SECONDS = 30, 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api(base: str, endpoint: str, form: list[tuple[str, str]] | None = None) -> dict:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    with urllib.request.urlopen(f"{base}/{endpoint}", data, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    """A Scrapyd on a free loopback port with its own eggs, logs, items and databases under tmp_path."""
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    dirs = {name: home / name for name in ("eggs", "logs", "items", "dbs")}
    config = "\n".join(f"{name}_dir = {path}" for name, path in dirs.items())
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\n{config}\nmax_proc = 1\npoll_interval = 0.5\n"
    )
    process = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                api(base, "daemonstatus.json")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"scrapyd did not answer on {base} within {START_SECONDS} s")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def deploy(base: str, tmp_path: Path) -> dict:
    """scrapyd-deploy from a copy of the project (it writes setup.py and build/ where it runs) to this Scrapyd."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT / "newscrawler", copy / "newscrawler", ignore=shutil.ignore_patterns("__pycache__"))
    config = (PROJECT / "scrapy.cfg").read_text().replace("http://127.0.0.1:6800/", f"{base}/")
    (copy / "scrapy.cfg").write_text(config)
    done = subprocess.run([str(BIN / "scrapyd-deploy"), "local"], cwd=copy, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout[done.stdout.index("{"):])


def test_scrapyd_runs_the_deployed_feed_spider_and_keeps_its_records(scrapyd: str, dle_site: SiteServer, tmp_path: Path) -> None:
    deployed = deploy(scrapyd, tmp_path)
    assert (deployed["status"], deployed["spiders"]) == ("ok", 1)
    assert api(scrapyd, "listspiders.json?project=newscrawler")["spiders"] == ["feed"]
    form = [("project", "newscrawler"), ("spider", "feed"), ("url", dle_site.url("/rss.xml")), ("tz", "Asia/Almaty"),
            ("setting", f"NEWSCRAWLER_STATE={tmp_path / 'state'}"), ("setting", "DOWNLOAD_DELAY=0"),
            ("setting", "NEWSCRAWLER_ALLOWED_ADDRESSES=127.0.0.1")]
    job = api(scrapyd, "schedule.json", form)["jobid"]
    deadline = time.monotonic() + JOB_SECONDS
    while not any(j["id"] == job for j in api(scrapyd, "listjobs.json?project=newscrawler")["finished"]):
        assert time.monotonic() < deadline, f"job {job} did not finish within {JOB_SECONDS} s"
        time.sleep(0.5)
    items = tmp_path / "scrapyd" / "items" / "newscrawler" / "feed" / f"{job}.jl"
    records = assert_valid_records([json.loads(line) for line in items.read_text(encoding="utf-8").splitlines()])
    assert len(records) == len({record["id"] for record in records}) == 16  # the fixture site's articles with a title
    failures = items.with_name(f"{job}.failures.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["reason"] for line in failures) == ["http_404", "missing_title"]
    log = (tmp_path / "scrapyd" / "logs" / "newscrawler" / "feed" / f"{job}.log").read_text(encoding="utf-8")
    assert "Spider closed (finished)" in log
