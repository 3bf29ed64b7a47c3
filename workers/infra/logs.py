"""Logging set-up: one JSON object per line (the default, for log shippers) or human-readable text.

The ``key=value`` pairs of a message (``delivered alert=msg_1 subscriber=desk story=ab12``) are also
lifted into top-level JSON fields, so a log query can filter on story, feed or subscriber. Anything
shaped like a webhook secret, and the password of a URL (a feed fetched with Basic auth from
``https://user:password@host/``), is masked in both formats, as a last line of defence: secrets are
never passed to a log call on purpose.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO

from workers.core.errors import ConfigError
from workers.settings import env

FORMATS = ("json", "text")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_PAIR = re.compile(r"(?<![\w.])([a-z_]{2,20})=([^\s;]+)")
_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*):[^/\s@]*@")
_RESERVED = {"ts", "level", "logger", "msg", "exc"}


def redact(text: str) -> str:
    return _URL_PASSWORD.sub(r"\1:***@", _SECRET.sub("whsec_***", text))


def fields(message: str) -> dict[str, str]:
    """The key=value pairs of a log message, first occurrence wins."""
    out: dict[str, str] = {}
    for key, value in _PAIR.findall(message):
        if key not in _RESERVED:
            out.setdefault(key, value)
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage())
        doc: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message,
        }
        doc.update(fields(message))
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False)


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
