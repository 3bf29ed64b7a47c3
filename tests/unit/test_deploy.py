"""What can be checked of deploy/ without docker or a cluster: every manifest parses, names commands
the CLI accepts and the health ports the daemons open, and every systemd unit passes
`systemd-analyze verify` (where it is installed). docker is not run: the Dockerfile is read statically."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT
from workers.app.cli import build_parser
from workers.app.configure import load_config
from workers.app.runtime import DEFAULT_HEALTH_PORTS
from workers.core.signing import new_secret
from workers.infra.lifecycle import DEFAULT_SHUTDOWN_TIMEOUT

DEPLOY = ROOT / "deploy"
ROLES = ("poll", "filter", "alert")


def accepts(argv: list[str]) -> bool:
    """Whether `wirewatch ARGV` parses (an unknown command or option exits 2 inside argparse)."""
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        return False
    return True


def k8s_docs() -> list[dict[str, Any]]:
    return [d for p in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


def test_every_yaml_manifest_parses() -> None:
    paths = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert len(paths) >= 5
    for path in paths:
        assert list(yaml.safe_load_all(path.read_text())), path


def test_k8s_deployments_probe_the_health_port_and_run_known_commands() -> None:
    docs = k8s_docs()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("ConfigMap", "wirewatch-config") in kinds and ("Secret", "wirewatch-webhook-secrets") in kinds
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {f"wirewatch-{r}" for r in ROLES}
    for role in ROLES:
        spec = deployments[f"wirewatch-{role}"]["spec"]
        pod = spec["template"]["spec"]
        (container,) = pod["containers"]
        assert accepts(container["args"]) and container["args"][0] == role
        port = {p["name"]: p["containerPort"] for p in container["ports"]}["health"]
        assert port == DEFAULT_HEALTH_PORTS[role]
        assert {"name": "WIREWATCH_HEALTH_PORT", "value": str(port)} in container["env"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
        assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
        assert pod["terminationGracePeriodSeconds"] > DEFAULT_SHUTDOWN_TIMEOUT
        mount = container["volumeMounts"][0]["mountPath"]
        assert container["args"][container["args"].index("--config") + 1] == mount
        assert pod["volumes"][0]["configMap"]["name"] == "wirewatch-config"
        assert container["envFrom"][0]["secretRef"]["name"] == "wirewatch-webhook-secrets"
    assert deployments["wirewatch-poll"]["spec"]["replicas"] >= 2, "pollers share feeds by lease: two for availability"
    job = next(d for d in docs if d["kind"] == "Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][:2] == ["kafka", "init"]


def test_k8s_configmap_and_secret_hold_a_valid_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = k8s_docs()
    data = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    # The files load_config reads; feeds.online.yaml is an alternative feed list, not needed here.
    assert set(data) == {"feeds.yaml", "topics.yaml", "subscribers.yaml", "settings.yaml"}
    for name, text in data.items():
        (tmp_path / name).write_text(text)
    for key, value in next(d for d in docs if d["kind"] == "Secret")["stringData"].items():
        monkeypatch.setenv(key, value)
    assert load_config(tmp_path).feeds


COMPOSE = DEPLOY / "compose"


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((COMPOSE / "docker-compose.yml").read_text()))


def test_compose_has_kraft_kafka_redis_aof_and_the_three_daemons() -> None:
    services = compose()["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"], "KRaft mode"
    redis = services["redis"]["command"]
    assert redis[redis.index("--appendonly") + 1] == "yes"
    assert services["kafka-init"]["command"][:2] == ["kafka", "init"] and accepts(services["kafka-init"]["command"])
    for role in ROLES:
        svc = services[role]
        assert accepts(svc["command"]) and svc["command"][0] == role
        port = DEFAULT_HEALTH_PORTS[role]
        assert svc["ports"] == [f"127.0.0.1:{port}:{port}"]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(svc["healthcheck"]["test"])
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        assert svc["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert (COMPOSE / ".." / ".." / services["poll"]["build"]["dockerfile"]).exists()


def container_config(tmp_path: Path) -> Path:
    """/etc/wirewatch/config as a compose container sees it: the image's config/ with the mounted files over it."""
    directory = tmp_path / "etc-wirewatch-config"
    shutil.copytree(ROOT / "config", directory)  # the Dockerfile's COPY config /etc/wirewatch/config
    for mount in compose()["services"]["poll"]["volumes"]:
        source, target, mode = mount.split(":")
        assert mode == "ro" and target.startswith("/etc/wirewatch/config/"), mount
        shutil.copyfile(COMPOSE / source, directory / Path(target).name)
    return directory


def example_secrets() -> list[str]:
    lines = (COMPOSE / "secrets.env.example").read_text().splitlines()
    return [ln.split("=", 1)[0] for ln in lines if ln and not ln.startswith("#")]


