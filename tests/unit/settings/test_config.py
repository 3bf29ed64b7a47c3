from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT
from workers.app.configure import load_config
from workers.core.errors import ConfigError


def write(d: Path, **files: object) -> Path:
    d.mkdir(exist_ok=True)
    (d / "topics.yaml").write_text((ROOT / "config" / "topics.yaml").read_text())
    for name, data in files.items():
        (d / f"{name}.yaml").write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return d


GOOD_FEEDS = {"feeds": [{"name": "wire", "url": "http://127.0.0.1:1/x.xml"}]}


def sub(**over: object) -> dict[str, object]:
    return {
        "subscribers": [
            {"name": "desk", "url": "http://127.0.0.1:1/h", "secret_env": "WW_TEST_SECRET", "topics": ["dprk"], **over}
        ]
    }


def test_shipped_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREWATCH_DEMO_SECRET", "whsec_" + "a" * 44)
    cfg = load_config(ROOT / "config")
    assert {t.name for t in cfg.topics} >= {"dprk", "russia"}
    assert cfg.feeds and cfg.subscribers
    assert "whsec_" not in repr(cfg), "secrets are masked in reprs"


@pytest.mark.parametrize(
    "files,expected",
    [
        ({"feeds": {"feeds": [{"name": "wire", "url": "ftp://x"}]}}, "feeds.yaml: feeds[0].url"),
        ({"feeds": {"feeds": [{"name": "wire", "url": "http://x", "colour": "red"}]}}, "feeds.yaml: feeds[0].colour"),
        ({"feeds": {"feeds": [{"name": "wire", "url": "http://x", "interval": -5}]}}, "feeds.yaml: feeds[0].interval"),
        (
            {"feeds": {"feeds": [{"name": "a", "url": "http://x"}, {"name": "a", "url": "http://y"}]}},
            "feeds.yaml: feeds[1].name: duplicate",
        ),
        ({"feeds": "feeds: [unclosed"}, "feeds.yaml: invalid YAML"),
        (
            {"feeds": GOOD_FEEDS, "subscribers": sub(topics=["nope"])},
            "subscribers.yaml: subscribers[0].topics[0]: unknown topic",
        ),
        (
            {"feeds": GOOD_FEEDS, "subscribers": sub(languages=["English"])},
            "subscribers.yaml: subscribers[0].languages",
        ),
        (
            {"feeds": GOOD_FEEDS, "subscribers": sub(secret_env="WW_UNSET_VAR")},
            "subscribers.yaml: subscribers[0].secret_env: environment variable WW_UNSET_VAR is not set",
        ),
        (
            {"feeds": GOOD_FEEDS, "subscribers": sub(updates="sometimes")},
            "subscribers.yaml: subscribers[0].updates: Input should be 'none', 'material' or 'all'",
        ),
        ({"feeds": GOOD_FEEDS, "settings": {"kafka": {"partitions": 0}}}, "settings.yaml: kafka.partitions"),
        (
            {"feeds": GOOD_FEEDS, "settings": {"poller": {"proxy_url": "socks5://127.0.0.1:1080"}}},
            "settings.yaml: poller.proxy_url: 'socks5://127.0.0.1:1080' must start with http://",
        ),
    ],
)
def test_bad_config_names_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, object], expected: str
) -> None:
    monkeypatch.setenv("WW_TEST_SECRET", "whsec_" + "a" * 44)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path / "cfg", **files))
    assert expected in str(err.value)


def test_bad_secret_is_refused_without_echoing_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WW_TEST_SECRET", "whsec_bm90LWxvbmctZW5vdWdo")
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path / "cfg", feeds=GOOD_FEEDS, subscribers=sub()))
    assert "24-64 bytes" in str(err.value) and "bm90LWxvbmctZW5vdWdo" not in str(err.value)


def daemon(role: str, d: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", role, "--config", str(d)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=env,
    )


def test_daemon_exits_2_with_one_clear_message(tmp_path: Path) -> None:
    d = write(tmp_path / "cfg", feeds={"feeds": [{"name": "wire", "url": "gopher://x"}]})
    proc = daemon("poll", d)
    assert proc.returncode == 2
    assert "feeds.yaml: feeds[0].url" in proc.stderr and "Traceback" not in proc.stderr


def test_duplicate_keys_are_refused_not_silently_merged(tmp_path: Path) -> None:
    d = write(tmp_path / "cfg", feeds=GOOD_FEEDS)
    (d / "topics.yaml").write_text("topics:\n  dprk:\n    terms: [DPRK]\n  dprk:\n    terms: [Pyongyang]\n")
    with pytest.raises(ConfigError) as err:
        load_config(d)
    assert "topics.yaml" in str(err.value) and "duplicate key 'dprk'" in str(err.value) and "line 4" in str(err.value)


