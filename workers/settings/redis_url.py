"""``REDIS_URL`` read and checked before anything connects: one server or a Redis Cluster.

- ``redis://``, ``rediss://`` (TLS), ``unix://``: one Redis server (a primary with replicas: its primary).
- ``redis+cluster://[user:password@]host:port[,host:port...]`` and ``rediss+cluster://`` (TLS): a Redis
  Cluster, the hosts being seed nodes. A cluster has only database 0.

Pure parsing: the client is built by ``workers.infra.redis.make_redis``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

SCHEMES = ("redis", "rediss", "unix")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*")
_NODE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]/,@]+):(\d{1,5})$")


@dataclass(frozen=True)
class ClusterUrl:
    nodes: list[tuple[str, int]]
    tls: bool
    auth: dict[str, str] = field(default_factory=dict)  # username / password when the URL names them


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0] in CLUSTER_SCHEMES


def parse_cluster_url(url: str) -> ClusterUrl:
    """The seed nodes and credentials of a cluster URL; ValueError saying what is wrong."""
    scheme, _, rest = url.partition("://")
    if scheme not in CLUSTER_SCHEMES:
        raise ValueError(f"must start with {' or '.join(s + '://' for s in CLUSTER_SCHEMES)}")
    netloc, _, path = rest.partition("/")
    netloc, path = netloc.split("?", 1)[0], path.split("?", 1)[0]
    if path.strip("/") not in ("", "0"):
        raise ValueError("a Redis Cluster has only database 0")
    auth: dict[str, str] = {}
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, has_password, password = userinfo.partition(":")
        if user:
            auth["username"] = unquote(user)
        if has_password:
            auth["password"] = unquote(password)
    nodes = []
    for node in netloc.split(","):
        m = _NODE.match(node.strip())
        if not m or not 0 < int(m.group(2)) < 65536:
            raise ValueError(f"{node.strip()!r} is not host:port (a comma-separated list of seed nodes)")
        nodes.append((m.group(1).strip("[]"), int(m.group(2))))
    return ClusterUrl(nodes, scheme.startswith("rediss"), auth)


def url_problem(url: str) -> str | None:
    """What is wrong with a ``REDIS_URL``; None when it is usable."""
    if is_cluster_url(url):
        try:
            parse_cluster_url(url)
        except ValueError as exc:
            return str(exc)
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"not a Redis URL: {exc}"
    if parts.scheme not in SCHEMES:
        return "must start with redis://, rediss://, unix://, redis+cluster:// or rediss+cluster://"
    if parts.scheme == "unix":
        return None if parts.path else "unix:// needs the socket's path"
    if not parts.hostname:
        return "has no host"
    db = parts.path.strip("/")
    return None if not db or db.isdigit() else f"database {db!r} is not a number"


def redacted(url: str) -> str:
    """A Redis URL without its password, for logs (every scheme, several cluster seed nodes too)."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    return _QUERY_PASSWORD.sub(r"\1***", f"{scheme}{sep}{netloc}{slash}{tail}")