def test_compose_runs_a_production_shaped_config_from_mounted_files(tmp_path: Path) -> None:
    services = compose()["services"]
    for name in ("config-check", "kafka-init", *ROLES):
        assert sorted(m.split(":")[0] for m in services[name]["volumes"]) == sorted(
            ["./config/feeds.yaml", "./config/subscribers.yaml", "./config/settings.yaml", "../../config/topics.yaml"]
        ), name
    directory = container_config(tmp_path)
    # what the container reads: no demo feed or receiver on 127.0.0.1 (inside a container, that is itself)
    cfg_text = (directory / "feeds.yaml").read_text() + (directory / "subscribers.yaml").read_text()
    assert "127.0.0.1" not in cfg_text and "localhost" not in cfg_text and "local: true" not in cfg_text
    subscribers = yaml.safe_load((directory / "subscribers.yaml").read_text())["subscribers"]
    named = [
        v for s in subscribers for v in ([s["secret_env"]] if isinstance(s["secret_env"], str) else s["secret_env"])
    ]
    assert sorted(example_secrets()) == sorted(named), "secrets.env.example lists exactly the variables used"
    env = {k: v for k, v in os.environ.items() if k not in named and not k.startswith("WIREWATCH_")}
    made = {name: new_secret() for name in named}
    check = [sys.executable, "-m", "workers", "config", "check", "--require-secrets", "--config", str(directory)]
    ok = subprocess.run(check, capture_output=True, text=True, cwd=ROOT, env={**env, **made})
    assert ok.returncode == 0, ok.stderr
    assert "feeds: 6" in ok.stdout and "subscribers: 4" in ok.stdout
    assert "  ops  no topics  ops events (feed.quiet, topic.quiet)" in ok.stdout
    assert not any(secret in ok.stdout + ok.stderr for secret in made.values())


def test_without_secrets_env_the_check_stops_compose_before_any_daemon(tmp_path: Path) -> None:
    services = compose()["services"]
    check_svc = services["config-check"]
    assert (
        check_svc["restart"] == "no" and accepts(check_svc["command"]) and "--require-secrets" in check_svc["command"]
    )
    assert check_svc["env_file"] == [{"path": "secrets.env", "required": False}] == services["alert"]["env_file"]
    for name in ("kafka-init", *ROLES):  # nothing starts unless the check exited 0
        assert services[name]["depends_on"]["config-check"] == {"condition": "service_completed_successfully"}
    for role in ("poll", "filter"):
        assert "env_file" not in services[role], "only the alerter signs: the others never see the secrets"
    # what config-check does in a container started without secrets.env: exit 2, one line per variable
    directory = container_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in example_secrets()}
    proc = subprocess.run(
        [sys.executable, "-m", "workers", *check_svc["command"][:-1], str(directory)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 2
    for name in example_secrets():
        assert f"environment variable {name} is not set" in proc.stderr, proc.stderr


def test_docker_compose_config_accepts_the_recipe() -> None:
    docker = shutil.which("docker")
    has_compose = docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    if not has_compose:
        pytest.skip("docker compose is not installed: the recipe's structure is checked by the tests above")
    proc = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE / "docker-compose.yml"), "config", "--quiet"],  # type: ignore[list-item]
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def test_dockerfile_runs_wirewatch_and_exposes_the_health_ports() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["wirewatch"]' in text
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd and accepts(yaml.safe_load(cmd.group(1)))
    exposed = {int(p) for p in re.search(r"^EXPOSE (.+)$", text, re.M).group(1).split()}  # type: ignore[union-attr]
    assert exposed == set(DEFAULT_HEALTH_PORTS.values())
    assert re.search(r"^USER \w+", text, re.M), "not root"
    for src in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (ROOT / src).exists(), src


def units() -> list[Path]:
    return sorted((DEPLOY / "systemd").glob("*.service"))


@pytest.mark.parametrize("unit", units(), ids=lambda p: p.name)
def test_systemd_unit_runs_a_known_command_hardened(unit: Path) -> None:
    text = unit.read_text()
    keys = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    argv = shlex.split(keys["ExecStart"])
    assert argv[0].endswith("/wirewatch") and accepts(argv[1:])
    role = argv[1]
    assert keys["Environment"] == f"WIREWATCH_HEALTH_PORT={DEFAULT_HEALTH_PORTS[role]}"
    assert keys["Restart"] == "on-failure" and keys["EnvironmentFile"].startswith("/etc/wirewatch/")
    assert keys["User"] == "wirewatch" and keys["NoNewPrivileges"] == "yes" and keys["ProtectSystem"] == "strict"
    assert float(keys["TimeoutStopSec"]) > DEFAULT_SHUTDOWN_TIMEOUT


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed here")
@pytest.mark.parametrize("unit", units(), ids=lambda p: p.name)
def test_systemd_analyze_verify(unit: Path, tmp_path: Path) -> None:
    # The unit names the installed path; verify it against this checkout's entry point, which exists here.
    wirewatch = Path(sys.executable).parent / "wirewatch"
    if not wirewatch.exists():
        pytest.skip(f"{wirewatch} not installed (pip install -e .)")
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace("/opt/wirewatch/.venv/bin/wirewatch", str(wirewatch)))
    proc = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    problems = [
        line
        for line in proc.stderr.splitlines()
        # no systemd as PID 1 in a container, and the service user exists only on a real host
        if "not booted" not in line and "Failed to connect" not in line and line.strip()
    ]
    assert proc.returncode == 0 and not problems, proc.stderr


def test_procfile_commands_exist() -> None:
    lines = [x for x in (ROOT / "Procfile").read_text().splitlines() if x.strip() and not x.startswith("#")]
    assert len(lines) >= 3
    for line in lines:
        name, command = line.split(":", 1)
        argv = shlex.split(command)
        # exec: honcho's SIGTERM must reach the daemon, not a shell around it (test_signals runs honcho)
        assert argv[:2] == ["exec", "wirewatch"] and accepts(argv[2:]), line
    assert {shlex.split(x.split(":", 1)[1])[2] for x in lines} >= set(ROLES)
