"""`wirewatch subscribers list|test NAME|enable NAME|replay NAME`: endpoint state and recovery.

``list`` shows each endpoint's state (ok, failing since, disabled and why) and its outbox (queued, buffered,
oldest item's age);
``test`` sends one signed ``webhook.test`` message and prints the answer; ``enable`` clears the
disabled state; ``replay`` parks the subscriber's dead-lettered alerts again (see ``dlq replay``).
Secrets are never printed.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from workers.app.commands import add_config_option, config_dir, redis_down
from workers.core.errors import ConfigError, DeliveryError


def run(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    try:
        return _run(args)
    except RedisError as exc:
        raise redis_down(exc) from None


def _run(args: argparse.Namespace) -> int:
    from workers.alerter.endpoints import Endpoints
    from workers.alerter.outbox import Outbox
    from workers.app.configure import load_config
    from workers.infra.redis import make_redis
    from workers.settings.env import Env

    cfg = load_config(config_dir(args), need=("topics", "subscribers"))
    env = Env.from_environ()
    redis: Any = make_redis(env.redis_url, cfg.settings.redis.socket_timeout)  # the alerter's stores take either client
    endpoints = Endpoints(redis, cfg.names, cfg.settings.alerter.disable_after_hours * 3600)
    by_name = {s.name: s for s in cfg.subscribers}
    if args.action == "list":
        depths = Outbox(redis, cfg.names, int(cfg.settings.alerter.dedup_retention_hours * 3600)).depth(
            [s.name for s in cfg.subscribers]
        )
        for s in cfg.subscribers:
            st = endpoints.state(s.name)
            state = (
                f"disabled ({st.reason})"
                if st.disabled
                else (f"failing since {time.ctime(st.failing_since)}" if st.failing_since else "ok")
            )
            print(
                f"{s.name}\t{s.url}\ttopics={','.join(s.topics)}\tqueued={depths[s.name].queued}\t"
                f"buffered={depths[s.name].buffered}\toldest={depths[s.name].oldest_age_s:.0f}s\t{state}"
            )
        return 0
    if not args.name or args.name not in by_name:
        raise ConfigError(f"{config_dir(args)}/subscribers.yaml: no subscriber named {args.name!r}")
    name = args.name
    if args.action == "enable":
        endpoints.enable(name)
        print(f"{name}: enabled")
    elif args.action == "replay":
        from workers.app.commands.dlq import replay_alerts

        if endpoints.state(name).disabled:
            print(f"{name}: still disabled; alerts replayed now will be dead-lettered again (enable it first)")
        print(f"{name}: queued {replay_alerts(env.kafka_bootstrap, redis, cfg.names, name)} alert(s) for delivery")
    else:
        return _test(by_name[name], cfg.secrets[name].get_secret_value(), cfg.settings.alerter.delivery_timeout)
    return 0


def webhook_test_message(subscriber: str) -> tuple[str, bytes]:
    """(webhook-id, body) of a ``webhook.test`` POST (docs/webhook.test.schema.json): a fresh ``msg_`` + 32 hex id
    each time, in the format of every other webhook-id, so a receiver's id check accepts it."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {"schema": 1, "type": "webhook.test", "test_id": msg_id, "subscriber": subscriber, "created_at": created}
    return msg_id, json.dumps(body).encode()


def _test(sub: Any, secret: str, timeout: float) -> int:
    from workers.alerter.webhook import deliver_once

    msg_id, body = webhook_test_message(sub.name)
    try:
        res = deliver_once(sub.name, sub.url, secret, msg_id, body, timeout=timeout, local=sub.local)
    except DeliveryError as exc:
        print(f"{sub.name}: FAILED {exc.reason}")
        return 1
    print(f"{sub.name}: OK {res.status} in {res.elapsed_s * 1000:.0f} ms")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "subscribers",
        help="webhook endpoints: list, test, enable, replay",
        description="Endpoint state and recovery for the subscribers of subscribers.yaml.",
    )
    add_config_option(p)
    p.add_argument("action", choices=["list", "test", "enable", "replay"])
    p.add_argument("name", nargs="?", help="the subscriber (for test, enable, replay)")
    p.set_defaults(func=run)
