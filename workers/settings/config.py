"""Loading and validating config/: feeds, topics, subscribers and settings, plus the environment.

Order: each file is validated on its own (unknown keys, types, ranges), then the combinations
(subscribers naming topics that exist, unique names, secrets present in the environment), then the
environment (REDIS_URL, KAFKA_BOOTSTRAP_SERVERS, numeric WIREWATCH_* variables). Every problem of every
file is collected into one ConfigError, one line each naming the file (or variable) and the key;
nothing starts with a bad config.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from workers.core.errors import ConfigError
from workers.core.names import Names
from workers.core.revisions import DEFAULT_UPDATES, UpdatePolicy
from workers.core.signing import check_secret
from workers.core.urls import mask_url, wire_url
from workers.settings import env, yamlfile
from workers.settings.env import expand_env
from workers.settings.spikes import SpikeSettings

_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_name(v: str) -> str:
    if not _NAME.match(v):
        raise ValueError(f"{v!r} is not a valid name (lowercase letters, digits, '-', '_', '.')")
    return v


def _check_url(value: str, schemes: tuple[str, ...]) -> str:
    """Expand ${VAR} references, then require one of the schemes and, for http(s), a URL a request can be sent
    to (a host, a numeric port, a host IDNA can encode). Returns the expanded URL as written."""
    value = expand_env(value)
    if value.split("://", 1)[0] not in schemes or "://" not in value:
        allowed = " or ".join(filter(None, [", ".join(f"{s}://" for s in schemes[:-1]), f"{schemes[-1]}://"]))
        raise ValueError(f"{mask_url(value)!r} must start with {allowed}")
    if value.startswith(("http://", "https://")):
        wire_url(value)  # UrlError (a ValueError, "no host" among them): pydantic reports it under the key
    return value


def _check_webhook_url(value: str) -> str:
    """A webhook URL in the form httpcore sends (IDNA host, percent-encoded path and query), decided once here:
    a raw non-ASCII path made httpcore raise TypeError on every delivery."""
    wire, auth = wire_url(_check_url(value, ("http", "https")))
    if auth is not None:
        raise ValueError(
            f"{mask_url(value)!r}: user:password in a webhook URL is not supported (the signature authenticates)"
        )
    return wire


def _check_languages(v: list[str]) -> list[str]:
    for code in v:
        if not _LANG.match(code):
            raise ValueError(f"{code!r} is not a language code (ISO 639-1 such as 'en', 'hi', 'ru')")
    return v


class Feed(_Strict):
    name: str
    url: str
    interval: float = Field(default=300, gt=0, description="seconds between polls")
    language: str | None = None
    tags: list[str] = []

    _name = field_validator("name")(_check_name)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v, ("http", "https", "file"))

    @field_validator("language")
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        return None if v is None else _check_languages([v])[0]


class FeedsFile(_Strict):
    feeds: list[Feed] = Field(min_length=1)


class Spreading(_Strict):
    """``story.spreading`` when a story cluster reaches this many outlets (distinct feeds) within the window;
    again at each further multiple of ``outlets``."""

    outlets: int = Field(ge=2, le=50, description="distinct feeds carrying the story (a cluster keeps 50 members)")
    within_minutes: float = Field(default=60, gt=0, description="the window the outlets are counted in")


class Subscriber(_Strict):
    name: str
    url: str
    # one name, or several during a key rotation (newest first): every POST is signed with each
    secret_env: str | list[str] | None = Field(default=None, description="variable(s) holding the whsec_ secret")
    secret_file: str | list[str] | None = Field(default=None, description="file(s) holding the whsec_ secret")
    topics: list[str] = []  # at least one, unless an ops-only subscriber (checked below)
    languages: list[str] = []  # empty: every language
    min_hits: int = Field(default=1, ge=1)
    local: bool = False  # may deliver to loopback/private addresses (the demo's receiver)
    concurrency: int = Field(default=4, ge=1, le=64, description="deliveries in flight to this endpoint at once")
    # None: one POST per alert; else alerts are buffered in Redis and sent as one digest this long after the first
    digest_seconds: float | None = Field(default=None, gt=0, description="seconds an alert may wait for its digest")
    # which later versions of a story it received become story.updated / story.withdrawn (workers.core.revisions)
    updates: UpdatePolicy = Field(default=DEFAULT_UPDATES, description="none, material or all")
    spreading: Spreading | None = None  # None: no story.spreading events
    spikes: bool = False  # topic.spike when one of its topics has a burst of story clusters
    # the operators' endpoint: feed.quiet and topic.quiet (workers.alerter.opsevents); it may name no topics
    ops: bool = False

    _name = field_validator("name")(_check_name)
    _languages = field_validator("languages")(_check_languages)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_webhook_url(v)

    @model_validator(mode="after")
    def _topics(self) -> Subscriber:
        if not self.topics and not self.ops:
            raise ValueError("topics: name at least one topic (or set ops: true for an operators' endpoint)")
        return self

    @field_validator("secret_env", "secret_file")
    @classmethod
    def _sources(cls, v: str | list[str] | None) -> str | list[str] | None:
        names = [v] if isinstance(v, str) else v
        if names is not None:
            if not names or not all(names):
                raise ValueError("name at least one secret (newest first), none empty")
            if len(set(names)) != len(names):
                raise ValueError("a secret is named twice")
            if len(names) > MAX_SECRETS:
                raise ValueError(f"at most {MAX_SECRETS} secrets at once (the newest and those being retired)")
        return v

    @property
    def secret_envs(self) -> list[str]:
        return [self.secret_env] if isinstance(self.secret_env, str) else list(self.secret_env or [])

    @property
    def secret_files(self) -> list[str]:
        return [self.secret_file] if isinstance(self.secret_file, str) else list(self.secret_file or [])


MAX_SECRETS = 4  # each costs one HMAC and ~50 header bytes per POST


class SubscribersFile(_Strict):
    subscribers: list[Subscriber] = []


class KafkaSettings(_Strict):
    topic_prefix: str = "wirewatch."
    partitions: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=1, ge=1)  # for `wirewatch kafka init`; 3 on a production cluster
    retention_hours: float = Field(default=168, gt=0)  # stories and matches (`wirewatch kafka init`)
    dlq_retention_hours: float = Field(default=720, gt=0)  # dead letters stay long enough to be replayed
    session_timeout_ms: int = Field(default=10000, ge=1000)
    max_poll_records: int = Field(default=100, ge=1)
    max_poll_interval_ms: int = Field(default=300000, ge=10000)
    # false for the embedded broker: Tansu 0.6 wedges a group for good when a member leaves during a
    # rebalance (issue 12); a stopped consumer's partitions then move after session_timeout_ms instead of
    # at once. On a production Kafka set true: its coordinator handles the leave and hands them over at once.
    leave_group_on_close: bool = False


class RedisSettings(_Strict):
    key_prefix: str = "wirewatch:"
    socket_timeout: float = Field(default=5.0, gt=0)

    @field_validator("key_prefix")
    @classmethod
    def _key_prefix(cls, v: str) -> str:
        # A brace would make the prefix the hash tag of every key: one Redis Cluster slot for everything.
        if "{" in v or "}" in v:
            raise ValueError(f"{v!r} must not contain '{{' or '}}' (they are Redis Cluster hash tags)")
        return v


class PollerSettings(_Strict):
    fetch_timeout: float = Field(default=15.0, gt=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    seen_retention_hours: float = Field(default=24 * 14, gt=0)
    # versions produced per story id at most (an UPDATE, a correction, a kill each make one); past it, changes
    # are dropped: a feed that rewrites a summary on every fetch must not flood the topics
    max_versions: int = Field(default=20, ge=1, le=1000)
    # a feed silent for this many of its usual publishing gaps is "quiet" (workers.poller.quiet); 0: never
    quiet_after_gaps: float = Field(default=10.0, ge=0)
    concurrency: int = Field(default=32, ge=1, description="feeds fetched at once by one poller")
    user_agent: str = "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch)"
    lease_seconds: float = Field(default=180, gt=0, description="a dead poller's feeds are retaken after this")
    max_backoff: float = Field(default=3600, gt=0, description="ceiling of error backoff and Retry-After (s)")
    feeds_file: str = Field(default="feeds.yaml", description="feed list in config/; $WIREWATCH_FEEDS_FILE wins")
    proxy_url: str | None = Field(default=None, description="http:// proxy every feed is fetched through")
    # above this many feeds, per-feed metric series are folded into feed="_all" (the aggregates stay)
    per_feed_metrics_max: int = Field(default=1000, ge=0, description="feeds with metric series of their own")

    @field_validator("proxy_url")
    @classmethod
    def _proxy_url(cls, v: str | None) -> str | None:
        return None if not v else _check_url(v, ("http",))

    @field_validator("feeds_file")
    @classmethod
    def _feeds_file(cls, v: str) -> str:
        if not v.endswith((".yaml", ".yml")) or "/" in v:
            raise ValueError(f"{v!r} must be a .yaml file name inside the config directory")
        return v


class AlerterSettings(_Strict):
    dedup_retention_hours: float = Field(default=72, gt=0)
    delivery_timeout: float = Field(default=10.0, gt=0)
    retry_schedule: list[float] = Field(default=[5, 300, 1800, 7200, 18000, 36000, 36000], min_length=1)
    excerpt_chars: int = Field(default=500, ge=0)
    # an endpoint failing without a single 2xx for this long is disabled (Svix: 5 days); 410 disables at once
    disable_after_hours: float = Field(default=120, gt=0)
    # MinHash slots (of neardup.SLOTS = 32) two bodies may differ in and still be one story; -1 turns near-duplicate
    # detection off. Measured by workers/evaluation/neardup_eval.py; 13 since issue 13 (it was 3 SimHash bits)
    near_duplicate_distance: int = Field(default=13, ge=-1, le=32)
    near_duplicate_min_words: int = Field(default=60, ge=10)
    digest_max_alerts: int = Field(default=100, ge=1, le=1000, description="alerts per digest POST; more: several")
    spikes: SpikeSettings = SpikeSettings()  # the topic-spike detector (workers/settings/spikes.py)


class DaemonSettings(_Strict):
    shutdown_timeout: float = Field(default=30.0, gt=0, description="seconds from SIGTERM to a forced exit")
    health_host: str = "0.0.0.0"
    health_port: int | None = Field(default=None, ge=0, le=65535, description="None: the role's default; 0: off")


class Settings(_Strict):
    daemon: DaemonSettings = DaemonSettings()
    kafka: KafkaSettings = KafkaSettings()
    redis: RedisSettings = RedisSettings()
    poller: PollerSettings = PollerSettings()
    alerter: AlerterSettings = AlerterSettings()


@dataclass(frozen=True)
class Config:
    directory: Path
    feeds: list[Feed]
    topics: list[Any]  # workers.filter.topics.Topic
    subscribers: list[Subscriber]
    settings: Settings
    secrets: dict[str, SecretStr] = field(repr=False, default_factory=dict)

    @property
    def names(self) -> Names:
        return Names(topic_prefix=self.settings.kafka.topic_prefix, key_prefix=self.settings.redis.key_prefix)


def _unique(path: Path, section: str, names: list[str]) -> list[str]:
    """One problem per repeated name."""
    seen: set[str] = set()
    problems = []
    for i, name in enumerate(names):
        if name in seen:
            problems.append(f"{path}: {section}[{i}].name: duplicate name {name!r}")
        seen.add(name)
    return problems


class UnsetSecretError(ConfigError):
    """A subscriber's ``secret_env`` variable is not set in this environment (not a mistake of config/ itself:
    ``config check`` on an operator's machine reports it as a note, the alerter refuses to start)."""


