"""Time-sliced hashes: what the cluster index, the delivered markers and the old per-subscriber index share.

A top-level key with an expiry costs about 200 bytes before its value, so the alerter's per-story entries live in
one hash per time slice (a quarter of the retention window), and each entry carries its own 4-byte big-endian
Unix-seconds stamp. An entry counts only while ``stamp + retention > now``; a slice is written only while it is
the current one and expires one retention window after it ends. Every reader looks at the slices that can still
hold a live entry, oldest first, current last.

The same decisions are made in Python (``Slices``) and inside Lua scripts. A script's source is composed from
the fragments below (``script``), so the decoding of a stamp, the read of every slice and the write of the
current one are written once. A fragment names no key: the keys come in ``KEYS`` (Redis Cluster).
"""

from __future__ import annotations

from collections.abc import Callable

SLICES = 4  # time slices per retention window: an entry's memory outlives its retention by at most one slice


class Slices:
    """The slicing of one retention window."""

    def __init__(self, retention_s: int, count: int = SLICES) -> None:
        self.retention_s = max(1, retention_s)
        self.width_s = max(1, self.retention_s // count)

    def keys(self, key: Callable[[int, int], str], now: int) -> list[str]:
        """The slices (``key(width, index)``) that can hold an entry still live at ``now``: oldest first, current
        last."""
        first, last = (now - self.retention_s + 1) // self.width_s, now // self.width_s
        return [key(self.width_s, i) for i in range(first, last + 1)]

    def ttl(self, now: int) -> int:
        """The expiry to give the current slice when writing to it: its last entry gets a whole window."""
        return (now // self.width_s + 1) * self.width_s + self.retention_s - now

    def live(self, value: bytes, at: int, now: int) -> bool:
        """Whether the entry whose stamp starts at byte ``at`` of ``value`` still counts at ``now``."""
        return int.from_bytes(value[at : at + 4], "big") + self.retention_s > now


# Fragments come before a script's body, so they take what they need as arguments (a Redis script may not read
# globals, and the body's locals are not declared yet).
LIVE_LUA = """
-- an entry whose 4-byte stamp starts at byte ``at`` (1-based) of ``value`` is within ``ttl`` s of ``now``
local function live(value, at, ttl, now) return struct.unpack('>I4', value, at) + ttl > now end
"""

READ_LUA = """
-- HMGET of ``fields`` in the ``n`` slices that start at KEYS[first]: got[slice][field]
local function read_slices(first, n, fields)
  local got = {}
  for s = 1, n do got[s] = redis.call('HMGET', KEYS[first + s - 1], unpack(fields)) end
  return got
end
"""

WRITE_LUA = """
-- ``writes`` (field, value, ...) into the current slice ``key``, which then expires after ``slice_ttl``
local function write_current(key, writes, slice_ttl)
  if #writes > 0 then
    redis.call('HSET', key, unpack(writes))
    redis.call('EXPIRE', key, slice_ttl)
  end
end
"""


def script(body: str, *fragments: str) -> str:
    """A script's source: the fragments it uses, then its body."""
    return "".join([*fragments, body])
