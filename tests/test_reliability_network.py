"""reliability.md §A.5, the network side: each test a real crawl (`newscrawler crawl` in a subprocess) against
local servers that misbehave on purpose (tests/hostile_server.py). Test names carry the §A.5 number.

Only loopback addresses are ever put into a crawl; the address classifier is tested on other ranges without
connecting (test_a5_15_classifier_*)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from newscrawler.addresses import AddressPolicy, parse_allow_list, why_blocked
from tests.crawl_run import CrawlRun, crawl
from tests.hostile_server import HUGE_BYTES, MIB, HostileServer, article_html, brotli_bomb, deflate_bomb, gzip_bomb


@pytest.fixture
def site() -> Iterator[HostileServer]:
    with HostileServer().running() as server:
        yield server


def hits(server: HostileServer, path: str) -> int:
    return server.paths().count(path)


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in zip(times, times[1:])]


def figure(number: int, run: CrawlRun, **measured: object) -> None:
    """One line per test with what it measured (shown with `pytest -s`), for the issue's table."""
    values = "  ".join(f"{name}={value}" for name, value in measured.items())
    print(f"\nA.5 #{number}: elapsed {run.elapsed:.1f} s, peak RSS {run.peak_rss_mib:.0f} MiB  {values}")


def test_a5_06_transient_500_is_retried_and_the_article_stored(site: HostileServer, tmp_path: Path) -> None:
    site.feed = [site.url("/flaky/2/six.html")]
    run = crawl(site.url("/rss.xml"), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/flaky/2/six.html")]
    assert run.records[0]["title"] == "Story six.html"
    assert run.failures == []
    assert hits(site, "/flaky/2/six.html") == 3  # 500, 500, 200
    assert run.stats["retry/count"] == 2
    assert run.url_states[site.url("/flaky/2/six.html")][0] == "stored"
    figure(6, run, requests=len(site.hits), retries=run.stats["retry/count"])


def test_a5_07_retry_after_429_and_503_waited_then_one_failure_row(site: HostileServer, tmp_path: Path) -> None:
    unavailable, limited = "/status/503/a.html?retry_after=2", "/status/429/b.html?retry_after=2"
    too_long = "/status/429/c.html?retry_after=3600"
    site.feed = [site.url(path) for path in (unavailable, limited, too_long, "/news/ok.html")]
    run = crawl(site.url("/rss.xml"), tmp_path, "-s", "RETRY_TIMES=1", "-s", "NEWSCRAWLER_RETRY_AFTER_MAX=60")
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/news/ok.html")]
    assert len(run.failures) == 3
    for path, status, attempts in ((unavailable, 503, 2), (limited, 429, 2), (too_long, 429, 1)):
        line = run.failure(site.url(path))
        assert (line["reason"], line["status"], line["attempts"], line["stage"]) == (f"http_{status}", status, attempts, "download")
        assert run.url_states[site.url(path)] == ("failed", f"http_{status}")
    assert "Retry-After 3600 s is over NEWSCRAWLER_RETRY_AFTER_MAX (60 s)" in run.failure(site.url(too_long))["detail"]
    for path in (unavailable, limited):  # the retry came no sooner than Retry-After asked
        (waited,) = gaps(site.times(path))
        assert waited >= 2.0
    # the crawl went on meanwhile: the good article was fetched before the first retry
    assert site.times("/news/ok.html")[0] < site.times(unavailable)[1]
    assert hits(site, too_long) == 1
    waits = [round(gaps(site.times(path))[0], 2) for path in (unavailable, limited)]
    figure(7, run, requests=len(site.hits), retry_after_waits_s=waits)


def test_a5_08_a_server_that_never_answers_times_out(site: HostileServer, tmp_path: Path) -> None:
    site.feed = [site.url("/silent/quiet.html"), site.url("/news/ok.html")]
    run = crawl(site.url("/rss.xml"), tmp_path, "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=1")
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/news/ok.html")]
    line = run.failure(site.url("/silent/quiet.html"))
    assert (line["reason"], line["attempts"]) == ("timeout", 2)
    assert line["detail"].startswith("timeout after 1 s")
    first, second = site.times("/silent/")
    assert 1.0 <= second - first < 5.0  # the first attempt was cut at the 1 s timeout (+ 0.1 s backoff), not held 30 s
    assert run.elapsed < 20
    figure(8, run, requests=len(site.hits), attempt_gap_s=round(second - first, 2))


def test_a5_09_slowloris_is_cut_at_the_deadline_and_other_hosts_go_on(tmp_path: Path) -> None:
    with HostileServer().running() as site, HostileServer(host="127.0.0.2").running() as slow:
        articles = [site.url(f"/news/n{n}.html") for n in range(10)]
        site.feed = [slow.url("/slow/drip.html"), *articles]
        # 0.2 s between requests to a host: the other host's ten articles take about 2 s, while the slow one drips;
        # pages parsed in a worker process, so parsing does not hold the reactor (and the pace) up
        run = crawl(site.url("/rss.xml"), tmp_path, "-s", "DOWNLOAD_TIMEOUT=5", "-s", "RETRY_TIMES=0",
                    "-s", "DOWNLOAD_DELAY=0.2", "-s", "NEWSCRAWLER_EXTRACT_WORKERS=1", allow="127.0.0.0/8")
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == sorted(articles)
    line = run.failure(slow.url("/slow/drip.html"))
    assert (line["reason"], line["attempts"]) == ("timeout", 1)
    assert line["detail"].startswith("timeout after 5 s")
    assert 0 < slow.sent["/slow/drip.html"] < len(article_html("drip.html"))  # headers sent, body cut short
    (started,) = slow.times("/slow/")
    during = [moment for moment in site.times("/news/") if started < moment < started + 5.0]
    assert len(during) >= 5  # the other host was fetched while the slow body dripped...
    assert max(gaps(site.times("/news/"))) < 0.2 + 0.3  # ...at its own pace, never held up
    figure(9, run, requests=len(site.hits) + len(slow.hits), slow_bytes_sent=slow.sent["/slow/drip.html"],
           other_host_articles_during_drip=len(during), other_host_max_gap_s=round(max(gaps(site.times("/news/"))), 2))


def test_a5_10_truncated_body_is_retried_then_a_failure_never_a_record(site: HostileServer, tmp_path: Path) -> None:
    site.feed = [site.url("/truncated/half.html"), site.url("/news/ok.html")]
    run = crawl(site.url("/rss.xml"), tmp_path)
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/news/ok.html")]
    line = run.failure(site.url("/truncated/half.html"))
    assert (line["reason"], line["attempts"]) == ("truncated", 3)
    assert hits(site, "/truncated/half.html") == 3
    assert run.url_states[site.url("/truncated/half.html")] == ("failed", "truncated")
    figure(10, run, requests=len(site.hits), truncated_attempts=hits(site, "/truncated/half.html"))


def test_a5_11_decompression_bombs_are_dropped_with_bounded_memory(site: HostileServer, tmp_path: Path) -> None:
    gzip_bomb(), deflate_bomb(), brotli_bomb()  # built before the crawl, so the server answers at once
    site.feed = [site.url("/news/ok.html")]
    baseline = crawl(site.url("/rss.xml"), tmp_path / "baseline")
    bombs = ["/bomb/gzip/g.html", "/bomb/deflate/d.html", "/bomb/br/b.html"]
    site.feed = [site.url(path) for path in bombs] + [site.url("/news/ok.html")]
    run = crawl(site.url("/rss.xml"), tmp_path / "bombs")
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/news/ok.html")]
    for path in bombs:
        line = run.failure(site.url(path))
        assert (line["reason"], line["attempts"]) == ("too_large", 1)
        assert "DOWNLOAD_MAXSIZE (5242880 B)" in line["detail"]
        assert f"Ignored response <200 {site.url(path)}>" in run.stderr  # Scrapy's warning names the URL
    assert site.sent["/bomb/gzip/g.html"] < 1.1 * MIB  # 1 GiB of content, 1 MiB on the wire
    assert run.peak_rss_mib - baseline.peak_rss_mib < 100
    figure(11, run, baseline_peak_rss_mib=round(baseline.peak_rss_mib), gzip_wire_bytes=site.sent["/bomb/gzip/g.html"])


def test_a5_12_a_50_mib_page_is_dropped_at_the_size_cap(site: HostileServer, tmp_path: Path) -> None:
    huge = ["/huge/declared/big.html", "/huge/streamed/big.html"]
    site.feed = [site.url(path) for path in huge] + [site.url("/news/ok.html")]
    run = crawl(site.url("/rss.xml"), tmp_path)
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/news/ok.html")]
    for path in huge:
        assert run.failure(site.url(path))["reason"] == "too_large"
    assert site.sent["/huge/streamed/big.html"] < HUGE_BYTES / 2  # the download was aborted, not read to the end
    figure(12, run, streamed_mib_sent=round(site.sent["/huge/streamed/big.html"] / MIB, 1))


def loopback_names() -> list[str]:
    """This machine's host names that resolve to loopback only (never a name that could lead elsewhere)."""
    names = []
    for name in {"localhost", socket.gethostname()}:
        try:
            found = {info[4][0] for info in socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)}
        except OSError:
            continue
        if found and all(ipaddress.ip_address(address).is_loopback for address in found):
            names.append(name)
    return sorted(names)