def unset_secret_hint(variable: str) -> str:
    return f'set it first: export {variable}="$(wirewatch secret new)" (the same value the receiver verifies with)'


def _load_secret(path: Path, i: int, sub: Subscriber) -> SecretStr:
    """The subscriber's key ring, newest first, as one SecretStr of space-separated secrets (what
    ``signing.signed_headers`` takes); one ConfigError per secret that is unset, unreadable or malformed."""
    where = f"{path}: subscribers[{i}]"
    if bool(sub.secret_env) == bool(sub.secret_file):
        raise ConfigError(f"{where}: set exactly one of secret_env, secret_file")
    several = len(sub.secret_envs) + len(sub.secret_files) > 1
    ring, problems, unset = [], [], []
    for j, variable in enumerate(sub.secret_envs):
        key = f"{where}.secret_env" + (f"[{j}]" if several else "")
        value = env.secret(variable)
        if not value:
            unset.append(f"{key}: environment variable {variable} is not set; {unset_secret_hint(variable)}")
            continue
        if problem := check_secret(value):
            problems.append(f"{key} ({variable}): {problem}")  # never echo the value
        ring.append(value)
    for j, name in enumerate(sub.secret_files):
        key = f"{where}.secret_file" + (f"[{j}]" if several else "")
        secret_path = path.parent / name
        try:
            secret_path = secret_path.resolve()
            value = secret_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems.append(f"{key}: cannot read {secret_path}: {exc.strerror}")
            continue
        except ValueError as exc:  # a NUL in the name, or a file that is not UTF-8: never echo its bytes
            problems.append(f"{key}: cannot read {secret_path}: {type(exc).__name__}")
            continue
        if problem := check_secret(value):
            problems.append(f"{key}: {problem}")
        ring.append(value)
    if problems:
        raise ConfigError("\n".join(problems + unset))
    if unset:
        raise UnsetSecretError("\n".join(unset))
    return SecretStr(" ".join(ring))


