"""Hostile XML against the feed reader: time and peak memory of each document, each in a fresh process.

`python benchmarks/hostile_xml.py` from the project root. Rows: the fixture feeds of fixtures/sites/hostile-xml
and two scaled-up bombs, read by newscrawler's read_feed (entity checks first) and, as the baseline, by feedparser
alone (what the project did before: expat's amplification limit and feedparser's entity filter are the only guards;
on a breach feedparser falls back to its lenient parser). Peak MiB is the whole process's, with the project imported
(~50 MiB at rest), so compare the rows, not the absolute values. Each read runs in a
subprocess with a 30 s timeout, so a read that hangs or blows up shows as such instead of stopping the script.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "fixtures" / "sites" / "hostile-xml"
READ = """
import json, resource, sys, time
from pathlib import Path
body = Path(sys.argv[1]).read_bytes()
from newscrawler.feeds import FeedError, read_feed  # imported before the clock starts, as feedparser is
import feedparser
started = time.perf_counter()
if sys.argv[2] == "newscrawler":
    try:
        feed = read_feed(body, "http://127.0.0.1:9/feed.xml")
        outcome = f"{len(feed.entries)} items, warnings {list(feed.warnings)}"
    except FeedError as error:
        outcome = f"refused: {error}"
else:
    parsed = feedparser.parse(body)
    title = parsed.entries[0].get("title", "") if parsed.entries else ""
    outcome = f"{len(parsed.entries)} items, bozo {bool(parsed.bozo)}, first title {len(title)} chars"
elapsed = time.perf_counter() - started
print(json.dumps({"ms": elapsed * 1000, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "outcome": outcome}))
"""


def bombs(directory: Path) -> list[Path]:
    """The fixtures, and bigger bombs than the fixtures: 10 levels of 20 references, and a 200 KB entity x 20 000."""
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 20}">' for i in range(1, 11))
    big = directory / "laughs-20x10.xml"
    big.write_text(f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}]><rss version="2.0"><channel>'
                   f'<item><title>&l10;</title><link>http://127.0.0.1:9/a</link></item></channel></rss>')
    quadratic = directory / "quadratic-200k-x20k.xml"
    quadratic.write_text(f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"a" * 200_000}">]><rss version="2.0"><channel>'
                         f'<item><title>{"&a;" * 20_000}</title><link>http://127.0.0.1:9/a</link></item></channel></rss>')
    fixtures = [HOSTILE / name for name in ("xxe.xml", "billion-laughs.xml", "quadratic.xml", "good.xml")]
    return fixtures + [big, quadratic]


def read(path: Path, reader: str) -> dict:
    try:
        done = subprocess.run([sys.executable, "-c", READ, str(path), reader], capture_output=True, text=True, timeout=30, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"ms": 30_000, "peak_mib": float("nan"), "outcome": "timed out after 30 s"}
    if done.returncode != 0:
        return {"ms": float("nan"), "peak_mib": float("nan"), "outcome": f"crashed: {done.stderr.strip().splitlines()[-1][:80]}"}
    return json.loads(done.stdout)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        print(f"{'document':28} {'size':>9}  {'reader':12} {'time ms':>9} {'peak MiB':>9}  outcome")
        for path in bombs(Path(scratch)):
            for reader in ("newscrawler", "feedparser"):
                row = read(path, reader)
                print(f"{path.name:28} {path.stat().st_size:>9}  {reader:12} {row['ms']:>9.1f} {row['peak_mib']:>9.0f}  {row['outcome']}")


if __name__ == "__main__":
    main()