def test_a5_15_ssrf_no_request_reaches_a_second_local_server(site: HostileServer, tmp_path: Path) -> None:
    with ExitStack() as stack:
        victim = stack.enter_context(HostileServer().running())
        port = victim.port
        others = [stack.enter_context(HostileServer(host="127.0.0.2", port=port, hits=victim.hits).running())]
        if socket.has_ipv6:
            others.append(stack.enter_context(HostileServer(host="::1", port=port, hits=victim.hits).running()))
        targets = [f"http://127.0.0.2:{port}/news/a.html", f"http://[::1]:{port}/news/b.html",
                   f"http://2130706433:{port}/news/c.html", f"http://127.1:{port}/news/d.html"]
        targets += [f"http://{name}:{port}/news/{name}.html" for name in loopback_names()]
        redirect = site.url("/redirect?to=" + quote(f"http://127.0.0.1:{port}/news/e.html", safe=""))
        site.feed = [*targets, redirect, site.url("/news/ok.html")]
        run = crawl(site.url("/rss.xml"), tmp_path, allow=f"127.0.0.1:{site.port}")  # only the fixture server
    assert victim.hits == []  # nothing reached the second server, on any of its addresses
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/news/ok.html")]
    assert sorted(line["url"] for line in run.failures) == sorted([*targets, redirect])
    for line in run.failures:
        assert line["reason"] == "blocked_address", line
        assert "is loopback" in line["detail"]
    assert "localhost" in " ".join(targets)
    figure(15, run, blocked=len(run.failures), second_server_requests=len(victim.hits))


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "link-local"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
        ("192.168.1.1", "private"), ("100.64.0.1", "shared (CGNAT) or translation"), ("127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"), ("240.0.0.1", "private"),  # Python counts 240/4 as private
        ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fe80::1", "link-local"), ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"), ("::ffff:169.254.169.254", "link-local"), ("::ffff:127.0.0.1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link-local"), ("2002:0a00:0001::1", "private"), ("ff02::1", "multicast"),
        ("93.184.215.14", None), ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("::ffff:8.8.8.8", None),
    ],
)
def test_a5_15_classifier_without_connecting(address: str, reason: str | None) -> None:
    assert why_blocked(ipaddress.ip_address(address)) == reason


