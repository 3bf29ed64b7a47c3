"""Signals sent to real daemon processes: SIGTERM mid-stream (exit 0 within the bound, offsets
committed, nothing lost or repeated after a restart), SIGHUP with a new topic and subscriber (alerts
without a restart), SIGHUP with a broken topics file (the running config is kept, the error logged),
SIGTERM during start-up, and `honcho start` on the Procfile stopped by SIGTERM (each daemon rc=0)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.test_pipeline import nk_items, posts_for, servers, slow_stream, subscriber  # noqa: F401 - servers is a fixture
from tests.ops_support import json_lines
from tests.support import ROOT, group_caught_up, read_topic, rss, wait_until
from workers.devstack.feedserver import Route

SHUTDOWN_TIMEOUT = "10"


def committed(bootstrap: str, group: str, topic: str) -> int:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
        return sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset > 0)
    finally:
        admin.close()


@pytest.mark.integration
def test_sigterm_mid_stream_exits_0_commits_and_loses_nothing(servers, make_config, daemons, bootstrap, names, redis):  # type: ignore[no-untyped-def]  # noqa: F811
    receiver = servers[1]
    n = 24
    items = nk_items(n)
    # 0.5 s an alert, 4 at once: the lane is still draining the outbox when the signal comes (since the outbox,
    # a batch no longer waits for its deliveries, so a faster receiver had them all before the signal)
    cfg = slow_stream(servers, make_config, items, delay=0.5)
    env = {"WIREWATCH_SHUTDOWN_TIMEOUT": SHUTDOWN_TIMEOUT}
    daemons("poll", cfg, **env)
    filt = daemons("filter", cfg, **env)
    alert = daemons("alert", cfg, **env)

    wait_until(lambda: len(receiver.received) >= 3, 60, what="the first alerts")
    assert alert.terminate(timeout=float(SHUTDOWN_TIMEOUT) + 10) == 0, alert.output()[-2000:]
    delivered = len(receiver.received)
    assert delivered < n, "the signal must come mid-stream"
    # A committed offset covers an alert delivered before the exit or waiting in its subscriber's outbox, no more.
    waiting = sum(redis.zcard(k) for k in redis.scan_iter(f"{names.key_prefix}{{s:*}}:q"))
    assert committed(bootstrap, names.alerter_group, names.matches) == delivered + waiting
    assert "alerter stopped" in alert.output()

    wait_until(lambda: group_caught_up(bootstrap, names.filter_group, names.stories), 30, what="filter caught up")
    assert filt.terminate(timeout=float(SHUTDOWN_TIMEOUT) + 10) == 0  # every story is filtered: no restart needed
    daemons("alert", cfg, **env)
    wait_until(lambda: len(receiver.unique()) >= n, 60, what=f"all {n} alerts")
    wait_until(lambda: group_caught_up(bootstrap, names.alerter_group, names.matches), 30, what="alerter caught up")

    assert len(receiver.received) == n, "a graceful stop repeats nothing"
    assert {r.json["story"]["url"] for r in receiver.received} == {it["link"] for it in items}
    assert len(read_topic(bootstrap, names.matches, n, timeout=3)) == n, "the filter stopped without repeats"


@pytest.mark.integration
def test_sighup_reloads_feeds_topics_subscribers_and_keeps_them_on_a_broken_file(servers, make_config, daemons):  # type: ignore[no-untyped-def]  # noqa: F811
    feeds, receiver, rurl = servers
    volcano_story = {
        "title": "Krakatoa erupts again",
        "link": "http://127.0.0.1/wire/krakatoa",
        "guid": "krakatoa-1",
        "description": "The Krakatoa volcano erupted on Sunday, sending ash two kilometres high.",
    }
    second = {
        **volcano_story,
        "link": "http://127.0.0.1/wire/krakatoa-2",
        "guid": "krakatoa-2",
        "title": "Krakatoa ash closes airports",
        "description": "Ash from Krakatoa closed two airports.",
    }
    feeds.routes["/wire.xml"] = Route(rss(nk_items(1)))
    cfg = make_config(
        feeds=[{"name": "wire", "url": feeds.url("/wire.xml"), "interval": 1}],
        subscribers=[subscriber("dprk-desk", rurl, ["dprk"])],
    )
    poll = daemons("poll", cfg)
    filt = daemons("filter", cfg)
    alert = daemons("alert", cfg)
    wait_until(lambda: posts_for(receiver, "dprk-desk"), 60, what="the first alert")

    # A new feed, a new topic and a subscriber for it; SIGHUP all three daemons.
    feeds.routes["/volcano.xml"] = Route(rss([volcano_story]))
    feed_list = (cfg / "feeds.yaml").read_text()
    (cfg / "feeds.yaml").write_text(
        feed_list + f"- {{name: volcano, url: '{feeds.url('/volcano.xml')}', interval: 1}}\n"
    )
    topics = (ROOT / "config" / "topics.yaml").read_text(encoding="utf-8")
    (cfg / "topics.yaml").write_text(topics + "\n  volcano:\n    terms: [Krakatoa]\n", encoding="utf-8")
    subs = (cfg / "subscribers.yaml").read_text()
    (cfg / "subscribers.yaml").write_text(
        subs + f"- {{name: volcano-desk, url: '{rurl}/hooks/volcano-desk', secret_env: WIREWATCH_TEST_SECRET, "
        "topics: [volcano], local: true}\n"
    )
    procs = (poll, filt, alert)
    pids = [d.proc.pid for d in procs]
    for d in (filt, alert):  # the consumers first, so the new feed's story cannot meet the old topics
        d.proc.send_signal(signal.SIGHUP)
    for d in (filt, alert):
        wait_until(lambda d=d: "config reloaded" in d.output(), 30, what=f"{d.role} reload")
    poll.proc.send_signal(signal.SIGHUP)
    alerted = wait_until(lambda: posts_for(receiver, "volcano-desk"), 60, what="the alert of the new feed and topic")
    assert alerted[0].json["story"]["feed"] == "volcano"
    assert [d.proc.pid for d in procs] == pids and all(d.proc.poll() is None for d in procs)
    assert "config reloaded role=poll feeds=2" in poll.output()

    # A broken topics file: the filter logs the error with the file and keeps matching with the old topics.
    (cfg / "topics.yaml").write_text("topics:\n  volcano:\n    terms: [\n", encoding="utf-8")
    filt.proc.send_signal(signal.SIGHUP)
    failed = wait_until(
        lambda: [r for r in json_lines(filt.output()) if r["message"].startswith("config reload failed")],
        30,
        what="the reload error",
    )
    assert failed[0]["log.level"] == "error" and "topics.yaml" in failed[0]["message"]
    feeds.routes["/volcano.xml"] = Route(rss([volcano_story, second]))
    wait_until(lambda: len(posts_for(receiver, "volcano-desk")) >= 2, 60, what="an alert after the broken reload")
    assert filt.proc.poll() is None


LOOP_SCRIPT = """
import sys, time
from workers.infra.lifecycle import Stopper, run_loop
from workers.infra.logs import setup_logging
setup_logging("INFO", "text", sys.stdout)
stopper = Stopper(float(sys.argv[1]))
stopper.install()
def once():
    print("batch", flush=True)
    time.sleep(float(sys.argv[2]))
