"""`wirewatch dlq list|replay [--stories]`: the dead-letter topics of alerts (default) and of stories.

Replaying alerts parks each one again in the Redis retry queue, due now, under its own webhook-id, so a
running alerter delivers it and a receiver that got it before drops the repeat; alerts already
delivered since are skipped. Replaying stories produces their original bytes to the stories topic, once:
each replayed value is remembered in Redis (its SHA-256, for the dead-letter retention), so a story the
filter dead-letters again is not replayed again by the next run, and the DLQ does not grow run after run.
With Kafka unreachable the command fails at once with one line (exit 1).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import time
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


def replay_alerts(bootstrap: str, redis: Any, names: Any, subscriber: str | None = None) -> int:
    """Park every dead-lettered alert (of one subscriber, or all) again, due now; return how many."""
    from workers.alerter.digest import payload_id
    from workers.alerter.retryqueue import Parked, RetryQueue
    from workers.core.deadletter import parse
    from workers.infra.kafka import read_all

    queue = RetryQueue(redis, names)
    count = 0
    for rec in read_all(bootstrap, names.alerts_dlq):
        payload = parse(rec).get("payload")
        if not isinstance(payload, dict) or "alert" not in payload:
            continue  # a malformed match: nothing to deliver
        if subscriber and payload.get("subscriber") != subscriber:
            continue
        aid = payload_id(payload["alert"])  # an alert's id, or a digest's
        if redis.exists(names.sent(aid)):
            continue
        queue.park(Parked(aid, str(payload["subscriber"]), payload["alert"], 0, "replayed"), time.time())
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
        print(f"parked {replay_alerts(env.kafka_bootstrap, redis, names)} alert(s) for delivery")
        return 0
    from workers.infra.kafka import make_producer, send_all

    messages, marks, skipped = [], {}, 0
    for rec in read_all(env.kafka_bootstrap, topic):
        body = parse(rec)
        raw = body.get("value_b64")
        if not raw or body.get("value_truncated"):  # an oversize record is kept cut: replaying it would be wrong
            continue
        value = base64.b64decode(raw)
        mark = names.replayed(hashlib.sha256(value).hexdigest())
        if mark in marks or redis.exists(mark):
            skipped += 1
            continue
        marks[mark] = True
        messages.append((names.stories, rec.key or b"", value))
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


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dlq", help="list or replay dead letters", description="The alerts (default) or stories dead-letter topic."
    )
    add_config_option(p)
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("--stories", action="store_true", help="the stories dead-letter topic instead of the alerts one")
    p.set_defaults(func=run)
