"""Group membership on the real embedded broker: a consumer that stops sends no LeaveGroup (the request that
wedges a Tansu group during a rebalance, issue 12) and its partitions still move to the survivor within about a
session timeout; the group watch reports a group that lags without progress, once, and its recovery."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import REGISTRY

from tests.support import wait_until
from workers.infra.groupwatch import GroupWatch
from workers.infra.kafka import make_consumer
from workers.settings.config import KafkaSettings

pytestmark = pytest.mark.integration

SESSION_MS = 3000


def new_topic(bootstrap: str, partitions: int) -> str:
    topic = f"member-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        admin.close()
    return topic


class Member(threading.Thread):
    """A consumer polled by a thread of its own (kafka-python clients are not thread-safe): members join
    together only while each keeps polling."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        super().__init__(daemon=True)
        self.consumer = consumer
        self.held: set[int] = set()
        self.stop = threading.Event()
        self.closed = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.consumer.poll(timeout_ms=100)
                self.held = {tp.partition for tp in self.consumer.assignment()}
        finally:
            self.consumer.close(autocommit=False)  # what a daemon does on SIGTERM
            self.closed.set()

    def close(self) -> None:
        self.stop.set()
        self.closed.wait(30)


@pytest.mark.parametrize("leave", [False, True])
def test_a_closed_member_leaves_the_group_only_when_configured(
    bootstrap: str, leave: bool, caplog: pytest.LogCaptureFixture
) -> None:
    topic = new_topic(bootstrap, 4)
    group = f"g-{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(session_timeout_ms=SESSION_MS, leave_group_on_close=leave)
    a = Member(make_consumer(bootstrap, topic, group, settings, "member-a"))
    b = Member(make_consumer(bootstrap, topic, group, settings, "member-b"))
    a.start()
    b.start()
    try:
        wait_until(lambda: len(a.held) == len(b.held) == 2, timeout=30, what="both members holding two partitions")
        caplog.set_level(logging.INFO, logger="kafka")
        a.close()
        stopped = time.monotonic()
        left = [r for r in caplog.records if r.getMessage().startswith("Leaving consumer group")]
        assert bool(left) is leave
        if leave:
            return  # the handover after a leave is the broker's business; only the request was in question
        wait_until(lambda: b.held == {0, 1, 2, 3}, timeout=30, interval=0.05, what="the survivor holding all")
        moved = time.monotonic() - stopped
        # the coordinator drops the silent member after one session timeout, then the survivor rejoins
        print(f"partitions moved to the survivor {moved:.1f}s after the close (session {SESSION_MS} ms)")
        assert SESSION_MS / 1000 * 0.8 < moved < SESSION_MS / 1000 * 3, moved
    finally:
        a.close()
        b.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stalls(group: str) -> float:
    return REGISTRY.get_sample_value("wirewatch_consumer_stalls_total", {"group": group}) or 0.0


def test_the_group_watch_reports_lag_without_progress_once_and_then_the_recovery(
    bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The probe on the real broker (lag from committed offsets and the topic ends), the bound on a fake clock."""
    topic = new_topic(bootstrap, 2)
    group = f"g-{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for i in range(6):
        producer.send(topic, key=b"k", value=f"v{i}".encode(), partition=i % 2)
    producer.flush()
    producer.close()
    clock = Clock()
    watch = GroupWatch(bootstrap, group, topic, KafkaSettings(session_timeout_ms=SESSION_MS), clock=clock)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    caplog.set_level(logging.INFO, logger="workers.infra.groupwatch")
    try:
        watch.probe()  # no member, nothing committed: the whole topic is lag
        lag = watch.detector.check().lag
        assert watch.ready and 0 < lag <= 6  # Tansu's ListOffsets under-reports the end of a multi-record batch
        clock.now += watch.detector.bound_s + 1
        for _ in range(3):  # three probes over the bound: one error line, one count
            watch.probe()
        assert not watch.ready
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert f"consumer group stalled group={group} lag={lag}" in errors[0]
        assert "holds no partitions" in errors[0] and "reset-group" in errors[0]
        assert stalls(group) == 1
        assert REGISTRY.get_sample_value("wirewatch_consumer_stalled", {"group": group}) == 1
        admin.alter_group_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(1, "", -1)})
        watch.probe()  # the group committed something: it is consuming again
        assert watch.ready
        assert REGISTRY.get_sample_value("wirewatch_consumer_stalled", {"group": group}) == 0
        assert any(f"consumer group progressing again group={group}" in r.getMessage() for r in caplog.records)
        assert stalls(group) == 1
    finally:
        watch.close()
        admin.close()