run_loop("t", once, stopper, reload=lambda: print("reloaded", flush=True))
stopper.disarm()
print("clean exit", flush=True)
"""


def loop_process(timeout: float, batch: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", LOOP_SCRIPT, str(timeout), str(batch)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "batch\n"
    return proc


@pytest.mark.parametrize(
    "timeout,batch,signals,code,says",
    [
        (30, 0.3, [signal.SIGTERM], 0, "clean exit"),
        (30, 0.3, [signal.SIGINT], 0, "clean exit"),
        (0.5, 60, [signal.SIGTERM], 1, "shutdown took longer than timeout=0s"),
        (30, 60, [signal.SIGTERM, signal.SIGTERM], 1, "second signal SIGTERM: exiting now"),
        (30, 0.3, [signal.SIGHUP, signal.SIGTERM], 0, "reloaded"),
    ],
)
def test_stop_signals_on_the_run_loop(timeout: float, batch: float, signals: list[int], code: int, says: str) -> None:
    proc = loop_process(timeout, batch)
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.6)  # let the loop reach its next batch boundary before the next signal
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == code and says in out, out


def _open_writer(path: Path) -> int | None:
    """A write end of the FIFO once a process holds it open for reading (ENXIO before)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return None


@pytest.mark.integration
def test_sigterm_while_the_config_loads_exits_0(make_config, daemons) -> None:  # type: ignore[no-untyped-def]
    """Handlers come before the config (a second with the CLDR names): a supervisor stopping a daemon still
    starting gets exit 0, not death by the default action (rc -15). settings.yaml is a FIFO, so the test
    knows the daemon is inside the config load when it sends the signal."""
    cfg = make_config(feeds=[{"name": "none", "url": "http://127.0.0.1:9/none.xml"}])
    settings = (cfg / "settings.yaml").read_bytes()
    (cfg / "settings.yaml").unlink()
    os.mkfifo(cfg / "settings.yaml")
    filt = daemons("filter", cfg)
    fd = wait_until(lambda: _open_writer(cfg / "settings.yaml"), 30, what="the daemon reading settings.yaml")
    filt.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)  # the signal first, then the rest of the file
    try:
        os.set_blocking(fd, True)
        os.write(fd, settings)
    except BrokenPipeError:  # the reader died of the signal
        pass
    finally:
        os.close(fd)
    assert filt.proc.wait(20) == 0, filt.output()[-2000:]
    assert "filter exited cleanly" in filt.output()


