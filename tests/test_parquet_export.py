"""`newscrawler export --format parquet` after a real crawl of the fixture site, and README's DuckDB query over it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.record_schema import assert_valid_records
from tests.site_server import ALLOW_LOOPBACK, SiteServer

pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (pip install -e '.[test]')")
duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (pip install -e '.[test]')")
README = Path(__file__).resolve().parent.parent / "README.md"
NEWSCRAWLER = str(Path(sys.executable).parent / "newscrawler")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *ALLOW_LOOPBACK]


@pytest.fixture(scope="module")
def exported(dle_site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """Crawl the DLE fixture site, then export its store both ways, as a user would."""
    directory = tmp_path_factory.mktemp("parquet")
    state = str(directory / "state")
    crawl = [NEWSCRAWLER, "crawl", dle_site.url("/rss.xml"), "-o", "crawl.jsonl", "--tz", "Asia/Almaty", "--state", state, *FAST]
    subprocess.run(crawl, cwd=directory, capture_output=True, text=True, timeout=180)
    for args in (["-o", "articles.jsonl"], ["-o", "articles.parquet", "--format", "parquet"]):
        done = subprocess.run([NEWSCRAWLER, "export", "--state", state, *args], cwd=directory, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    lines = (directory / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    return directory, assert_valid_records([json.loads(line) for line in lines])


def test_parquet_holds_every_record_with_the_jsonl_values(exported: tuple[Path, list[dict]]) -> None:
    directory, records = exported
    rows = pq.read_table(directory / "articles.parquet").to_pylist()
    assert len(rows) == len(records) >= 15
    assert {row["id"]: row for row in rows} == {record["id"]: record for record in records}


def readme_sql() -> str:
    (query,) = re.findall(r"```sql\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"^\s+", "", query, flags=re.M)


def test_the_readme_duckdb_query_counts_articles_and_comments_per_site_and_day(exported: tuple[Path, list[dict]]) -> None:
    directory, records = exported
    connection = duckdb.connect()
    connection.execute(f"SET file_search_path = '{directory}'")
    rows = connection.execute(readme_sql()).fetchall()
    firsts = [record for record in records if record["version"] == 1 and record["published_at"]]
    articles = Counter((record["site"], record["published_at"][:10]) for record in firsts)
    comments = Counter()
    for record in firsts:
        comments[(record["site"], record["published_at"][:10])] += len(record["comments"])
    assert {(site, str(day)): (count, total) for site, day, count, total, _ in rows} == {
        key: (articles[key], comments[key]) for key in articles
    }
    assert sum(count for _, _, count, _, _ in rows) == len(firsts) >= 15
