"""`newscrawler status` and `newscrawler frontier clear`, and the checks every distributed command makes first."""

from __future__ import annotations

import argparse
import json
from typing import Any

from redis.exceptions import RedisError

from newscrawler.distributed.frontier import Frontier
from newscrawler.distributed.redis import redis_client
from newscrawler.state.postgres import is_postgres_url


def check_distributed(redis_url: str, state: str) -> str | None:
    """Why a distributed command cannot start: a store the workers cannot share, or a Redis that does not answer."""
    if not is_postgres_url(state):
        return (f"--distributed needs a shared state store: give --state postgresql://USER@HOST/DB (got {state}); "
                "a state directory belongs to one machine")
    return redis_problem(redis_url)


def redis_problem(redis_url: str) -> str | None:
    try:
        redis_client(redis_url).ping()
    except RedisError as error:
        return f"Redis at {redis_url} does not answer ({error}); start it, or check the --distributed URL"
    return None


def open_frontier(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Frontier:
    if problem := redis_problem(args.distributed):
        parser.error(problem)
    return Frontier(redis_client(args.distributed), args.prefix, lease_seconds=0)


def run_status(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from newscrawler.cli import existing_state
    from newscrawler.state.runs import failure_examples

    if problem := check_distributed(args.distributed, args.state):
        parser.error(problem)
    frontier = open_frontier(args, parser).status()
    state = existing_state(args.state, parser)
    try:
        counts = state.counts()
        failures = {reason: count for reason, (count, _) in failure_examples(state, per_reason=0).items()}
    finally:
        state.close()
    report = {
        "queued": frontier.queued, "pass": frontier.epoch, "seeding": frontier.seeding,
        "fingerprints": frontier.fingerprints,
        "workers": {worker: {"leases": frontier.leases.get(worker, 0), "heartbeat_seconds_ago": round(age, 1)}
                    for worker, age in frontier.heartbeats.items()},
        "urls": {key: value for key, value in counts.items() if key != "record_versions"},
        "record_versions": counts.get("record_versions", 0),
        "failures": dict(sorted(failures.items(), key=lambda item: -item[1])),
    }
    print(json.dumps(report, ensure_ascii=False) if args.json else format_status(report))
    return 0


def format_status(report: dict[str, Any]) -> str:
    workers = report["workers"]
    lines = [
        f"pass {report['pass'] or 'none'}{' (seeding: ' + report['seeding'] + ')' if report['seeding'] else ''}, "
        f"{report['queued']} requests queued, {sum(w['leases'] for w in workers.values())} leased, "
        f"{report['fingerprints']} fingerprints",
        *(f"worker {name}: {info['leases']} leases, heartbeat {info['heartbeat_seconds_ago']} s ago"
          for name, info in sorted(workers.items())),
        "urls: " + (", ".join(f"{state} {count}" for state, count in sorted(report["urls"].items())) or "none"),
        f"record versions stored: {report['record_versions']}",
        "failures: " + (", ".join(f"{reason} {count}" for reason, count in report["failures"].items()) or "none"),
    ]
    return "\n".join(lines)


def forget_fingerprints(args: argparse.Namespace) -> None:
    Frontier(redis_client(args.distributed), args.prefix, lease_seconds=0).forget_fingerprints()


def run_clear(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    frontier = open_frontier(args, parser)
    frontier.clear()
    print(f"removed the Redis keys of {args.prefix} at {args.distributed}")
    return 0
