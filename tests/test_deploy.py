"""deploy/: the systemd unit's command line, run twice in a row as its timer would, and the crontab line's."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.generated_site import serve_generated
from tests.site_server import ALLOW_LOOPBACK

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
BIN = Path(sys.executable).parent


def exec_start() -> list[str]:
    (line,) = [line for line in (DEPLOY / "newscrawler.service").read_text().splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def service_command(tmp_path: Path) -> list[str]:
    """ExecStart of deploy/newscrawler.service with its paths moved under tmp_path."""
    return [relocated(word, tmp_path) for word in exec_start()]


def relocated(word: str, tmp_path: Path) -> str:
    return (word.replace("/srv/newscrawler/.venv/bin/", f"{BIN}/").replace("/var/lib/newscrawler", str(tmp_path / "var"))
            .replace("/srv/newscrawler", str(tmp_path / "srv")))


def write_sources(tmp_path: Path, feed: str) -> None:
    (tmp_path / "srv").mkdir()
    (tmp_path / "var").mkdir()
    (tmp_path / "srv" / "sources.toml").write_text(
        f'[sites.generated]\nstart_urls = ["{feed}"]\nprofile = "dle"\ntimezone = "Asia/Almaty"\n\n'
        '[sites.generated.politeness]\ndelay = 0\nconcurrency = 8\n'
    )


def test_the_timer_runs_the_service_twice_and_the_second_run_is_incremental(tmp_path: Path) -> None:
    with serve_generated(pages=20) as site:
        write_sources(tmp_path, site.url("/rss.xml"))
        command = [*service_command(tmp_path), *ALLOW_LOOPBACK]
        runs = []
        for _ in range(2):
            before = len(site.requests)
            runs.append(subprocess.run(command, cwd=tmp_path / "srv", capture_output=True, text=True, timeout=180))
            runs[-1].requests = site.requests[before:]
    assert [run.returncode for run in runs] == [0, 0], runs[-1].stderr[-2000:]
    assert all(json.loads(line) for run in runs for line in run.stderr.splitlines())  # --log-format json
    output = tmp_path / "var" / "articles.jsonl"
    assert len(output.read_text(encoding="utf-8").splitlines()) == 20
    assert runs[1].requests == ["/robots.txt", "/rss.xml"]  # the feed, unchanged (304), and no article
    assert "records written: 0" in runs[1].stdout


def test_the_crontab_line_runs_the_same_crawl() -> None:
    (line,) = [line for line in (DEPLOY / "crontab").read_text().splitlines() if line and not line.startswith("#")]
    schedule, command = line.split(maxsplit=5)[:5], line.split(maxsplit=5)[5]
    assert schedule == ["*/10", "*", "*", "*", "*"]
    crawl = re.search(r"newscrawler crawl (.*?) >>", command).group(1).split()
    assert crawl == [word for word in exec_start()[2:] if word not in ("--log-format", "json")]


def test_the_compose_workers_command_is_one_newscrawler_accepts() -> None:
    """deploy/docker-compose.yml is not run here (no Docker); its worker command must at least parse."""
    from newscrawler.cli import build_parser

    compose = (DEPLOY / "docker-compose.yml").read_text()
    (command,) = re.findall(r"^    command: (newscrawler .+)$", compose, re.MULTILINE)
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert (args.command, args.distributed, args.forever) == ("crawl", "redis://redis:6379/0", True)
    assert args.state == "postgresql://newscrawler@postgres/newscrawler" and args.output is None
