"""`wirewatch kafka reset-group`, the way out of a wedged group, on the real embedded broker: the group is
deleted and its committed offsets restored, so its consumers resume where they were; mistakes are one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.structs import OffsetAndMetadata, TopicPartition

from tests.support import ROOT, wait_until
from workers.core.names import Names
from workers.devstack.stack import free_port
from workers.infra.kafka import ensure_topics, make_consumer, topic_specs
from workers.settings.config import KafkaSettings

pytestmark = pytest.mark.integration


def wirewatch(*args: str, bootstrap: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        timeout=120,
    )


@pytest.fixture
def cfg(make_config: Any) -> Path:
    return make_config(
        feeds=[{"name": "f", "url": "http://127.0.0.1:1/f.xml"}], settings={"kafka": {"session_timeout_ms": 3000}}
    )  # type: ignore[no-any-return]


def test_reset_group_restores_the_committed_offsets(bootstrap: str, names: Names, cfg: Path) -> None:
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for i in range(8):
        producer.send(names.stories, key=b"k", value=f"r{i}".encode(), partition=i % 2).get(timeout=30)
    producer.close()
    tp0, tp1 = TopicPartition(names.stories, 0), TopicPartition(names.stories, 1)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.alter_group_offsets(
            names.filter_group, {tp0: OffsetAndMetadata(3, "", -1), tp1: OffsetAndMetadata(1, "", -1)}
        )
        proc = wirewatch("kafka", "reset-group", "filter", "--config", str(cfg), bootstrap=bootstrap)
        assert proc.returncode == 0, proc.stderr
        assert f"{names.filter_group}: committed offsets saved: 0:3 1:1" in proc.stdout
        assert f"{names.filter_group}: group deleted" in proc.stdout
        assert "offsets restored; start the `wirewatch filter` daemons again" in proc.stdout
        after = admin.list_group_offsets(names.filter_group)[names.filter_group]
        assert {tp: o.offset for tp, o in after.items()} == {tp0: 3, tp1: 1}
    finally:
        admin.close()
    # a consumer of the group resumes there: nothing skipped, nothing read again
    consumer = make_consumer(
        bootstrap, names.stories, names.filter_group, KafkaSettings(session_timeout_ms=3000), "test-reset"
    )
    seen: dict[int, list[int]] = {0: [], 1: []}
    try:

        def all_read() -> bool:
            for recs in consumer.poll(timeout_ms=200).values():
                for r in recs:
                    seen[r.partition].append(r.offset)
            return len(seen[0]) + len(seen[1]) >= 4

        wait_until(all_read, timeout=40, interval=0, what="the records after the restored offsets")
    finally:
        consumer.close(autocommit=False)
    assert seen == {0: [3], 1: [1, 2, 3]}


def test_reset_group_mistakes_are_one_line(bootstrap: str, cfg: Path) -> None:
    unknown = wirewatch("kafka", "reset-group", "nope", "--config", str(cfg), bootstrap=bootstrap)
    assert unknown.returncode == 2 and "unknown group 'nope'" in unknown.stderr, unknown.stderr
    down = wirewatch(
        "kafka", "reset-group", "alert", "--timeout", "1", "--config", str(cfg), bootstrap=f"127.0.0.1:{free_port()}"
    )
    assert down.returncode == 1 and "Kafka not reachable at" in down.stderr, down.stderr
    for proc in (unknown, down):
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2, proc.stderr