def test_a5_15_allow_list_admits_only_its_own_address_and_port() -> None:
    policy = AddressPolicy(parse_allow_list(["127.0.0.1:8080", "10.0.0.0/8", "[::1]:9000"]))
    assert policy.refusal("127.0.0.1", 8080) is None
    assert policy.refusal("127.0.0.1", 8081) == "127.0.0.1 is loopback"
    assert policy.refusal("10.20.30.40", 80) is None
    assert policy.refusal("::1", 9000) is None
    assert policy.refusal("::1", 80) == "::1 is loopback"
    assert policy.refusal("fe80::1%eth0", 80) == "fe80::1 is link-local"
    assert AddressPolicy().refusal("127.0.0.1", 8080) == "127.0.0.1 is loopback"  # the default blocks
    with pytest.raises(ValueError, match="NEWSCRAWLER_ALLOWED_ADDRESSES: .*127.0.0.0/8"):
        parse_allow_list(["localhost"])


def test_a5_16_file_data_ftp_links_and_redirects_are_not_fetched(site: HostileServer, tmp_path: Path) -> None:
    links = ["file:///etc/passwd", "data:text/html,<title>x</title>", f"ftp://127.0.0.1:{site.port}/x.html", "s3://bucket/key.html"]
    redirect = site.url("/redirect?to=" + quote("file:///etc/passwd", safe=""))
    site.feed = [*links, redirect, site.url("/news/ok.html")]
    run = crawl(site.url("/rss.xml"), tmp_path)
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/news/ok.html")]
    assert sorted(urlsplit(line["url"]).scheme for line in run.failures) == ["data", "file", "ftp", "http", "s3"]
    assert redirect in [line["url"] for line in run.failures]
    assert {line["reason"] for line in run.failures} == {"scheme_not_allowed"}
    assert "root:" not in run.stderr and all("root:" not in str(line) for line in run.failures)
    assert "to file:///etc/passwd" in run.failure(redirect)["detail"]
    figure(16, run, requests=len(site.hits), refused=len(run.failures))


