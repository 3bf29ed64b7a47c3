"""`wirewatch feeds list|health|enable`: the configured feeds, each feed's health as the pollers
recorded it in Redis (state, last success, last error, consecutive errors, next poll), and re-enabling
a feed that a 410 disabled. `health --json` prints one object per feed, for monitoring scripts."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from typing import Any

from redis.exceptions import RedisError

from workers.app.commands import add_config_option, config_dir, redis_down
from workers.core.errors import ConfigError
from workers.core.urls import mask_url


def _ago(ts: float | None, now: float) -> str:
    if ts is None:
        return "-"
    if ts == float("inf"):
        return "never"
    delta = ts - now
    return f"in {delta:.0f}s" if delta >= 0 else f"{-delta:.0f}s ago"


def run_list(args: argparse.Namespace) -> int:
    from workers.app.configure import load_config

    cfg = load_config(config_dir(args), need=("feeds",))
    for f in cfg.feeds:
        tags = ",".join(f.tags) or "-"
        print(f"{f.name}\t{mask_url(f.url)}\tinterval={f.interval:g}s\tlanguage={f.language or '-'}\ttags={tags}")
    return 0


def _stores(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    from workers.app.configure import load_config
    from workers.infra.redis import make_redis
    from workers.poller.feed_health import HealthStore
    from workers.poller.schedule import Schedule
    from workers.settings.env import Env

    cfg = load_config(config_dir(args), need=("feeds",))
    try:  # a cluster client reads the slot map when built
        redis = make_redis(Env.from_environ().redis_url, cfg.settings.redis.socket_timeout)
    except RedisError as exc:
        raise redis_down(exc) from None
    schedule = Schedule(redis, cfg.names, cfg.settings.poller.lease_seconds)
    return HealthStore(redis, cfg.names), schedule, [f.name for f in cfg.feeds]


def run_health(args: argparse.Namespace) -> int:
    health, schedule, names = _stores(args)
    now = time.time()
    try:
        due = schedule.due_times()
        rows = health.get_many(names)
    except RedisError as exc:
        raise redis_down(exc) from None
    if args.json:
        for h in rows:
            print(json.dumps({**asdict(h), "state": h.state, "next_poll": due.get(h.name)}, default=str))
    else:
        print("feed\tstate\tlast_success\tconsecutive_errors\tnext_poll\tlast_error")
        for h in rows:
            print(
                f"{h.name}\t{h.state}\t{_ago(h.last_success, now)}\t{h.consecutive_errors}\t"
                f"{_ago(due.get(h.name), now)}\t{h.disabled or h.last_error or '-'}"
            )
    failing = sum(h.state == "failing" for h in rows)
    return 1 if failing and args.fail_on_errors else 0


def run_enable(args: argparse.Namespace) -> int:
    health, schedule, names = _stores(args)
    if args.name not in names:
        raise ConfigError(f"no feed named {args.name!r} in the config")
    try:
        health.enable(args.name)
        schedule.enable(args.name, time.time())
    except RedisError as exc:
        raise redis_down(exc) from None
    print(f"{args.name}: enabled, due now")
    return 0


def register(sub: Any) -> None:
    feeds = sub.add_parser("feeds", help="list feeds, show their health, re-enable one")
    actions = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_config_option(actions.add_parser("list", help="the configured feeds")).set_defaults(func=run_list)
    health = add_config_option(actions.add_parser("health", help="each feed's health, from Redis"))
    health.add_argument("--json", action="store_true", help="one JSON object per feed")
    health.add_argument("--fail-on-errors", action="store_true", help="exit 1 when a feed is failing")
    health.set_defaults(func=run_health)
    enable = add_config_option(actions.add_parser("enable", help="re-enable a feed disabled by 410 Gone"))
    enable.add_argument("name")
    enable.set_defaults(func=run_enable)
