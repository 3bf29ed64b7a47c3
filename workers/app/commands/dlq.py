"""`wirewatch dlq list|replay [--stories]`: the dead-letter topics of alerts (default) and of stories.

Replaying alerts queues each one again in its subscriber's outbox, due now, under its own webhook-id, so a
running alerter delivers it and a receiver that got it before drops the repeat; a dead letter already
replayed is skipped. Replaying stories produces their original bytes to the stories topic, once:
each replayed value is remembered in Redis (its SHA-256, for the dead-letter retention), so a story the
filter dead-letters again is not replayed again by the next run, and the DLQ does not grow run after run.
Those marks share the ``{dlq}`` hash tag, so a run reads and writes them in one-slot pipelines (Redis Cluster);
marks written before the tag (``legacy_replayed``) are still honoured on a standalone Redis, the only place
they can be, until they expire (one dead-letter retention).
With Kafka unreachable the command fails at once with one line (exit 1).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from workers.app.commands import add_config_option, config_dir, redis_down
from workers.core.errors import WirewatchError


def _context(args: argparse.Namespace) -> Any:
    from workers.app.configure import load_config
    from workers.infra.kafka import kafka_reachable
    from workers.infra.redis import make_redis
    from workers.settings.env import Env

    cfg = load_config(config_dir(args), need=("topics",))
    env = Env.from_environ()
    if not kafka_reachable(env.kafka_bootstrap, timeout=3.0):  # the Kafka client would retry for 30 s
        raise WirewatchError(f"Kafka not reachable at {env.kafka_bootstrap}; start it or set KAFKA_BOOTSTRAP_SERVERS")
    return cfg, env, make_redis(env.redis_url, cfg.settings.redis.socket_timeout)


def replay_alerts(
    bootstrap: str,
    redis: Any,
    names: Any,
    subscriber: str | None = None,
    only: Callable[[dict[str, Any]], bool] | None = None,
    ttl: int = 30 * 86400,
) -> int:
    """Queue every dead-lettered alert (of one subscriber, or all; ``only`` picks among their envelopes, as the web
    portal's replay of one alert or a time range does) again in its subscriber's outbox, due now; return how
    many. Each dead letter is replayed once (its SHA-256 is remembered for ``ttl``): one that is dead-lettered
    again is a new dead letter, replayed by the next run."""
    from workers.alerter.digest import payload_id
    from workers.alerter.outbox import Item, Outbox
    from workers.core.deadletter import parse
    from workers.infra.kafka import read_all

    outbox = Outbox(redis, names, 3600)
    count = 0
    for rec in read_all(bootstrap, names.alerts_dlq):
        body = parse(rec)
        payload = body.get("payload")
        if not isinstance(payload, dict) or "alert" not in payload:
            continue  # a malformed match: nothing to deliver
        if subscriber and payload.get("subscriber") != subscriber:
            continue
        if only is not None and not only(body):
            continue
        mark = names.replayed(hashlib.sha256(rec.value or b"").hexdigest())
        if redis.exists(mark):
            continue
        alert = payload["alert"]
        clusters = [a.get("cluster", {}).get("id", "") for a in alert.get("alerts", [alert])]
        item = Item(payload_id(alert), str(payload["subscriber"]), alert, 0, "replayed", time.time(), clusters)
        outbox.put(item)
        redis.set(mark, 1, ex=ttl)  # after the put: a failed put is replayed next time
        count += 1
    return count


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except RedisError as exc:
        raise redis_down(exc) from None


def _run(args: argparse.Namespace) -> int:
    from workers.core.deadletter import parse
    from workers.infra.kafka import read_all

    cfg, env, redis = _context(args)
    names = cfg.names
    topic = names.stories_dlq if args.stories else names.alerts_dlq
    if args.action == "list":
        for rec in read_all(env.kafka_bootstrap, topic):
            body = parse(rec)
            who = (body.get("payload") or {}).get("subscriber", "-") if isinstance(body.get("payload"), dict) else "-"
            print(f"{rec.partition}:{rec.offset}\t{(rec.key or b'').decode(errors='replace')}\t{who}\t{body['reason']}")
        return 0
    if not args.stories:
        ttl = int(cfg.settings.kafka.dlq_retention_hours * 3600)
        print(f"queued {replay_alerts(env.kafka_bootstrap, redis, names, ttl=ttl)} alert(s) for delivery")
        return 0
    from workers.infra.kafka import make_producer, send_all

    letters = []
    for rec in read_all(env.kafka_bootstrap, topic):
        body = parse(rec)
        raw = body.get("value_b64")
        if raw and not body.get("value_truncated"):  # an oversize record is kept cut: replaying it would be wrong
            value = base64.b64decode(raw)
            letters.append((rec.key or b"", value, hashlib.sha256(value).hexdigest()))
    replayed = _replayed(redis, names, {digest for _, _, digest in letters})
    messages, marks, skipped = [], {}, 0
    for key, value, digest in letters:
        if digest in replayed or names.replayed(digest) in marks:
            skipped += 1
            continue
        marks[names.replayed(digest)] = True
        messages.append((names.stories, key, value))
    producer = make_producer(env.kafka_bootstrap, "wirewatch-dlq-replay")
    try:
        send_all(producer, messages)
    finally:
        producer.close()
    ttl = int(cfg.settings.kafka.dlq_retention_hours * 3600)
    with redis.pipeline(transaction=False) as pipe:  # after Kafka acknowledged: a failed send is replayed next time
        for mark in marks:
            pipe.set(mark, 1, ex=ttl)
        pipe.execute()
    print(f"produced {len(messages)} story message(s) to {names.stories}; {skipped} already replayed")
    return 0


def _replayed(redis: Any, names: Any, digests: set[str]) -> set[str]:
    """The digests already replayed: their marks in the {dlq} slot, then (standalone only) the old marks."""
    from workers.infra.redis import is_cluster

    ordered = sorted(digests)
    with redis.pipeline(transaction=False) as pipe:
        for digest in ordered:
            pipe.exists(names.replayed(digest))
        found = {d for d, hit in zip(ordered, pipe.execute(), strict=True) if hit}
    rest = [d for d in ordered if d not in found]
    if rest and not is_cluster(redis):  # the previous version never ran on a cluster
        with redis.pipeline(transaction=False) as pipe:
            for digest in rest:
                pipe.exists(names.legacy_replayed(digest))
            found |= {d for d, hit in zip(rest, pipe.execute(), strict=True) if hit}
    return found


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dlq", help="list or replay dead letters", description="The alerts (default) or stories dead-letter topic."
    )
    add_config_option(p)
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("--stories", action="store_true", help="the stories dead-letter topic instead of the alerts one")
    p.set_defaults(func=run)
