"""`wirewatch kafka init`: create wirewatch's topics on any Kafka cluster, idempotently.

Stories and matches keep ``kafka.retention_hours``, the dead-letter topics ``kafka.dlq_retention_hours``
(long enough to inspect and replay). A topic that exists is left as it is and reported, with a warning
when it has fewer partitions than configured (consumers of a group beyond that number stay idle).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from workers.app.commands import add_config_option, config_dir
from workers.app.configure import load_config
from workers.core.errors import WirewatchError
from workers.infra.kafka import new_topic, topic_specs
from workers.settings.env import Env

logger = logging.getLogger(__name__)


def init(args: argparse.Namespace) -> int:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    cfg = load_config(config_dir(args), need=())
    kafka = cfg.settings.kafka
    if args.partitions:
        kafka = kafka.model_copy(update={"partitions": args.partitions})
    if args.replication_factor:
        kafka = kafka.model_copy(update={"replication_factor": args.replication_factor})
    bootstrap = Env.from_environ().kafka_bootstrap
    try:
        ms = int(args.timeout * 1000)
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, client_id="wirewatch-init", request_timeout_ms=ms, bootstrap_timeout_ms=ms
        )
    except KafkaError as exc:
        raise WirewatchError(f"kafka at {bootstrap} not reachable: {type(exc).__name__}") from None
    code = 0
    try:
        existing = _partitions(admin)
        for spec in topic_specs(cfg.names, kafka):
            if spec.name in existing:
                have = existing[spec.name]
                note = "" if have >= spec.partitions else f" (fewer than the configured {spec.partitions})"
                print(f"{spec.name}: exists, {have} partitions{note}")
                continue
            try:
                admin.create_topics([new_topic(spec)])
                print(
                    f"{spec.name}: created, {spec.partitions} partitions, replication {spec.replication}, "
                    f"retention {spec.retention_ms // 3_600_000} h"
                )
            except TopicAlreadyExistsError:
                print(f"{spec.name}: exists (created meanwhile by another process)")
            except KafkaError as exc:
                print(f"{spec.name}: FAILED {type(exc).__name__}: {exc}")
                code = 1
    finally:
        admin.close()
    return code


def _partitions(admin: Any) -> dict[str, int]:
    # kafka-python 3 names the field "name"; 2.x called it "topic"
    return {
        t.get("name") or t["topic"]: len(t["partitions"]) for t in admin.describe_topics() if not t.get("error_code")
    }


def register(sub: Any) -> None:
    p = sub.add_parser("kafka", help="Kafka administration", description="Kafka administration for wirewatch.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    init_p = actions.add_parser(
        "init",
        help="create the topics with the configured partitions and retention (idempotent)",
        description="Create wirewatch's topics on $KAFKA_BOOTSTRAP_SERVERS; existing topics are left as they are.",
    )
    add_config_option(init_p)
    init_p.add_argument("--partitions", type=int, help="override settings kafka.partitions")
    init_p.add_argument("--replication-factor", type=int, help="override settings kafka.replication_factor")
    init_p.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="wait this long for the cluster (default 30)"
    )
    init_p.set_defaults(func=init)
