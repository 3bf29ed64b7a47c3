"""`wirewatch topics stats [TOPIC...] [--hours N] [--json]`: each topic's last 24 hours from the alerter's spike
detector in Redis: story clusters per hour (and per window), what the baseline expected, the open window against
its threshold, and the spikes reported. Read only: it never writes the detector's state."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from workers.app.commands import add_config_option, config_dir, redis_down
from workers.core.errors import ConfigError


def stats(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    try:
        return _stats(args)
    except RedisError as exc:
        raise redis_down(exc) from None


def _stats(args: argparse.Namespace) -> int:
    from workers.alerter.topicspikes import params_of, read_states
    from workers.alerter.topicspikes import stats as topic_stats
    from workers.app.configure import load_config
    from workers.infra.redis import make_redis
    from workers.settings.env import Env

    cfg = load_config(config_dir(args), need=("topics",))
    known = [t.name for t in cfg.topics]
    if unknown := [t for t in args.topic if t not in known]:
        raise ConfigError(f"no topic {', '.join(map(repr, unknown))} in topics.yaml (topics: {', '.join(known)})")
    wanted = args.topic or known
    params = params_of(cfg.settings.alerter.spikes)
    redis = make_redis(Env.from_environ().redis_url, cfg.settings.redis.socket_timeout)
    try:
        states = read_states(redis, cfg.names, wanted)
    finally:
        redis.close()
    now = time.time()
    out = {t: topic_stats(states.get(t, {}), now, params, args.hours) for t in wanted}
    if args.json:
        print(json.dumps({"hours": args.hours, "topics": out}, ensure_ascii=False, indent=1))
        return 0
    for topic, s in out.items():
        print(_summary(topic, s, topic in states))
        if topic in states and s["total"]:
            for row in s["hours"]:
                if row["count"] or row["baseline"] >= 0.05:
                    windows = " ".join(str(n) for n in row["windows"])
                    hour = row["start"][:16].replace("T", " ")
                    print(f"  {hour}  {row['count']:>5}  {row['baseline']:>8.1f}  {windows}")
        for spike in s["spikes"]:
            b = spike["baseline"]
            print(f"  spike {spike['start']}: {spike['count']} clusters, baseline mean {b['mean']} sd {b['sd']}")
    return 0


def _summary(topic: str, s: dict[str, Any], counted: bool) -> str:
    if not counted:
        return f"{topic}: no story cluster counted (or none for {s['window_minutes']}-minute windows)"
    w = s["open_window"]
    spiking = ", SPIKING" if w["spiking"] else ""
    return (
        f"{topic}: {s['total']} clusters in {len(s['hours'])} h (baseline {s['expected']:.1f}); open window "
        f"{w['count']}/{w['threshold']:.1f}{spiking}; {len(s['spikes'])} spikes"
        + ("\n  hour (UTC)        count  baseline  per window" if s["total"] else "")
    )


def register(actions: Any) -> None:
    st = actions.add_parser(
        "stats",
        help="each topic's last 24 h of story clusters, baseline and spikes (from Redis)",
        description="Story clusters per hour and per window, the baseline's expectation, the open window against "
        "its spike threshold and the spikes reported, for each topic (or the TOPICs given), from the alerter's "
        "state in Redis. Hours with nothing counted and nothing expected are left out of the table.",
    )
    add_config_option(st)
    st.add_argument("topic", metavar="TOPIC", nargs="*", help="only these topics (default: every topic)")
    st.add_argument("--hours", type=_hours, default=24, help="clock hours to show, the current one last (1-24)")
    st.add_argument("--json", action="store_true", help="JSON: {hours, topics: {name: {total, hours, spikes...}}}")
    st.set_defaults(func=stats)


def _hours(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of hours") from None
    if not 1 <= n <= 24:
        raise argparse.ArgumentTypeError(f"{n} is not within 1-24 (the detector keeps 24 hours)")
    return n
