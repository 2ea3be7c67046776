"""`newscrawler crawl|export|report|extract|sources check`: the user's commands, on top of Scrapy's CrawlerProcess and extract()."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from newscrawler.extract.site import load_zone

if TYPE_CHECKING:
    from newscrawler.sources import Source

PROFILES = ("auto", "dle", "wordpress", "generic")
DEFAULT_PATH = Path("sources.toml")  # read by `crawl` without a URL and by `sources check`
EXIT_OK, EXIT_NOT_FINISHED, EXIT_USAGE, EXIT_LOCKED, EXIT_WITH_FAILURES, EXIT_WITH_ALERTS = 0, 1, 2, 3, 4, 5
EXIT_STORAGE = 6


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL; give the feed's full address, e.g. https://example.kz/rss.xml")
    return value


def zone(value: str) -> str:
    try:
        load_zone(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error))
    return value


def setting(value: str) -> tuple[str, str]:
    name, sep, setting_value = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{value!r}: write a Scrapy setting as NAME=VALUE, e.g. -s DOWNLOAD_DELAY=1")
    return name, setting_value


def iso_time(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time, e.g. 2022-11-23T09:00:00+00:00")
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def day_or_time(value: str) -> date | datetime:
    """A --since/--until bound: a day (in each site's zone) or an ISO 8601 time."""
    if len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a date, e.g. 2024-03-01")
    return iso_time(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newscrawler", description="News feeds to clean article records (JSONL).")
    commands = parser.add_subparsers(dest="command", required=True)

    crawl = commands.add_parser("crawl", help="crawl the sites of sources.toml, or feeds, and every article they link to")
    add_targets(crawl)
    output = crawl.add_mutually_exclusive_group()
    output.add_argument("-o", "--output", type=Path, help="append records to this JSONL file")
    output.add_argument("-O", "--overwrite-output", type=Path, help="write records to this JSONL file, replacing it")
    crawl.add_argument("--alert-webhook", type=http_url, help="POST the run's drift alerts as JSON to this URL")
    add_distributed(crawl, required=False)
    crawl.add_argument("--forever", action="store_true", help="distributed: keep waiting for work, a new pass every "
                       "NEWSCRAWLER_PASS_INTERVAL s (600)")

    seed = commands.add_parser("seed", help="distributed: queue the start requests of a new pass, fetch nothing")
    add_targets(seed)
    add_distributed(seed, required=True)

    frontier = commands.add_parser("frontier", help="distributed: the shared frontier on Redis")
    frontier_actions = frontier.add_subparsers(dest="action", required=True)
    rebuild = frontier_actions.add_parser("rebuild", help="queue again every URL the state store has pending, and the "
                                          "start requests (after Redis lost its data)")
    add_targets(rebuild)
    add_distributed(rebuild, required=True)
    clear = frontier_actions.add_parser("clear", help="remove every Redis key of the crawl (its queue, leases, fingerprints)")
    add_distributed(clear, required=True)

    status = commands.add_parser("status", help="distributed: queue, leases per worker, records stored, failures by reason")
    add_distributed(status, required=True)
    status.add_argument("--json", action="store_true", help="one JSON object instead of lines")

    export = commands.add_parser("export", help="write the stored record versions to a JSONL or Parquet file")
    export.add_argument("-o", "--output", type=Path, required=True, help="file to write (replaced)")
    export.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl", help="jsonl (default) or parquet")
    export.add_argument("--state", default=".newscrawler", help="state directory, or a postgresql:// URL (default: .newscrawler)")
    export.add_argument("--since", type=iso_time, help="only versions stored at or after this time (ISO 8601)")
    export.add_argument("--site", help="only this site's records")

    sources = commands.add_parser("sources", help="work with the sources file")
    actions = sources.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="validate the sources file without crawling")
    check.add_argument("--config", type=Path, default=DEFAULT_PATH, help=f"sources file (default: ./{DEFAULT_PATH})")

    report = commands.add_parser("report", help="write an HTML report of the latest runs (one file, opens offline)")
    report.add_argument("-o", "--output", type=Path, required=True, help="HTML file to write (replaced)")
    report.add_argument("--state", default=".newscrawler", help="state directory, or a postgresql:// URL (default: .newscrawler)")
    report.add_argument("--runs", type=int, default=30, help="how many of the latest runs (default 30)")
    report.add_argument("--site", help="only this site")

    extract = commands.add_parser("extract", help="print the record of one saved page")
    extract.add_argument("file", type=Path, help="saved HTML page")
    extract.add_argument("--url", type=http_url, required=True, help="the URL the page was fetched from")
    extract.add_argument("--fetched-at", type=iso_time, help="when it was fetched (ISO 8601; default: now)")
    extract.add_argument("--tz", type=zone, help="the site's IANA time zone")
    extract.add_argument("--profile", choices=PROFILES, default="auto")
    return parser


def add_targets(command: argparse.ArgumentParser) -> None:
    """What to crawl and how: shared by crawl, seed and frontier rebuild."""
    command.add_argument("url", nargs="*", type=http_url,
                         help="feed, home page or sitemap URLs, read one after another (default: the sites of --config)")
    command.add_argument("--config", type=Path, help=f"sources file (default: ./{DEFAULT_PATH} when no URL is given)")
    command.add_argument("--site", help="only this site of the sources file")
    command.add_argument("--backfill", action="store_true", help="also every article the sitemaps and archive listings reach")
    command.add_argument("--since", type=day_or_time, help="backfill: articles published on or after this day (or ISO time)")
    command.add_argument("--until", type=day_or_time, help="backfill: articles published up to this day (or before this ISO time)")
    command.add_argument("--tz", type=zone, help="the site's IANA time zone (default: by country domain, .kz -> Asia/Almaty)")
    command.add_argument("--profile", choices=PROFILES, help="extraction profile (default: detect)")
    command.add_argument("--refresh", action="store_true", help="re-fetch every stored article now, not on its schedule")
    command.add_argument("-s", "--set", type=setting, action="append", default=[], metavar="NAME=VALUE", help="a Scrapy setting")
    command.add_argument("-L", "--loglevel", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    command.add_argument("--log-format", choices=("text", "json"), default="text", help="json: one JSON object a log line")


def add_distributed(command: argparse.ArgumentParser, *, required: bool) -> None:
    command.add_argument("--distributed", metavar="REDIS_URL", required=required, type=redis_url,
                         help="one worker of the shared frontier at this Redis (redis://HOST:6379/0); --state must be PostgreSQL")
    command.add_argument("--prefix", default="newscrawler", help="the crawl's Redis key prefix (default: newscrawler)")
    command.add_argument("--state", default=".newscrawler", help="state directory, or a postgresql:// URL (default: .newscrawler)")


def redis_url(value: str) -> str:
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a Redis URL; write redis://HOST:6379/0")
    return value


def run_crawl(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`crawl`, and the distributed `seed` and `frontier rebuild`, which run the same spider without fetching."""
    prestart_workers(args)
    from newscrawler.addresses import parse_allow_list
    from newscrawler.report import format_summary, summarize
    from newscrawler.sources import SourcesError
    from newscrawler.spiders.feed import FeedSpider
    from newscrawler.storage import FINISH_REASON, MESSAGE_STAT

    path: Path | None = getattr(args, "output", None) or getattr(args, "overwrite_output", None)
    check_output(args, path, parser)
    check_crawl_options(args, parser)
    try:
        sources = crawl_sources(args)
    except SourcesError as error:
        print(f"newscrawler: {error}", file=sys.stderr)
        return EXIT_USAGE
    settings = crawl_settings(args, path)
    try:
        parse_allow_list(settings.getlist("NEWSCRAWLER_ALLOWED_ADDRESSES"))
    except ValueError as error:
        parser.error(str(error))
    if blocked := start_problem(path, settings):
        status, message = blocked
        print(f"newscrawler: {message}", file=sys.stderr)
        return status
    if args.command == "frontier":  # a rebuild queues every pending URL again, whatever the lost frontier had seen
        distributed_commands(parser).forget_fingerprints(args)
    with held_state(args.state, parser, shared=bool(args.distributed)) as lock_error:
        if lock_error:
            print(f"newscrawler: {lock_error}", file=sys.stderr)
            return EXIT_LOCKED
        process = crawler_process(settings, args.log_format)
        crawler = process.create_crawler(FeedSpider)
        target = {"url": args.url, "tz": args.tz, "profile": args.profile or "auto"} if sources is None else {"sources": sources}
        process.crawl(crawler, **target, backfill=args.backfill, since=args.since, until=args.until)
        process.start()
    summary = summarize(dict(crawler.stats.get_stats()))
    print(format_summary(summary))
    if summary["finish_reason"] == FINISH_REASON:
        print(f"newscrawler: {crawler.stats.get_value(MESSAGE_STAT)}", file=sys.stderr)
        return EXIT_STORAGE
    if summary["finish_reason"] != "finished":
        return EXIT_NOT_FINISHED
    if summary["alerts"]:
        return EXIT_WITH_ALERTS
    return EXIT_WITH_FAILURES if summary["failures"] else EXIT_OK


def prestart_workers(args: argparse.Namespace) -> None:
    """The extraction workers' forkserver, started before Scrapy is imported: it loads the extraction stack and the
    language model (0.5 s) while this process starts the crawl, so the first pages do not wait for it (workers.py)."""
    from newscrawler.workers import start_forkserver, worker_count

    try:
        count = worker_count(dict(args.set).get("NEWSCRAWLER_EXTRACT_WORKERS"))
    except ValueError:
        return  # the spider reports the setting
    if count > 0:
        start_forkserver()


def check_output(args: argparse.Namespace, path: Path | None, parser: argparse.ArgumentParser) -> None:
    """One JSONL file a run; a distributed crawl writes none (its workers share the store: `newscrawler export`)."""
    if args.distributed:
        if path is not None:
            parser.error("with --distributed the workers share the store and write no JSONL; drop -o/-O and run "
                         "`newscrawler export --state URL -o FILE` to write it")
        if problem := distributed_commands(parser).check_distributed(args.distributed, args.state):
            parser.error(problem)
        return
    if getattr(args, "forever", False):
        parser.error("--forever goes with --distributed; a single run ends when its feeds are done (schedule it instead)")
    if path is None:
        parser.error("give -o FILE (append) or -O FILE (replace) for the records")
    if not path.parent.resolve().is_dir():
        parser.error(f"output directory {path.parent} does not exist; create it or choose another -o path")


def start_problem(output: Path | None, settings: Any) -> tuple[int, str] | None:
    """Why the crawl must not start, with its exit status: an output it cannot write, a JOBDIR of other versions."""
    from newscrawler.jobdir import jobdir_problem

    if output is not None and (problem := unwritable(output)):
        return EXIT_STORAGE, f"{problem}; make it writable or choose another -o path"
    if (jobdir := settings.get("JOBDIR")) and (problem := jobdir_problem(Path(jobdir))):
        return EXIT_USAGE, problem
    return None


def unwritable(output: Path) -> str | None:
    """Why the output file or its directory cannot be written (read-only file system, permissions), or None."""
    for target in (output, output.parent):
        if target.exists():
            if not os.access(target, os.W_OK):
                return f"cannot write {target}: " + ("read-only file system" if is_read_only(target) else "permission denied")
            return None
    return None


def is_read_only(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def check_crawl_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.url and (args.config or args.site):
        parser.error("give a URL or --config/--site, not both")
    if not args.url and (args.tz or args.profile):
        parser.error("--tz and --profile go with a URL; for the sites of a sources file set timezone and profile there")
    if args.since and args.until and as_moment(args.since) > as_moment(args.until):
        parser.error(f"--since {args.since} is after --until {args.until}; swap them")


def as_moment(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time(), UTC)


def crawl_sources(args: argparse.Namespace) -> list[Source] | None:
    """The sites of --config (default ./sources.toml), one or all; None when a URL is given. SourcesError if unusable."""
    from newscrawler.sources import SourcesError, load_sources, select_sources

    if args.url:
        return None
    path = args.config or DEFAULT_PATH
    if args.config is None and not path.exists():
        raise SourcesError(f"no URL given and ./{DEFAULT_PATH} does not exist; give a feed URL, or --config FILE "
                           "(copy sources.example.toml to start one)")
    return select_sources(load_sources(path), args.site, path)


def run_sources(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`sources check`: every mistake of the file, or one line per site; exit 2 on a mistake, as for usage errors."""
    from newscrawler.sources import SourcesError, load_sources

    try:
        sources = load_sources(args.config)
    except SourcesError as error:
        print(f"newscrawler: {error}", file=sys.stderr)
        return EXIT_USAGE
    for source in sources:
        print(f"{source.name}: {source.profile}, {source.zone_name}, {len(source.start_urls)} start URL(s)")
    print(f"{args.config}: {len(sources)} site(s), no mistakes")
    return EXIT_OK


def crawler_process(settings: Any, log_format: str) -> Any:
    """Scrapy's process; for JSON logs, with our handler on the root logger instead of Scrapy's."""
    import logging

    from scrapy.crawler import CrawlerProcess

    from newscrawler.logs import json_log_handler

    if log_format != "json":
        return CrawlerProcess(settings)
    logging.root.addHandler(json_log_handler(settings.get("LOG_LEVEL")))
    logging.root.setLevel(logging.NOTSET)  # as Scrapy does for its own handler: the handler's level filters
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    return CrawlerProcess(settings)


def crawl_settings(args: argparse.Namespace, output: Path | None) -> Any:
    """Project settings, then -s settings, then what the command's own options say."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("newscrawler.settings", priority="project")
    for name, value in args.set:
        settings.set(name, value, priority="cmdline")
    options = {
        "LOG_LEVEL": args.loglevel, "NEWSCRAWLER_STATE": str(args.state), "NEWSCRAWLER_REFRESH": args.refresh,
        "NEWSCRAWLER_LOCK_HELD": True,  # taken below, before Scrapy starts, so a second run fails with a clean message
    }
    if output is not None:
        options |= {"NEWSCRAWLER_OUTPUT": str(output), "NEWSCRAWLER_OUTPUT_OVERWRITE": args.output is None}
    if getattr(args, "alert_webhook", None):
        options["NEWSCRAWLER_ALERT_WEBHOOK"] = args.alert_webhook
    settings.setdict(options, priority="cmdline")
    if args.distributed:
        from newscrawler.distributed import apply_distributed

        apply_distributed(settings, args.distributed, args.prefix, forever=getattr(args, "forever", False),
                          seed_only=args.command != "crawl")
    return settings


@contextmanager
def held_state(location: str, parser: argparse.ArgumentParser, *, shared: bool = False) -> Iterator[str | None]:
    """The run lock on a state that opens cleanly: a usage error for a bad state, the holder's message if locked.
    A `shared` state (the workers of a distributed crawl) is opened and checked, not locked."""
    from newscrawler.state import StateError, make_state
    from newscrawler.state.lock import LockHeld

    try:
        state = make_state(location).open()
        state.close()
        lock = None if shared else state.run_lock().acquire()
    except StateError as error:
        parser.error(str(error))
    except LockHeld as error:
        yield str(error)
        return
    try:
        yield None
    finally:
        if lock is not None:
            lock.release()


def existing_state(location: str, parser: argparse.ArgumentParser) -> Any:
    """The opened store a reading command names; a usage error, not a new empty store, when there is none."""
    from newscrawler.state import StateError, make_state
    from newscrawler.state.postgres import is_postgres_url
    from newscrawler.state.sqlite import DB_NAME

    if not is_postgres_url(location) and not (Path(location) / DB_NAME).is_file():
        parser.error(f"no state in {location}: run `newscrawler crawl ... --state {location}` first, or give --state")
    try:
        return make_state(location).open()
    except StateError as error:
        parser.error(str(error))


def run_export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    state = existing_state(args.state, parser)
    since = args.since.astimezone(UTC).isoformat() if args.since else ""
    lines = state.export_lines(since=since, site=args.site)
    state.close()
    if args.format == "parquet":
        from newscrawler.parquet import ParquetUnavailable, write_parquet

        try:
            write_parquet(lines, args.output)
        except ParquetUnavailable as error:
            parser.error(str(error))
    else:
        args.output.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"{len(lines)} record versions written to {args.output}")
    return EXIT_OK


def run_extract(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from w3lib.encoding import html_to_unicode

    from newscrawler.extract import extract, site_for_url

    try:
        data = args.file.read_bytes()
    except OSError as error:
        parser.error(f"cannot read {args.file}: {error.strerror}")
    _, markup = html_to_unicode(None, data)
    site = site_for_url(args.url, tz=args.tz, profile=args.profile)
    record = extract(markup, args.url, args.fetched_at, site=site)
    print(json.dumps(asdict(record), ensure_ascii=False, sort_keys=True, indent=2))
    return 0


def run_report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        from newscrawler.html_report import ReportError, build_report
    except ImportError as error:
        parser.error(f"the report needs matplotlib ({error.name} is missing): pip install 'newscrawler[report]'")
    state = existing_state(args.state, parser)
    try:
        html = build_report(state, runs=args.runs, site=args.site)
    except ReportError as error:
        parser.error(str(error))
    finally:
        state.close()
    args.output.write_text(html, encoding="utf-8")
    print(f"report of the latest runs written to {args.output}")
    return EXIT_OK


def distributed_commands(parser: argparse.ArgumentParser) -> Any:
    """newscrawler.distributed.commands, or a usage error naming the extra it needs."""
    try:
        from newscrawler.distributed import commands
    except ImportError as error:
        parser.error(f"--distributed needs {error.name}: pip install 'newscrawler[distributed]'")
    return commands


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "status":
        return distributed_commands(parser).run_status(args, parser)
    if args.command == "frontier" and args.action == "clear":
        return distributed_commands(parser).run_clear(args, parser)
    commands = {"crawl": run_crawl, "seed": run_crawl, "frontier": run_crawl, "export": run_export, "report": run_report,
                "extract": run_extract, "sources": run_sources}
    run = commands[args.command]
    return run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
