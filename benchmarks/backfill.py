"""Backfill costs: reading sitemaps, and a whole-site backfill against crawling the same articles from one feed.

1. Sitemap reading: a 50 000-URL urlset (plain and gzipped) through newscrawler's parse_sitemap + article-shape
   filter, against Scrapy's bare Sitemap iteration of the same bytes in the same run.
2. Crawl: a generated DLE site of N articles served locally; `newscrawler crawl --config --backfill` with a feed of
   the newest 10 (the rest found through sitemaps and listings) against `newscrawler crawl FEED` over a feed listing
   all N. Both fetch N article pages; the ratio is what discovery costs.

    python benchmarks/backfill.py [--urls 50000] [--pages 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.generated_site serves the site

from scrapy.utils.sitemap import Sitemap  # noqa: E402

from newscrawler.backfill import is_article_url, parse_sitemap  # noqa: E402
from tests.generated_site import serve_generated  # noqa: E402
from tests.site_server import ALLOW_LOOPBACK  # noqa: E402

BIN = Path(sys.executable).parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *ALLOW_LOOPBACK]


def urlset(count: int) -> bytes:
    rows = "".join(
        f"<url><loc>https://example.kz/news/{n}-novost-nomer-{n}.html</loc><lastmod>2024-03-01T10:00:00+05:00</lastmod></url>"
        if n % 10 else f"<url><loc>https://example.kz/tags/tag-{n}/</loc></url>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'.encode()


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def sitemap_figures(count: int, repeat: int) -> None:
    plain = urlset(count)
    packed = gzip.compress(plain)
    bare = best_of(repeat, lambda: sum(1 for _ in Sitemap(plain)))
    ours = best_of(repeat, lambda: [e for e in parse_sitemap(plain, "https://example.kz/s.xml", 1 << 30).entries
                                    if is_article_url(e.url, "dle")])
    ours_gz = best_of(repeat, lambda: [e for e in parse_sitemap(packed, "https://example.kz/s.xml.gz", 1 << 30).entries
                                       if is_article_url(e.url, "dle")])
    print(f"sitemap of {count} URLs ({len(plain) / 1e6:.1f} MB, {len(packed) / 1e6:.2f} MB gzipped), best of {repeat}:")
    print(f"  scrapy Sitemap iteration (baseline)     {bare:.3f} s  {count / bare:,.0f} URLs/s")
    print(f"  parse_sitemap + article filter          {ours:.3f} s  {count / ours:,.0f} URLs/s  ({ours / bare:.2f}x baseline)")
    print(f"  the same, gzipped                       {ours_gz:.3f} s  {count / ours_gz:,.0f} URLs/s  ({ours_gz / bare:.2f}x baseline)")


def crawl_seconds(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"crawl failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed, result.stdout.strip().splitlines()[0]


def crawl_figures(pages: int, repeat: int) -> None:
    feed_runs, backfill_runs = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp, serve_generated(pages) as whole:
            feed_runs.append(crawl_seconds([str(BIN / "newscrawler"), "crawl", whole.url("/rss.xml"), "--tz", "Asia/Almaty",
                                            "-O", f"{tmp}/feed.jsonl", "--state", f"{tmp}/feed", *FAST]))
        with tempfile.TemporaryDirectory() as tmp, serve_generated(pages, archives=True, feed_items=10,
                                                                   interval=timedelta(hours=1)) as site:
            config = Path(tmp) / "sources.toml"
            config.write_text(f'[sites.s]\nstart_urls = ["{site.url("/")}"]\nprofile = "dle"\ntimezone = "Asia/Almaty"\n'
                              '[sites.s.backfill]\nlistings = ["/", "/news/"]\n', encoding="utf-8")
            backfill_runs.append(crawl_seconds([str(BIN / "newscrawler"), "crawl", "--config", str(config), "--backfill",
                                                "-O", f"{tmp}/backfill.jsonl", "--state", f"{tmp}/backfill", *FAST]))
    feed = statistics.median(t for t, _ in feed_runs)
    backfill = statistics.median(t for t, _ in backfill_runs)
    print(f"crawl of {pages} generated DLE articles, median of {repeat} (wall time of the whole command):")
    print(f"  one feed listing all (baseline)         {feed:.1f} s  {pages / feed:.0f} articles/s   {feed_runs[-1][1]}")
    print(f"  --backfill: feed of 10 + sitemaps + listings  {backfill:.1f} s  {pages / backfill:.0f} articles/s  "
          f"({backfill / feed:.2f}x baseline)   {backfill_runs[-1][1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=50_000)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sitemap_figures(args.urls, args.repeat)
    crawl_figures(args.pages, args.repeat)


if __name__ == "__main__":
    main()
