"""Helpers shared by the tests: the corpus location, waiting, RSS building, running real daemons."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from xml.sax.saxutils import escape

import pytest

from workers.devstack.progress import group_caught_up  # noqa: F401 - re-exported for the tests

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def corpus_dir() -> Path:
    return Path(os.environ.get("WIREWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_file(relative: str) -> Path:
    path = corpus_dir() / relative
    if not path.exists():
        pytest.skip(f"corpus file {path} not found (set WIREWATCH_CORPUS to the shared corpus)")
    return path


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway EC certificate and key for 127.0.0.1, made with the openssl command: (cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed: no test certificate for the TLS tests")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


def seed_text() -> str:
    return corpus_file("seed/ani-kim-russia-visit.hi.txt").read_text(encoding="utf-8")


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def rss(items: list[dict[str, str]], title: str = "Test feed", language: str = "en") -> bytes:
    """An RSS 2.0 document; each item has title, link, guid (optional), description, pubDate (optional)."""
    out = [
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>http://127.0.0.1/</link><description>test</description><language>{language}</language>"
    ]
    for it in items:
        out.append("<item>")
        out.append(f"<title>{escape(it['title'])}</title><link>{escape(it['link'])}</link>")
        if it.get("guid"):
            out.append(f'<guid isPermaLink="false">{escape(it["guid"])}</guid>')
        if it.get("pubDate"):
            out.append(f"<pubDate>{it['pubDate']}</pubDate>")
        out.append(f"<description>{escape(it['description'])}</description></item>")
    out.append("</channel></rss>")
    return "".join(out).encode()


class Daemon:
    """A real `python -m workers ROLE` process, so kills and signals are real."""

    def __init__(self, role: str, config_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.role = role
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workers", role, "--config", str(config_dir)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 40) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout)
        return int(self.proc.returncode)

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        self.kill()
        self.log.close()


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 20.0) -> list[Any]:
    """Every record of a topic from the beginning, waiting until at least ``expect`` arrived."""
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        parts = wait_until(lambda: consumer.partitions_for_topic(topic), 10, what=f"topic {topic}")
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for recs in consumer.poll(timeout_ms=200).values():
                records.extend(recs)
            if len(records) >= expect and time.monotonic() > deadline - timeout + 0.5:
                break
        return records
    finally:
        consumer.close()


def sample_stories() -> list[dict[str, Any]]:
    """The project's own labelled sample stories (written for wirewatch, not corpus text)."""
    import yaml

    return list(yaml.safe_load((ROOT / "tests" / "fixtures" / "stories" / "stories.yaml").read_text(encoding="utf-8")))


def wirewatch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args], capture_output=True, text=True, cwd=ROOT, input=stdin, timeout=120
    )