def load_settings(directory: Path) -> Settings:
    path = directory / "settings.yaml"
    return yamlfile.load(Settings, path) if path.exists() else Settings()


def load_feeds(directory: Path, filename: str = "feeds.yaml") -> list[Feed]:
    path = directory / (env.text("WIREWATCH_FEEDS_FILE") or filename)
    feeds = yamlfile.load(FeedsFile, path).feeds
    if problems := _unique(path, "feeds", [f.name for f in feeds]):
        raise ConfigError("\n".join(problems))
    return feeds


def load_subscribers(
    directory: Path, topic_names: set[str] | None, *, secrets: bool = True, unset: list[str] | None = None
) -> tuple[list[Subscriber], dict[str, SecretStr]]:
    """The subscribers and their secrets; every problem of the file at once (a missing secret does not hide an
    unknown topic). ``topic_names`` None: topics.yaml is broken, so topic references are not checked;
    ``secrets`` False: secrets are not read (a daemon that signs nothing); ``unset`` a list: an unset
    ``secret_env`` variable is appended to it instead of being a problem (``config check`` notes it)."""
    path = directory / "subscribers.yaml"
    subs = yamlfile.load(SubscribersFile, path).subscribers if path.exists() else []
    problems = _unique(path, "subscribers", [s.name for s in subs])
    loaded: dict[str, SecretStr] = {}
    for i, sub in enumerate(subs):
        for j, topic in enumerate(sub.topics):
            if topic_names is not None and topic not in topic_names:
                problems.append(f"{path}: subscribers[{i}].topics[{j}]: unknown topic {topic!r} (not in topics.yaml)")
        if secrets:
            try:
                loaded[sub.name] = _load_secret(path, i, sub)
            except UnsetSecretError as exc:
                (problems if unset is None else unset).extend(str(exc).splitlines())
            except ConfigError as exc:
                problems.extend(str(exc).splitlines())
    if problems:
        raise ConfigError("\n".join(problems))
    return subs, loaded


