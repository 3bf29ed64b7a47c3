"""Fuzz: random configs into the loader. feeds.yaml, topics.yaml, subscribers.yaml and settings.yaml each
absent, random text, a random YAML value, or a good file broken key by key; ``load_config`` returns a Config
or raises ConfigError (what the CLI prints as a clear error, exit 2), never another exception. Then a good
config still loads."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz import broken, examples, json_values
from workers.app.configure import load_config
from workers.core.errors import ConfigError
from workers.core.signing import new_secret
from workers.settings.config import Config

# Strings operators and attackers write where a name, URL, code or file name goes.
tricky = st.sampled_from(
    ["", " ", "\x00", "a\x00b.yaml", "${WIREWATCH_FUZZ_UNSET}", "${WIREWATCH_FUZZ_UNSET:-http://127.0.0.1/x}"]
    + ["NO", "on", "KP", "XX", "en", "zz-zz", "http://example.com:80a/x", "http://[::1", "http://h/d\u00e9sk"]
    + ["http://user:pw@127.0.0.1/", "file:///dev/null", "../feeds.yaml", "/etc/passwd", "feeds.yml", "*", "\ud800"]
)
values = tricky | json_values

feeds = st.fixed_dictionaries(
    {
        "feeds": st.lists(
            st.fixed_dictionaries(
                {"name": st.sampled_from(["wire", "ani"]) | tricky, "url": st.just("http://127.0.0.1/f.xml") | tricky},
                optional={"interval": st.floats() | st.integers(), "language": tricky, "tags": st.lists(tricky)},
            ),
            min_size=1,
            max_size=3,
        )
    }
)
topics = st.fixed_dictionaries(
    {
        "topics": st.dictionaries(
            st.sampled_from(["dprk", "russia"]) | tricky,
            st.fixed_dictionaries(
                {"terms": st.lists(st.sampled_from(["North Korea", "Росси*", "*", "a b"]) | tricky, max_size=3)},
                optional={
                    "countries": st.lists(tricky | st.sampled_from(["KP", "RU", "NO", False]), max_size=2),
                    "languages": st.lists(tricky, max_size=2),
                    "none": st.lists(tricky, max_size=2),
                    "names": st.lists(tricky, max_size=2),
                    "all": st.lists(st.fixed_dictionaries({"terms": st.lists(tricky, max_size=2)}), max_size=2),
                    "min_hits": st.integers(-1, 3),
                },
            ),
            max_size=2,
        )
    }
)
subscribers = st.fixed_dictionaries(
    {
        "subscribers": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.just("desk") | tricky,
                    "url": st.just("http://127.0.0.1/hooks/desk") | tricky,
                    "topics": st.lists(st.just("dprk") | tricky, max_size=2),
                },
                optional={
                    "secret_env": st.just("WIREWATCH_FUZZ_SECRET") | tricky,
                    "secret_file": st.just("secret.txt") | tricky,
                    "local": st.booleans(),
                    "languages": st.lists(tricky, max_size=2),
                    "concurrency": st.integers(-1, 100),
                    "digest_seconds": st.none() | st.floats(),
                },
            ),
            max_size=2,
        )
    }
)
settings = st.fixed_dictionaries(
    {},
    optional={
        "kafka": st.fixed_dictionaries({}, optional={"topic_prefix": tricky, "partitions": st.integers(-1, 8)}),
        "poller": st.fixed_dictionaries({}, optional={"feeds_file": tricky, "proxy_url": st.none() | tricky}),
        "alerter": st.fixed_dictionaries(
            {}, optional={"retry_schedule": st.lists(st.floats()), "excerpt_chars": values}
        ),
        "daemon": st.fixed_dictionaries({}, optional={"health_port": st.integers(-1, 70000) | values}),
    },
)


def dumped(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


GOOD = {
    "feeds.yaml": dumped({"feeds": [{"name": "wire", "url": "http://127.0.0.1/f.xml"}]}),
    "topics.yaml": dumped({"topics": {"dprk": {"terms": ["North Korea"], "countries": ["KP"]}}}),
    "subscribers.yaml": dumped(
        {
            "subscribers": [
                {"name": "desk", "url": "http://127.0.0.1/h", "secret_env": "WIREWATCH_FUZZ_SECRET", "topics": ["dprk"]}
            ]
        }
    ),
    "settings.yaml": dumped({"kafka": {"partitions": 2}}),
}


def one_file(name: str, good: st.SearchStrategy[Any]) -> st.SearchStrategy[str | None]:
    """A config file: good (most often, so the other files' mistakes are reached), absent, random text, a random
    YAML value, a random structure of the file's shape, or one broken key by key."""
    return st.one_of(
        st.just(GOOD[name]),
        st.just(GOOD[name]),
        st.none(),
        st.text(max_size=80),
        values.map(dumped),
        good.map(dumped),
        broken(good).map(dumped),
    )


@pytest.fixture(scope="module", autouse=True)
def secret_env() -> Iterator[None]:
    os.environ["WIREWATCH_FUZZ_SECRET"] = new_secret()
    yield
    del os.environ["WIREWATCH_FUZZ_SECRET"]


def write(directory: Path, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        if text is not None:
            (directory / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    (directory / "secret.txt").write_text(os.environ["WIREWATCH_FUZZ_SECRET"])


@examples(600)
@given(
    files=st.fixed_dictionaries(
        {
            "feeds.yaml": one_file("feeds.yaml", feeds),
            "topics.yaml": one_file("topics.yaml", topics),
            "subscribers.yaml": one_file("subscribers.yaml", subscribers),
            "settings.yaml": one_file("settings.yaml", settings),
        }
    ),
    need=st.sampled_from([("feeds",), ("topics",), ("topics", "subscribers"), ("feeds", "topics", "subscribers")]),
)
def test_fuzz_load_config(files: dict[str, str | None], need: tuple[str, ...]) -> None:
    with tempfile.TemporaryDirectory() as d:
        write(Path(d), files)
        try:
            cfg = load_config(d, need=need)
        except ConfigError as exc:
            assert str(exc).strip()
            event("ConfigError")
        else:
            assert isinstance(cfg, Config)
            event("Config")
    with tempfile.TemporaryDirectory() as d:
        write(Path(d), {name: text for name, text in GOOD.items() if name != "settings.yaml"})
        assert [s.name for s in load_config(d).subscribers] == ["desk"]
