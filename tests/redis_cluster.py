"""A real 3-primary Redis Cluster on 127.0.0.1 for the tests, with no Docker: three ``redis-server
--cluster-enabled yes`` processes in a temporary directory joined by ``redis-cli --cluster create``.

The conftest starts one per session, and only when a test asks for it (``redis_cluster_url``), so a run
without cluster tests pays nothing. Free ports for the clients and for the cluster bus (``--cluster-port``),
so parallel sessions on one machine never collide. Every process started is stopped, also when the
creation fails half way.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis

from workers.devstack.stack import EmbeddedRedis, StackError, free_port

PRIMARIES = 3


def missing_tools() -> str | None:
    """Why a cluster cannot be started here (None when it can)."""
    for tool, package in (("redis-server", "redis-server"), ("redis-cli", "redis-tools")):
        if not (shutil.which(tool) or Path(f"/usr/bin/{tool}").exists()):
            return f"{tool} not found (Debian: apt-get install -y {package}; `make deps` does it)"
    return None


class ClusterNodeServer(EmbeddedRedis):
    """One cluster-enabled redis-server: no persistence, its nodes.conf in its own directory."""

    name = "redis-cluster-node"

    def __init__(self, port: int, bus_port: int, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(port, data_dir / "redis.log", data_dir)
        self.bus_port = bus_port

    def command(self) -> list[str]:
        return [
            *super().command(),
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            str(self.data_dir / "nodes.conf"),
            "--cluster-port",
            str(self.bus_port),
            "--cluster-node-timeout",
            "5000",
        ]


class LocalCluster:
    def __init__(self, root: Path, primaries: int = PRIMARIES) -> None:
        self.root = root
        self.nodes = [ClusterNodeServer(free_port(), free_port(), root / f"node{i}") for i in range(primaries)]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def start(self, timeout: float = 30.0) -> None:
        try:
            for node in self.nodes:
                node.start()
            cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
            create = subprocess.run(
                [cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes)]
                + ["--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if create.returncode != 0:
                raise StackError(f"redis-cli --cluster create failed: {create.stdout[-500:]} {create.stderr[-500:]}")
            self._wait_ok(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ok(self, timeout: float) -> None:
        """Until every node reports cluster_state:ok and sees all 16384 slots assigned."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._node_ok(n.port) for n in self.nodes):
                return
            time.sleep(0.1)
        raise StackError(f"the Redis Cluster was not ok after {timeout:.0f}s (logs in {self.root})")

    @staticmethod
    def _node_ok(port: int) -> bool:
        with Redis(port=port, socket_timeout=2) as client:
            info = client.cluster("INFO")
        return info.get("cluster_state") == "ok" and int(info.get("cluster_slots_assigned", 0)) == 16384

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


# --- every pipeline of one hash slot -------------------------------------------------------------------------

_MULTI_KEY = {b"DEL", b"EXISTS", b"UNLINK", b"TOUCH", b"MGET"}


def pipeline_slots(commands: list[tuple[object, ...]]) -> set[int]:
    """The hash slots a pipeline's commands touch (our pipelines hold single-key commands and DEL/EXISTS)."""
    from redis.crc import key_slot

    slots: set[int] = set()
    for args in commands:
        name = str(args[0]).upper().encode()
        keys = args[1:] if name in _MULTI_KEY else args[1:2]
        slots |= {key_slot(k if isinstance(k, bytes) else str(k).encode()) for k in keys}
    return slots


class SlotAudit:
    """Records the hash slots of every pipeline a cluster client executes while active (a test then asserts
    each touched one slot). redis-py would run a cross-slot pipeline by splitting it per node; this catches it."""

    def __init__(self) -> None:
        self.pipelines: list[set[int]] = []

    def __enter__(self) -> SlotAudit:
        from redis.cluster import ClusterPipeline

        self._original = ClusterPipeline.execute
        audit = self

        def execute(pipe: ClusterPipeline, raise_on_error: bool = True) -> list[object]:
            queue = pipe._execution_strategy.command_queue  # noqa: SLF001 - redis-py keeps no public view
            if queue:
                audit.pipelines.append(pipeline_slots([c.args for c in queue]))
            return audit._original(pipe, raise_on_error)

        ClusterPipeline.execute = execute  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from redis.cluster import ClusterPipeline

        ClusterPipeline.execute = self._original  # type: ignore[method-assign]

    def cross_slot(self) -> list[set[int]]:
        return [s for s in self.pipelines if len(s) > 1]
