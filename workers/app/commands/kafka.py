"""`wirewatch kafka init`: create wirewatch's topics on any Kafka cluster, idempotently; `kafka reset-group`:
the way out of a consumer group wedged on the broker.

Stories and matches keep ``kafka.retention_hours``, the dead-letter topics ``kafka.dlq_retention_hours``
(long enough to inspect and replay). A topic that exists is left as it is and reported, with a warning
when it has fewer partitions than configured (consumers of a group beyond that number stay idle).

reset-group, with every daemon of the stage stopped: read the group's committed offsets, delete the group
(a wedged group's state goes with it), join it alone with a fresh member until it holds every partition,
commit the saved offsets, and drop out without a LeaveGroup. The stage then resumes where it was: nothing
skipped, nothing read twice. Deleting alone would lose the offsets and replay the whole retention.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from workers.app.commands import add_config_option, config_dir
from workers.app.configure import load_config
from workers.core.errors import ConfigError, WirewatchError
from workers.core.names import Names
from workers.infra.kafka import client_id, kafka_reachable, make_consumer, new_topic, topic_specs
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


def _stage_group(names: Names, given: str) -> tuple[str, str, str]:
    """(group, its input topic, the daemons to stop) for a group name or a stage name."""
    groups = {
        names.filter_group: (names.stories, "filter"),
        names.alerter_group: (names.matches, "alert"),
    }
    aliases = {"filter": names.filter_group, "alert": names.alerter_group, "alerter": names.alerter_group}
    group = aliases.get(given, given)
    if group not in groups:
        raise ConfigError(
            f"kafka reset-group: unknown group {given!r}; wirewatch's groups are "
            f"{names.filter_group} (filter) and {names.alerter_group} (alert)"
        )
    return group, *groups[group]


def reset_group(args: argparse.Namespace) -> int:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    cfg = load_config(config_dir(args), need=())
    group, topic, role = _stage_group(cfg.names, args.group)
    bootstrap = Env.from_environ().kafka_bootstrap
    if not kafka_reachable(bootstrap, timeout=min(3.0, args.timeout)):  # the client would log retries for long
        raise WirewatchError(f"Kafka not reachable at {bootstrap}; start it or set KAFKA_BOOTSTRAP_SERVERS")
    ms = int(args.timeout * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, client_id="wirewatch-reset", request_timeout_ms=ms, bootstrap_timeout_ms=ms
        )
    except KafkaError as exc:
        raise WirewatchError(f"kafka at {bootstrap} not reachable: {type(exc).__name__}") from None
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
        saved = {tp: o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset >= 0}
        print(f"{group}: committed offsets saved: {_offsets(saved)}")
        # kafka-python 3 answers {group: "OK" or the error's class name}
        error = admin.delete_groups([group]).get(group, "OK")
        if error not in ("OK", "GroupIdNotFoundError"):
            raise WirewatchError(
                f"{group}: the broker refused to delete the group ({error}); stop every `wirewatch {role}` "
                "(and `run`) daemon first"
            )
        print(f"{group}: group deleted")
        parts = {p for t in admin.describe_topics([topic]) for p in (x["partition_index"] for x in t["partitions"])}
        consumer = make_consumer(bootstrap, topic, group, cfg.settings.kafka, client_id("reset-group"))
        try:
            consumer.pause()  # nothing is read, only the assignment is wanted
            deadline = time.monotonic() + args.timeout
            while {tp.partition for tp in consumer.assignment()} != parts and time.monotonic() < deadline:
                consumer.poll(timeout_ms=200)
                consumer.pause(*consumer.assignment())
            held = {tp.partition for tp in consumer.assignment()}
            if held != parts:
                raise WirewatchError(
                    f"{group}: did not get every partition within {args.timeout:g}s (holds {len(held)} of "
                    f"{len(parts)}): another member is in the group; stop every `wirewatch {role}` daemon and run "
                    f"this again (saved offsets: {_offsets(saved)})"
                )
            if saved:
                consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in saved.items()})
        finally:
            consumer.close(autocommit=False)
        restored = admin.list_group_offsets(group).get(group, {})
        if any(tp not in restored or restored[tp].offset != off for tp, off in saved.items()):
            raise WirewatchError(f"{group}: offsets not restored; commit these by hand: {_offsets(saved)}")
    except KafkaError as exc:
        raise WirewatchError(f"{group}: kafka at {bootstrap} failed: {type(exc).__name__}: {exc}") from None
    finally:
        admin.close()
    print(
        f"{group}: offsets restored; start the `wirewatch {role}` daemons again (the group takes them in after "
        f"about kafka.session_timeout_ms)"
    )
    return 0


def _offsets(saved: dict[Any, int]) -> str:
    return " ".join(f"{tp.partition}:{off}" for tp, off in sorted(saved.items(), key=lambda kv: kv[0].partition)) or (
        "none (the group never committed)"
    )


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
    reset_p = actions.add_parser(
        "reset-group",
        help="the way out of a consumer group wedged on the broker (stop the stage's daemons first)",
        description="Delete a consumer group and restore its committed offsets, so its daemons rejoin where they "
        "were. For a group that /readyz and wirewatch_consumer_stalls_total report stalled and that restarting "
        "its daemons does not bring back (the embedded broker can wedge a group; README, Kafka). Stop every "
        "daemon of that stage first.",
    )
    add_config_option(reset_p)
    reset_p.add_argument("group", metavar="GROUP", help="the group (e.g. wirewatch.filter) or its stage: filter, alert")
    reset_p.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS", help="wait this long for the broker (default 60)"
    )
    reset_p.set_defaults(func=reset_group)