def test_webhook_urls_are_encoded_at_load_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WW_TEST_SECRET", "whsec_" + "a" * 44)
    cfg = load_config(write(tmp_path / "cfg", feeds=GOOD_FEEDS, subscribers=sub(url="http://пример.рф:8080/désk?q=ä")))
    assert cfg.subscribers[0].url == "http://xn--e1afmkfd.xn--p1ai:8080/d%C3%A9sk?q=%C3%A4"


@pytest.mark.parametrize(
    "url,problem",
    [
        ("http://127.0.0.1:80a/h", "cannot be sent"),
        ("http:///h", "no host"),
        ("http://user:pw@127.0.0.1/h", "user:password in a webhook URL is not supported"),
    ],
)
def test_bad_webhook_urls_are_refused_at_load_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    monkeypatch.setenv("WW_TEST_SECRET", "whsec_" + "a" * 44)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path / "cfg", feeds=GOOD_FEEDS, subscribers=sub(url=url)))
    assert "subscribers.yaml: subscribers[0].url" in str(err.value) and problem in str(err.value)


def test_a_feed_url_with_a_bad_port_is_refused_at_load_time(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path / "cfg", feeds={"feeds": [{"name": "w", "url": "http://x:80a/f"}]}), need=("feeds",))
    assert "feeds.yaml: feeds[0].url" in str(err.value) and "cannot be sent" in str(err.value)


def test_every_daemon_validates_every_file_and_reports_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WW_UNSET_VAR", raising=False)
    subs = {
        "subscribers": [
            {"name": "a", "url": "http://127.0.0.1:1/h", "secret_env": "WW_UNSET_VAR", "topics": ["nope"]},
            {"name": "b", "url": "http://127.0.0.1:1/h", "secret_env": "WW_UNSET_VAR", "topics": ["dprk"]},
        ]
    }
    d = write(tmp_path / "cfg", feeds={"feeds": [{"name": "w", "url": "gopher://x"}]}, subscribers=subs)
    (d / "topics.yaml").write_text("topics:\n  dprk:\n    terms: [DPRK, '']\n")
    with pytest.raises(ConfigError) as err:
        load_config(d, need=("feeds",))  # the poller's needs: the other files are checked all the same
    lines = str(err.value).splitlines()
    assert any("feeds.yaml: feeds[0].url" in ln for ln in lines), lines
    assert any("topics.yaml" in ln for ln in lines), lines
    assert not any("secret_env" in ln for ln in lines), "the poller reads no secrets"
    (d / "topics.yaml").write_text((ROOT / "config" / "topics.yaml").read_text())
    with pytest.raises(ConfigError) as err:
        load_config(d)
    lines = str(err.value).splitlines()
    assert "subscribers[0].topics[0]: unknown topic 'nope'" in str(err.value), lines
    assert sum("secret_env: environment variable WW_UNSET_VAR is not set" in ln for ln in lines) == 2, lines


@pytest.mark.parametrize(
    "name,value",
    [
        ("REDIS_URL", "garbage"),
        ("REDIS_URL", "redis://127.0.0.1:port/0"),
        ("REDIS_URL", "redis+cluster://127.0.0.1"),
        ("REDIS_URL", "redis+cluster://127.0.0.1:7000,garbage"),
        ("REDIS_URL", "redis+cluster://127.0.0.1:7000/3"),
        ("REDIS_URL", "redis+sentinel://127.0.0.1:26379/mymaster"),
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka-without-port"),
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092,"),
        ("WIREWATCH_SHUTDOWN_TIMEOUT", "soon"),
        ("WIREWATCH_OTLP_ENDPOINT", "collector:4318"),
        ("WIREWATCH_OTLP_METRICS_INTERVAL", "often"),
        ("WIREWATCH_OTLP_SAMPLE_RATIO", "some"),
    ],
)
def test_the_environment_is_validated_with_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path / "cfg", feeds=GOOD_FEEDS), need=("feeds",))
    assert f"environment {name}:" in str(err.value)


# Found by tests/unit/app/test_fuzz_config.py: a NUL in settings' poller.feeds_file ("\0.yml") or in a
# subscriber's secret_file made the loader raise ValueError (a traceback, exit 1) instead of a ConfigError.
def test_a_nul_in_a_file_name_from_config_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "cfg", feeds=GOOD_FEEDS, settings='poller:\n feeds_file: "\\0.yml"')
    with pytest.raises(ConfigError, match=r"\.yml: cannot read: embedded null byte"):
        load_config(cfg)
    cfg = write(tmp_path / "cfg2", feeds=GOOD_FEEDS, subscribers=sub(secret_env=None, secret_file="a\0b"))
    with pytest.raises(ConfigError, match=r"subscribers\[0\]\.secret_file: cannot read .*: ValueError"):
        load_config(cfg)


