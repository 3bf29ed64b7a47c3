"""Logging set-up: one JSON object per line in the Elastic Common Schema (the default, for log shippers) or
human-readable text.

A JSON line holds ECS's own fields (``@timestamp``, ``log.level``, ``message``, ``ecs.version``, ``log.logger``,
``service.name``, ``error.*``) and the context of the call under ``wirewatch`` (ECS's rule for custom fields:
a namespace of their own), except the few that ECS names (``url`` is ``url.full``, ``reason`` ``event.reason``,
``error`` ``error.type``; table in ``ECS_FIELDS``). docs/decisions/0006-ecs-log-fields.md says why ECS.

Context comes whole and typed from the call itself, never from cutting the rendered text: the
``key=%s`` placeholders of a call's format string name its arguments (``logger.warning("feed gone feed=%s
reason=%s", name, reason)`` gives ``wirewatch.feed`` and ``event.reason`` with the argument's own value:
``"endpoint answered 410 Gone"`` stays one string, an ``int`` stays a number), and ``extra={"fields": {...}}``
adds fields with no placeholder. A ``key=value`` written literally into the format string is lifted as text.

Anything shaped like a webhook secret, and the password of a URL (a feed fetched with Basic auth from
``https://user:password@host/``), is masked in both formats, as a last line of defence: secrets are never
passed to a log call on purpose.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

from workers.core.errors import ConfigError
from workers.settings import env

FORMATS = ("json", "text")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ECS_VERSION = "8.11.0"
SERVICE = "wirewatch"
NAMESPACE = "wirewatch"  # custom fields, as ECS asks: under a name of their own
# context keys ECS already names: the rest go under NAMESPACE
ECS_FIELDS = {"url": ("url", "full"), "reason": ("event", "reason"), "error": ("error", "type")}

_KEY = r"(?<![\w.])([a-z_]{2,20})="
_PAIR = re.compile(_KEY + r"([^\s;]+)")
# a printf conversion: flags, width, precision, type (``%%`` is a literal percent sign)
_CONVERSION = r"%[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]"
_ARG = re.compile(rf"(?:{_KEY})?({_CONVERSION})")
_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*):[^/\s@]*@")
_RESERVED = {"ts", "level", "logger", "msg", "exc", "message"}
_RECORD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    return _URL_PASSWORD.sub(r"\1:***@", _SECRET.sub("whsec_***", text))


def fields(message: str) -> dict[str, str]:
    """The key=value pairs written literally in a text, first occurrence wins (values end at a space)."""
    out: dict[str, str] = {}
    for key, value in _PAIR.findall(message):
        if key not in _RESERVED:
            out.setdefault(key, value)
    return out


def _typed(value: Any) -> Any:
    """A JSON value of its own type (bool, int, float, str); anything else as its text, secrets masked."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


@functools.lru_cache(maxsize=1024)  # a program has a few hundred distinct format strings
def _plan(fmt: str) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[str, str], ...]]:
    """(argument position, key) of each ``key=%x`` of a format string, and its literal ``key=value`` pairs."""
    named, position = [], 0
    for match in _ARG.finditer(fmt):
        key, conversion = match.group(1), match.group(2)
        if conversion == "%%":
            continue
        if key and key not in _RESERVED:
            named.append((position, key))
        position += 1
    return tuple(named), tuple(fields(_ARG.sub("", fmt)).items())


def call_fields(fmt: object, args: Any) -> dict[str, Any]:
    """The context of one call, whole and typed: each ``key=%x`` of the format string with its argument, then
    the literal ``key=value`` pairs of the format string (first occurrence of a key wins)."""
    if not isinstance(fmt, str):
        return {}
    if not isinstance(args, tuple):  # no arguments, or a mapping (``%(name)s``): the literal pairs only
        return dict(fields(fmt))
    out: dict[str, Any] = {}
    named, literal = _plan(fmt)
    for position, key in named:
        if position < len(args):
            out.setdefault(key, _typed(args[position]))
    for key, value in literal:
        out.setdefault(key, value)
    return out


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    section, name = ECS_FIELDS.get(key, (NAMESPACE, key))
    doc.setdefault(section, {}).setdefault(name, value)


def ecs_document(record: logging.LogRecord, exc_text: str | None = None) -> dict[str, Any]:
    """One log record as an ECS document (``@timestamp``, ``log.level`` and ``message`` first, as ecs-logging
    writes them)."""
    doc: dict[str, Any] = {
        "@timestamp": datetime.fromtimestamp(record.created, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "log.level": record.levelname.lower(),
        "message": redact(record.getMessage()),
        "ecs.version": ECS_VERSION,
        "log": {"logger": record.name},
        "service": {"name": SERVICE},
    }
    extra = getattr(record, "fields", None)
    if isinstance(extra, Mapping):
        for key, value in extra.items():
            _put(doc, str(key), _typed(value))
    for key, value in record.__dict__.items():
        if key not in _RECORD_ATTRS and key != "fields":
            _put(doc, key, _typed(value))
    for key, value in call_fields(record.msg, record.args).items():
        _put(doc, key, value)
    if record.exc_info and record.exc_info[0] is not None:
        error = doc.setdefault("error", {})
        error["type"] = record.exc_info[0].__name__
        error["message"] = redact(str(record.exc_info[1]))
        error["stack_trace"] = redact(exc_text or "")
    return doc


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        exc_text = self.formatException(record.exc_info) if record.exc_info else None
        return json.dumps(ecs_document(record, exc_text), ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(level: str | None = None, fmt: str | None = None, stream: IO[str] | None = None) -> None:
    """Level from the argument, else $WIREWATCH_LOG_LEVEL, else INFO; format likewise with $WIREWATCH_LOG_FORMAT."""
    fmt = (fmt or env.text("WIREWATCH_LOG_FORMAT") or "json").lower()
    level = (level or env.text("WIREWATCH_LOG_LEVEL") or "INFO").upper()
    if fmt not in FORMATS:
        raise ConfigError(f"environment WIREWATCH_LOG_FORMAT: {fmt!r} is not one of {', '.join(FORMATS)}")
    if level not in LEVELS:
        raise ConfigError(f"environment WIREWATCH_LOG_LEVEL: {level!r} is not one of {', '.join(LEVELS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("kafka.net.selector").setLevel(logging.ERROR)  # "task ran for 0.13s" noise on a busy core
    logging.getLogger("httpcore").setLevel(logging.WARNING)
