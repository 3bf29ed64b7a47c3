"""The Prometheus side as an operator meets it: the shipped rules pass `promtool check rules` and
`promtool test rules`, every metric the rules, the dashboard and the README name is one wirewatch exports,
each role exports only its own metrics, per-feed series fold above the configured feed count and a removed
feed's series go, and the exposition passes `promtool check metrics`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest

from tests.support import ROOT
from workers.infra import metrics

RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "wirewatch.json"
SUFFIXES = ("_bucket", "_count", "_sum")


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is not installed (Debian package prometheus; make deps installs it)")
    return path


def exported_names() -> set[str]:
    """Every sample name wirewatch can export: counters with _total, histograms with their series."""
    out = set()
    for metric in metrics.ALL_METRICS:
        name = metric._name
        kind = metric._type
        if kind == "counter":
            out.add(f"{name}_total")
        elif kind == "histogram":
            out |= {name + s for s in SUFFIXES}
        else:
            out.add(name)
    return out


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {r["record"] for g in groups for r in g["rules"] if "record" in r}


def names_in(expr: str) -> set[str]:
    return set(re.findall(r"\bwirewatch[_:][a-z0-9_:]+", expr))


@pytest.fixture
def role_metrics() -> Iterator[None]:
    yield
    metrics.use_role("run")
    metrics.configure_feeds([], 1000)


def test_promtool_checks_and_tests_the_shipped_rules() -> None:
    tool = promtool()
    check = subprocess.run([tool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run([tool, "test", "rules", "rules.test.yml"], capture_output=True, text=True, cwd=RULES.parent)
    assert test.returncode == 0 and "SUCCESS" in test.stdout, test.stdout + test.stderr


def test_rules_and_dashboard_query_only_metrics_that_exist() -> None:
    known = exported_names() | recorded_names()
    groups = yaml.safe_load(RULES.read_text())["groups"]
    exprs = [r["expr"] for g in groups for r in g["rules"]]
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(queries) >= 15 and len(exprs) >= 10
    for expr in exprs + queries:
        assert names_in(expr) <= known, (expr, names_in(expr) - known)
    used = set().union(*(names_in(e) for e in exprs + queries))
    # the dashboard shows every metric family (directly or through a recording rule's expression)
    assert {m._name for m in metrics.ALL_METRICS} <= {n.removesuffix("_total") for n in used} | {
        n.removesuffix(s) for n in used for s in SUFFIXES if n.endswith(s)
    }


def test_readme_names_real_states_and_failure_reasons() -> None:
    readme = (ROOT / "README.md").read_text()
    states = set(re.findall(r'wirewatch_feeds\{state="([a-z_]+)"\}', readme))
    assert states and states <= set(metrics.FEED_STATES), states
    row = next(ln for ln in readme.splitlines() if ln.startswith("| `wirewatch_feed_failures_total`"))
    documented = set(re.findall(r"`([a-z_0-9]+)`", row.split("reason is bounded:")[1])) - {"http_"}
    produced = {r for r in metrics.FAILURE_REASONS if "<" not in r} | {"http_503"}
    assert documented == produced, documented ^ produced
    for reason, label in [
        ("more than 5 redirects", "redirects"),
        ("redirect to unsupported URL 'ftp://x'", "redirects"),
        ("HTTP 503", "http_503"),
        ("timed out after 2s", "timeout"),
        ("ConnectError: [Errno 111] Connection refused", "connection"),
        ("cannot read file: No such file", "file"),
        ("feed has no entries", "parse"),
        ("body of 999999 bytes exceeds 1000", "too_large"),
    ]:
        assert metrics.failure_reason(reason) == label, reason


def families() -> set[str]:
    """The wirewatch metric families of the exposition (a counter's TYPE line names it with _total)."""
    text = generate_latest(REGISTRY).decode()
    return {ln.split()[2].removesuffix("_total") for ln in text.splitlines() if ln.startswith("# TYPE wirewatch_")}


@pytest.mark.usefixtures("role_metrics")
def test_each_role_exports_only_its_metrics() -> None:
    for role, own in metrics.ROLE_METRICS.items():
        metrics.use_role(role)
        wanted = {m._name for m in (*own, *metrics.EVERY_ROLE)}
        assert families() == wanted, role
    metrics.use_role("run")
    assert families() == {m._name for m in metrics.ALL_METRICS}
    metrics.use_role("filter")
    metrics.use_role("filter")  # idempotent
    assert "wirewatch_fetch_seconds" not in families()


@pytest.mark.usefixtures("role_metrics")
def test_per_feed_series_fold_above_the_limit_and_removed_feeds_go() -> None:
    metrics.use_role("poll")
    metrics.configure_feeds(["a", "b"], per_feed_max=2)
    for feed in ("a", "b"):
        metrics.STORIES_NEW.labels(feed=metrics.feed_label(feed)).inc()
        metrics.STORIES_FAILED.labels(feed=metrics.feed_label(feed), reason="timeout").inc()
    text = generate_latest(REGISTRY).decode()
    assert 'wirewatch_stories_new_total{feed="a"}' in text and 'feed="b"' in text
    metrics.configure_feeds(["a"], per_feed_max=2)  # b removed from feeds.yaml, then a SIGHUP
    text = generate_latest(REGISTRY).decode()
    assert 'feed="a"' in text and 'feed="b"' not in text
    metrics.configure_feeds(["a", "b", "c"], per_feed_max=2)  # over the limit: one folded series
    assert metrics.feed_label("c") == metrics.ALL_FEEDS
    metrics.STORIES_NEW.labels(feed=metrics.feed_label("c")).inc(3)
    text = generate_latest(REGISTRY).decode()
    assert 'feed="a"' not in text and 'wirewatch_stories_new_total{feed="_all"} 3.0' in text
    assert "_created" not in text


def series_with(feeds: int, per_feed_max: int) -> int:
    """Series a poller exports after one success and one failure on each of ``feeds`` feeds."""
    names = [f"feed-{i}" for i in range(feeds)]
    metrics.configure_feeds(names, per_feed_max)
    for name in names:
        label = metrics.feed_label(name)
        metrics.FETCH_LATENCY.labels(feed=label).observe(0.2)
        metrics.STORIES_FETCHED.labels(feed=label).inc(20)
        metrics.STORIES_NEW.labels(feed=label).inc(1)
        metrics.STORIES_FAILED.labels(feed=label, reason="timeout").inc()
    lines = generate_latest(REGISTRY).decode().splitlines()
    return sum(1 for ln in lines if ln.startswith("wirewatch_"))


SERIES_BOUND_10K_FEEDS = 100  # a poller of a 10,000-feed install, folded: the aggregates only


@pytest.mark.usefixtures("role_metrics")
def test_series_stay_bounded_with_10000_feeds() -> None:
    metrics.use_role("poll")
    for state in metrics.FEED_STATES:
        metrics.FEEDS_BY_STATE.labels(state=state).set(2500)
    metrics.READY.labels(role="poll").set(1)
    folded = series_with(10_000, per_feed_max=1000)
    assert folded < SERIES_BOUND_10K_FEEDS, folded
    per_feed = series_with(1000, per_feed_max=1000)
    assert 15_000 < per_feed < 20_000  # ~17 per feed below the limit: the 10k install would have 170k


@pytest.mark.usefixtures("role_metrics")
def test_promtool_check_metrics_is_clean_for_each_role() -> None:
    tool = promtool()
    metrics.configure_feeds(["a"], 10)
    metrics.FETCH_LATENCY.labels(feed="a").observe(0.1)
    metrics.STORIES_FAILED.labels(feed="a", reason="timeout").inc()
    metrics.DELIVERY_LATENCY.labels(subscriber="desk").observe(0.1)
    metrics.CONSUMER_LAG.labels(group="g", topic="t", partition="0").set(3)
    for role in (*metrics.ROLE_METRICS, "run"):
        metrics.use_role(role)
        proc = subprocess.run([tool, "check", "metrics"], input=generate_latest(REGISTRY), capture_output=True)
        assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), (role, proc)


@pytest.mark.usefixtures("role_metrics")
def test_removed_subscribers_series_go() -> None:
    metrics.use_role("alert")
    for sub in ("desk", "gone"):
        metrics.ALERTS_DELIVERED.labels(subscriber=sub).inc()
        metrics.OUTBOX_DEPTH.labels(subscriber=sub).set(3)
        metrics.DELIVERY_LATENCY.labels(subscriber=sub).observe(0.1)
    metrics.ALERTS_DEAD.labels(subscriber=metrics.NO_SUBSCRIBER).inc()  # a malformed match belongs to nobody
    metrics.configure_subscribers(["desk"])
    text = generate_latest(REGISTRY).decode()
    assert 'subscriber="gone"' not in text
    assert 'wirewatch_alerts_delivered_total{subscriber="desk"}' in text and 'subscriber="desk"' in text
    assert 'wirewatch_alerts_dead_lettered_total{subscriber="-"}' in text
    labelled = {m for m in metrics.ALL_METRICS if "subscriber" in m._labelnames}
    assert labelled == set(metrics.PER_SUBSCRIBER), "a metric with a subscriber label is missing from PER_SUBSCRIBER"