def test_a5_17_redirect_loops_and_a_long_chain_end_as_one_failure_each(site: HostileServer, tmp_path: Path) -> None:
    loop, refresh, chain, short = "/loop/a/x.html", "/refresh/a/w.html", "/chain/30/y.html", "/chain/3/z.html"
    site.feed = [site.url(path) for path in (loop, refresh, chain, short)]
    run = crawl(site.url("/rss.xml"), tmp_path)
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == [site.url("/chain/0/z.html")]  # a short chain is followed
    reasons = {path: run.failure(site.url(path))["reason"] for path in (loop, refresh, chain)}
    assert reasons == {loop: "redirect_loop", refresh: "redirect_loop", chain: "too_many_redirects"}
    assert len(run.failures) == 3
    assert site.paths().count("/loop/a/x.html") == 1 and site.paths().count("/loop/b/x.html") == 1
    assert site.paths().count("/refresh/a/w.html") == 1 and site.paths().count("/refresh/b/w.html") == 1
    assert len([path for path in site.paths() if path.endswith("/y.html")]) == 11  # REDIRECT_MAX_TIMES = 10
    assert {url: state for url, (state, _) in run.url_states.items() if "/chain/0/" not in url} == {
        site.url(path): "failed" for path in (loop, refresh, chain)} | {site.url(short): "stored"}
    assert run.elapsed < 30
    figure(17, run, requests=len(site.hits))