def test_a_secret_file_that_is_not_utf8_is_a_config_error_without_its_bytes(tmp_path: Path) -> None:
    cfg = write(tmp_path / "cfg", feeds=GOOD_FEEDS, subscribers=sub(secret_env=None, secret_file="secret.bin"))
    (cfg / "secret.bin").write_bytes(b"whsec_\xff\xfe")
    with pytest.raises(ConfigError, match=r"secret_file: cannot read .*secret\.bin: UnicodeDecodeError") as err:
        load_config(cfg)
    assert "whsec" not in str(err.value)


def test_a_brace_in_the_key_prefix_is_a_config_error(tmp_path: Path) -> None:
    """A `{` would make the prefix the hash tag of every key: all of them in one Redis Cluster slot."""
    cfg = write(tmp_path / "cfg", feeds=GOOD_FEEDS, settings='redis:\n key_prefix: "ww{1}:"')
    with pytest.raises(ConfigError, match=r"settings\.yaml: redis\.key_prefix: .*hash tags"):
        load_config(cfg, need=("feeds",))


def test_secret_env_may_name_a_key_ring_newest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    new, old = "whsec_" + "b" * 44, "whsec_" + "a" * 44
    monkeypatch.setenv("WW_NEW", new)
    monkeypatch.setenv("WW_OLD", old)
    cfg = load_config(write(tmp_path / "ok", feeds=GOOD_FEEDS, subscribers=sub(secret_env=["WW_NEW", "WW_OLD"])))
    assert cfg.secrets["desk"].get_secret_value() == f"{new} {old}"
    assert cfg.subscribers[0].secret_envs == ["WW_NEW", "WW_OLD"]
    monkeypatch.setenv("WW_BAD", "whsec_short")
    with pytest.raises(ConfigError) as err:
        load_config(
            write(tmp_path / "bad", feeds=GOOD_FEEDS, subscribers=sub(secret_env=["WW_NEW", "WW_GONE", "WW_BAD"]))
        )
    lines = str(err.value).splitlines()
    assert any("subscribers[0].secret_env[1]: environment variable WW_GONE is not set" in ln for ln in lines), lines
    assert any("subscribers[0].secret_env[2] (WW_BAD): secret" in ln for ln in lines), lines
    assert "whsec_short" not in str(err.value)
    for names in ([], ["WW_NEW", "WW_NEW"], ["A", "B", "C", "D", "E"]):
        with pytest.raises(ConfigError, match=r"subscribers\[0\]\.secret_env"):
            load_config(write(tmp_path / "dup", feeds=GOOD_FEEDS, subscribers=sub(secret_env=names)))


def test_an_ops_subscriber_may_name_no_topics_and_no_other_may(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WW_TEST_SECRET", "whsec_" + "a" * 44)
    cfg = load_config(write(tmp_path / "ok", feeds=GOOD_FEEDS, subscribers=sub(topics=[], ops=True)))
    assert cfg.subscribers[0].ops and cfg.subscribers[0].topics == []
    with pytest.raises(ConfigError, match=r"subscribers\[0\]: topics: name at least one topic"):
        load_config(write(tmp_path / "bad", feeds=GOOD_FEEDS, subscribers=sub(topics=[])))


def test_spike_settings_are_validated_at_start_with_a_line_per_problem(tmp_path: Path) -> None:
    bad = {"window_minutes": 7, "factor": 0.5, "min_count": 0, "baseline": "weekly", "alpha": 0, "colour": "red"}
    bad |= {"quiet_fraction": 1.5, "quiet_min_per_day": -1}
    settings = {"alerter": {"spikes": bad}}
    d = write(tmp_path / "cfg", feeds=GOOD_FEEDS, subscribers={"subscribers": []}, settings=settings)
    servers = {"REDIS_URL": "redis://127.0.0.1:1/0", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}  # never reached
    proc = daemon("alert", d, {"PATH": "/usr/bin:/bin", **servers})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "settings.yaml: alerter.spikes." in ln]
    keys = sorted(ln.split("alerter.spikes.")[1].split(":")[0] for ln in lines)
    assert keys == [
        "alpha",
        "baseline",
        "colour",
        "factor",
        "min_count",
        "quiet_fraction",
        "quiet_min_per_day",
        "window_minutes",
    ], proc.stderr
    assert any("7 does not divide 60" in ln for ln in lines)


def test_spike_settings_become_the_detectors_parameters(tmp_path: Path) -> None:
    from workers.alerter.spikes import SpikeParams
    from workers.alerter.topicspikes import params_of
    from workers.settings.spikes import SpikeSettings

    assert params_of(SpikeSettings()) == SpikeParams(), "the defaults are the measured parameters"
    p = params_of(SpikeSettings(window_minutes=15, factor=4, z=3, min_count=8, baseline="hour_of_day", warmup_weeks=1))
    assert (p.window_s, p.factor, p.z, p.min_count, p.kind) == (900, 4.0, 3.0, 8, "hour_of_day")
    assert p.warmup_windows == 4 * 7, "a week of one hour of the day: 4 windows a day, 7 days"
    assert params_of(SpikeSettings(baseline="flat", warmup_weeks=0.5)).warmup_windows == 6 * 168 // 2