TopicLoader = Callable[[Path], list[Any]]


def topic_names(path: Path) -> list[Any]:
    """The topic names of topics.yaml without compiling them: enough to check what subscribers name."""

    @dataclass(frozen=True)
    class Named:
        name: str

    data = yamlfile.read_yaml(path)
    topics = data.get("topics") if isinstance(data, dict) else None
    return [Named(str(name)) for name in topics] if isinstance(topics, dict) else []


def _collect(problems: list[str], load: Callable[[], Any]) -> Any:
    """``load()``, or None with its problems (one per line) added to ``problems``."""
    try:
        return load()
    except ConfigError as exc:
        problems.extend(str(exc).splitlines())
        return None


def load_config(
    directory: Path | str,
    *,
    need: tuple[str, ...] = ("feeds", "topics", "subscribers"),
    load_topics: TopicLoader = topic_names,
    unset_secrets: list[str] | None = None,
) -> Config:
    """Load and validate all of config/ and the environment, raising one ConfigError with every problem.

    Every file is validated whatever the daemon uses (a poller does not start with a broken topics.yaml);
    ``need`` decides what is returned and whether the subscribers' secrets are read (the poller and the
    filter sign nothing, so they need no secret in their environment). Topics are compiled by the filter's
    ``load_topics``, passed in by the app (settings knows no filter); by default only their names are read.
    ``unset_secrets``: see ``load_subscribers``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"{directory}: config directory not found")
    problems: list[str] = []
    settings = _collect(problems, lambda: load_settings(directory))
    feeds_file = settings.poller.feeds_file if settings is not None else "feeds.yaml"
    feeds = _collect(problems, lambda: load_feeds(directory, feeds_file))
    topics = _collect(problems, lambda: load_topics(directory / "topics.yaml"))
    known = None if topics is None else {t.name for t in topics}
    loaded = _collect(
        problems, lambda: load_subscribers(directory, known, secrets="subscribers" in need, unset=unset_secrets)
    )
    problems.extend(env.problems())
    if problems:
        raise ConfigError("\n".join(problems))
    subs, secrets = loaded
    return Config(
        directory=directory,
        feeds=feeds if "feeds" in need else [],
        topics=topics if ("topics" in need or "subscribers" in need) else [],
        subscribers=subs if "subscribers" in need else [],
        settings=settings,
        secrets=secrets,
    )