def test_a5_24_robots_disallow_503_and_404(tmp_path: Path) -> None:
    rules = b"User-agent: *\nDisallow: /news/private/\nCrawl-delay: 60\n"  # cut to the 1 s cap set below
    with HostileServer(robots=rules).running() as first, HostileServer(host="127.0.0.2", robots=503).running() as second, \
            HostileServer(host="127.0.0.3", robots=404).running() as third:
        first.feed = [first.url("/news/a.html"), first.url("/news/private/b.html"), second.url("/news/c.html"), third.url("/news/d.html")]
        run = crawl(first.url("/rss.xml"), tmp_path, "-s", "NEWSCRAWLER_ROBOTS_MAX_CRAWL_DELAY=1", allow="127.0.0.0/8")
    assert run.returncode == 4, run.stderr[-3000:]
    assert run.record_urls() == sorted([first.url("/news/a.html"), third.url("/news/d.html")])
    assert run.failure(first.url("/news/private/b.html"))["reason"] == "robots_disallowed"
    assert run.failure(second.url("/news/c.html"))["reason"] == "robots_unavailable"
    assert len(run.failures) == 2
    assert "/news/private/b.html" not in first.paths()
    assert set(second.paths()) == {"/robots.txt"}  # the 503 host: only robots.txt was asked for (and retried)
    assert third.paths() == ["/robots.txt", "/news/d.html"]
    assert 0.95 <= min(gaps(first.times())) and max(gaps(first.times())) < 3  # Crawl-delay honoured, up to the cap
    assert run.stats["newscrawler/robots/crawl_delay_capped"] == 1
    stats = run.stats
    assert (stats["newscrawler/robots/rules"], stats["newscrawler/robots/missing"], stats["newscrawler/robots/unavailable"]) == (1, 1, 1)
    assert stats["newscrawler/robots/forbidden"] == 1
    figure(24, run, requests=len(first.hits) + len(second.hits) + len(third.hits), host2_robots_requests=len(second.hits),
           host1_min_gap_s=round(min(gaps(first.times())), 2))


def test_a5_24_robots_txt_is_fetched_again_after_its_cache_time(site: HostileServer, tmp_path: Path) -> None:
    site.feed = [site.url(f"/news/{n}.html") for n in range(4)]
    # one request at a time, so each article is checked against robots.txt just before it goes, 0.5 s apart
    run = crawl(site.url("/rss.xml"), tmp_path, "-s", "DOWNLOAD_DELAY=0.5", "-s", "CONCURRENT_REQUESTS=1",
                "-s", "NEWSCRAWLER_ROBOTS_CACHE_SECONDS=1")
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.records) == 4
    assert hits(site, "/robots.txt") >= 2  # the crawl lasts 2.5 s: the 1 s old verdict was not trusted
    assert run.stats["robotstxt/request_count"] == hits(site, "/robots.txt")


def test_a5_25_per_host_delay_and_hosts_interleave(tmp_path: Path) -> None:
    with HostileServer().running() as first, HostileServer(host="127.0.0.2").running() as second:
        first.feed = [server.url(f"/news/{n}.html") for n in range(4) for server in (first, second)]
        # pages parsed in a worker process: parsing in the reactor's thread would hold requests back (and bunch them)
        run = crawl(first.url("/rss.xml"), tmp_path, "-s", "DOWNLOAD_DELAY=0.5", "-s", "NEWSCRAWLER_EXTRACT_WORKERS=1",
                    allow="127.0.0.0/8")
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.records) == 8
    first_times, second_times = first.times(), second.times()
    # Scrapy spaces requests as they leave the host's slot. A host's first request (robots.txt) can leave later than
    # that, behind the crawl's start-up work in the reactor (feed parsing), so the next seems early: measured 0.46-0.49 s.
    assert min(gaps(first_times) + gaps(second_times)) >= 0.4
    assert min(gaps(first_times)[1:] + gaps(second_times)[1:]) >= 0.48
    first_articles = first.times("/news/")
    assert any(first_articles[0] < moment < first_articles[-1] for moment in second.times("/news/"))  # interleaved
    figure(25, run, requests=len(first_times) + len(second_times),
           min_gap_s=[round(min(gaps(first_times)), 3), round(min(gaps(second_times)), 3)])


def test_a5_15_without_the_filtering_resolver_every_request_is_refused(site: HostileServer, tmp_path: Path) -> None:
    """Fail closed: a settings change that drops the resolver must not silently turn the SSRF guard off."""
    site.feed = [site.url("/news/ok.html")]
    run = crawl(site.url("/rss.xml"), tmp_path, "-s", "TWISTED_DNS_RESOLVER=scrapy.resolver.CachingThreadedResolver")
    assert run.returncode == 4, run.stderr[-3000:]
    assert site.hits == []
    (line,) = run.failures
    assert (line["url"], line["stage"], line["reason"]) == (site.url("/rss.xml"), "feed", "address_filter_missing")
    assert "TWISTED_DNS_RESOLVER" in line["detail"]