HONCHO_STOPPED = re.compile(r"system\s*\| (\w+)\.1 stopped \(rc=(-?\d+)\)")


@pytest.mark.integration
def test_honcho_reports_exit_0_for_every_procfile_daemon_it_stops(  # type: ignore[no-untyped-def]
    servers,  # noqa: F811
    make_config,
    daemon_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """honcho runs each Procfile line with /bin/sh -c and stops it with SIGTERM to its process group, then
    reports the exit code of the process it started. The lines exec the daemon: without exec that process is
    the shell (dash does not exec a lone command), which dies of the signal (rc=-15) while the daemon behind
    it finishes its batch and exits 0. The signal comes once an alert went through, so both consumer groups
    are joined: a stop during the first join takes longer than the 5 s honcho grants before SIGKILL."""
    feeds, receiver, rurl = servers
    feeds.routes["/wire.xml"] = Route(rss(nk_items(1)))
    feed = {"name": "wire", "url": feeds.url("/wire.xml"), "interval": 1}
    make_config(feeds=[feed], subscribers=[subscriber("desk", rurl, ["dprk"])])  # tmp_path/config
    venv_bin = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the Procfile's wirewatch
    env = {**daemon_env, "PATH": venv_bin}
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "--no-colour", "-f", str(ROOT / "Procfile"), "start"],
        cwd=tmp_path,  # the Procfile's "--config config" is tmp_path/config
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert honcho.stdout is not None
        for line in honcho.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: posts_for(receiver, "desk"), 60, what="an alert through the three daemons")
        honcho.send_signal(signal.SIGTERM)
        honcho.wait(30)
    finally:
        for pid in re.findall(r"started \(pid=(\d+)\)", "".join(lines)):  # each line runs in its own session
            with contextlib.suppress(OSError):
                os.killpg(int(pid), signal.SIGKILL)
        if honcho.poll() is None:
            honcho.kill()
            honcho.wait(10)
    reader.join(10)
    out = "".join(lines)
    stopped = {name: int(rc) for name, rc in HONCHO_STOPPED.findall(out)}
    assert stopped == {"poller": 0, "filter": 0, "alerter": 0}, out[-3000:]
    assert out.count("exited cleanly") == 3
