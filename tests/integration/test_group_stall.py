"""The group-stall loop on the real embedded broker (issue 12, case 9): two filters and two alerters as real
daemons; each round a replica of each stage joins (the groups rebalance) and, while they do, an old one is stopped
with SIGTERM. Either the groups go on (every alert of the round arrives), or the stall is reported within the bound
(``/readyz`` group check false and ``wirewatch_consumer_stalls_total``) and `wirewatch kafka reset-group` gets the
stage going again. In the end every expected alert has arrived, once per (subscriber, story) webhook-id.

``WIREWATCH_TEST_STALL_LEAVE=1`` runs the daemons with ``kafka.leave_group_on_close: true``, which wedges Tansu
groups in some rounds, to see the detection and the way out on real stalls; ``WIREWATCH_TEST_STALL_ROUNDS`` sets
the number of rounds (3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.stage_support import SUBSCRIBERS, Replica, alerts, good_story, produce_stories, replica_starter, subscribers
from tests.support import ROOT, Daemon
from workers.core.names import Names
from workers.devstack.receiver import Receiver
from workers.infra.stall import probe_interval, stall_bound

pytestmark = pytest.mark.integration

SESSION_MS = 3000
BOUND = stall_bound(SESSION_MS, probe_interval(SESSION_MS))  # 10.5 s
ROUNDS = int(os.environ.get("WIREWATCH_TEST_STALL_ROUNDS", "3"))
LEAVE = os.environ.get("WIREWATCH_TEST_STALL_LEAVE") == "1"
PER_ROUND = 10


def started(replica: Replica) -> bool:
    return " started kafka=" in replica.daemon.output()


def wait_for(predicate: Callable[[], Any], until: float, interval: float = 0.25) -> bool:
    while time.monotonic() < until:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


@pytest.mark.timeout(900 if LEAVE else 180)  # real stalls, each stage stopped, reset and started again
def test_a_replica_stopped_during_a_rebalance_never_stalls_a_group_unseen(
    make_config: Any,
    daemons: Callable[..., Daemon],
    daemon_env: dict[str, str],
    receiver: Receiver,
    bootstrap: str,
    names: Names,
) -> None:
    cfg = make_config(
        feeds=[{"name": "wire", "url": "http://127.0.0.1:1/wire.xml"}],
        subscribers=subscribers(receiver.url),  # type: ignore[attr-defined]
        settings={"kafka": {"partitions": 4, "session_timeout_ms": SESSION_MS, "leave_group_on_close": LEAVE}},
    )
    start = replica_starter(daemons, cfg)
    stages: dict[str, list[Replica]] = {"filter": [start("filter"), start("filter")], "alert": []}
    stages["alert"] = [start("alert"), start("alert")]
    groups = {"filter": names.filter_group, "alert": names.alerter_group}
    expected: set[str] = set()
    report: list[dict[str, Any]] = []

    def delivered() -> bool:
        got = alerts(receiver)
        return all(expected <= set(got[s]) for s in SUBSCRIBERS)

    def stalled_replicas(role: str) -> list[Replica]:
        return [r for r in stages[role] if r.group_ready(groups[role]) is False]

    # the first alert of a story produced before the rounds: every replica has joined
    warm = [good_story(0, "warm")]
    expected |= {s.id for s in warm}
    produce_stories(bootstrap, names, warm)
    assert wait_for(delivered, time.monotonic() + 90), alerts(receiver)

    for rnd in range(ROUNDS):
        joining = {role: start(role) for role in stages}
        assert wait_for(lambda j=joining: all(started(r) for r in j.values()), time.monotonic() + 60)
        time.sleep(SESSION_MS / 1000 / 4)  # the new members' JoinGroup is in: the groups are rebalancing
        leaving = {role: stages[role].pop(0) for role in stages}
        for r in leaving.values():
            r.daemon.proc.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        for role, r in joining.items():
            stages[role].append(r)
        batch = [good_story(i, f"round{rnd}") for i in range(PER_ROUND)]
        expected |= {s.id for s in batch}
        produce_stories(bootstrap, names, batch)
        for r in leaving.values():
            assert r.daemon.proc.wait(40) == 0, r.daemon.output()[-2000:]

        seen: dict[str, float] = {}  # role -> seconds from the SIGTERM to a replica reporting the stall

        def progressed_or_reported(seen: dict[str, float] = seen, stopped_at: float = stopped_at) -> bool:
            if delivered():
                return True
            for role in stages:
                if role not in seen and stalled_replicas(role):
                    seen[role] = time.monotonic() - stopped_at
            return False

        ok = wait_for(progressed_or_reported, stopped_at + BOUND + 3 * probe_interval(SESSION_MS) + 5)
        row: dict[str, Any] = {"round": rnd, "delivered": ok, "reported": {k: round(v, 1) for k, v in seen.items()}}
        if ok:
            row["delivered_after_s"] = round(time.monotonic() - stopped_at, 1)
        print(f"round {rnd}: {row}", flush=True)
        if not ok:
            # a stall: every stalled stage must have said so, within the bound, in /readyz and the metric
            assert seen, f"round {rnd}: alerts missing and no replica reports a stall: {alerts(receiver)}"
            for role, after in seen.items():
                assert after <= BOUND + 2 * probe_interval(SESSION_MS) + 1, (role, after)
                assert all(r.stalls(groups[role]) >= 1 for r in stalled_replicas(role)), role
            for role in seen:  # the way out: stop the stage, reset its group, start it again
                for r in stages[role]:
                    assert r.daemon.terminate() == 0
                proc = subprocess.run(
                    [sys.executable, "-m", "workers", "kafka", "reset-group", role, "--config", str(cfg)],
                    capture_output=True,
                    text=True,
                    env=daemon_env,
                    cwd=ROOT,
                    timeout=120,
                )
                assert proc.returncode == 0, proc.stderr
                stages[role] = [start(role), start(role)]
            assert wait_for(delivered, time.monotonic() + 90), alerts(receiver)
            row["recovered_by_reset"] = sorted(seen)
        report.append(row)

    assert wait_for(delivered, time.monotonic() + 60), alerts(receiver)
    for replicas in stages.values():
        for r in replicas:
            assert r.daemon.proc.poll() is None, r.daemon.output()[-2000:]
    got = alerts(receiver)
    for s in SUBSCRIBERS:
        assert set(got[s]) == expected, s
    by_id: dict[str, set[tuple[str, str]]] = {}
    for r in list(receiver.received):
        by_id.setdefault(r.webhook_id, set()).add((r.path, r.json["story"]["id"]))
    assert all(len(v) == 1 for v in by_id.values()), "a webhook-id names one (subscriber, story)"
    print(f"group-stall loop leave={LEAVE} bound={BOUND}s rounds={report}")
