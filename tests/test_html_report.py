"""`newscrawler report` rendered from real crawls and opened in headless Chromium, as an operator would open it."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newscrawler.state import make_state
from tests.generated_site import serve_generated
from tests.site_server import ALLOW_LOOPBACK

pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install -e '.[test]')")
NEWSCRAWLER = str(Path(sys.executable).parent / "newscrawler")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *ALLOW_LOOPBACK]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def newscrawler(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NEWSCRAWLER, *args], capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Two crawls of a generated DLE site, the second after a redesign, then the report of both."""
    directory = tmp_path_factory.mktemp("report")
    state = str(directory / "state")
    with serve_generated(pages=12) as site:
        for extra in ([], ["--refresh"]):
            newscrawler("crawl", site.url("/rss.xml"), "-o", str(directory / "out.jsonl"), "--state", state, "--tz", "Asia/Almaty", *FAST, *extra)
            site.redesign()
        host = site.base.removeprefix("http://")
    done = newscrawler("report", "--state", state, "-o", str(directory / "report.html"))
    assert done.returncode == 0, done.stderr
    return directory / "report.html", host


def test_the_report_is_one_file_with_the_runs_alerts_and_failures(report: tuple[Path, str]) -> None:
    html = report[0].read_text(encoding="utf-8")
    assert html.count("<svg") == 3
    outside = re.findall(r'(?:src|href)="(?!#)[^"]*"|url\((?!#)[^)]*\)|@import', html)  # SVG's own #id references are fine
    assert outside == [], f"the report refers to something outside itself: {outside}"
    assert f"{report[1]}: views in 0% of 12 records" in html
    # per site and run: feed items and records; the second run's feed was unchanged (304)
    assert html.count(f"<td class=l>{report[1]}</td><td>") == 2
    assert html.count(f"<td class=l>{report[1]}</td><td>12</td><td>12</td>") == 1
    assert html.count(f"<td class=l>{report[1]}</td><td>0</td><td>12</td>") == 1


def chart_ink(png: bytes) -> float:
    """The share of a screenshot's pixels that are not background white."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    return sum(image.histogram()[:235]) / (image.width * image.height)


def test_chromium_draws_every_chart_and_requests_nothing_but_the_file(report: tuple[Path, str], tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    path, host = report
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("networkidle")
        charts = page.locator("[data-chart]")
        labels = [charts.nth(i).get_attribute("data-chart") for i in range(charts.count())]
        boxes = [charts.nth(i).bounding_box() for i in range(charts.count())]
        ink = [chart_ink(charts.nth(i).screenshot()) for i in range(charts.count())]
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert requested == [path.as_uri()]
    assert labels == [f"coverage {host}", "publication hours", "crawl latency"]
    assert all(box["width"] > 300 and box["height"] > 150 for box in boxes), boxes
    assert all(share > 0.02 for share in ink), dict(zip(labels, ink))


def test_a_state_without_runs_or_without_the_site_gets_a_clear_message(tmp_path: Path, report: tuple[Path, str]) -> None:
    missing = newscrawler("report", "--state", str(tmp_path / "none"), "-o", str(tmp_path / "r.html"))
    assert missing.returncode == 2 and "no state in" in missing.stderr and not (tmp_path / "none").exists()
    make_state(tmp_path / "empty").open().close()
    empty = newscrawler("report", "--state", str(tmp_path / "empty"), "-o", str(tmp_path / "r.html"))
    assert empty.returncode == 2 and "has no finished runs yet" in empty.stderr
    other = newscrawler("report", "--state", str(report[0].parent / "state"), "--site", "example.kz", "-o", str(tmp_path / "r.html"))
    assert other.returncode == 2 and "no runs of site 'example.kz'" in other.stderr
    future = make_state(tmp_path / "future").open()
    with future.transaction():
        future.run("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    future.close()
    skewed = newscrawler("report", "--state", str(tmp_path / "future"), "-o", str(tmp_path / "r.html"))
    assert skewed.returncode == 2 and "has schema version 99" in skewed.stderr
    assert "Traceback" not in missing.stderr + empty.stderr + other.stderr + skewed.stderr
    assert not (tmp_path / "r.html").exists()
