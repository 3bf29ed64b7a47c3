"""`wirewatch stories show ID`: the live story cluster of a story id (or of a cluster id ``cl_...``).

Prints the cluster id, how many stories it gathered (what an alert sent now reports as ``duplicates`` + 1)
and its members as the alerter recorded them: story id, feed, URL, first seen. Read from Redis; a story
outside the dedup retention window has no cluster any more (exit 1).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from workers.app.commands import add_config_option, config_dir, redis_down


def run(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    try:
        return _run(args)
    except RedisError as exc:
        raise redis_down(exc) from None


def _run(args: argparse.Namespace) -> int:
    from workers.alerter.dedup import Clusters
    from workers.app.configure import load_config
    from workers.infra.redis import make_redis
    from workers.settings.env import Env

    cfg = load_config(config_dir(args), need=("topics",))
    env = Env.from_environ()
    redis = make_redis(env.redis_url, cfg.settings.redis.socket_timeout)
    clusters = Clusters(redis, cfg.names, int(cfg.settings.alerter.dedup_retention_hours * 3600))
    cluster = args.id if args.id.startswith("cl_") else clusters.of_story(args.id)
    view = clusters.show(cluster) if cluster else None
    if view is None or not view.count:
        print(f"{args.id}: no story cluster within the dedup retention window")
        return 1
    if args.json:
        print(json.dumps({"cluster": view.cluster, "stories": view.count, "members": view.members}, indent=2))
        return 0
    shown = f" ({len(view.members)} kept)" if len(view.members) < view.count else ""
    print(f"cluster {view.cluster}: {view.count} stories{shown}, duplicates={view.count - 1}")
    for m in view.members:
        seen = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(m.get("first_seen", 0)))
        print(f"  {seen}Z\t{m['story']}\t{m.get('feed', '')}\t{m.get('url', '')}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "stories",
        help="show a story's cluster: its copies across feeds",
        description="The story cluster the alerter computed for a story id (or a cluster id cl_...).",
    )
    add_config_option(p)
    p.add_argument("action", choices=["show"])
    p.add_argument("id", help="a story id, or a cluster id (cl_...)")
    p.add_argument("--json", action="store_true", help="print the cluster as JSON")
    p.set_defaults(func=run)
