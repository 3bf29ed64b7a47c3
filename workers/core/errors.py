"""The error hierarchy: one base class, one subclass per kind of failure, each naming what it concerns."""

from __future__ import annotations


class WirewatchError(Exception):
    """Base of every error wirewatch raises on purpose."""


class ConfigError(WirewatchError):
    """A user's mistake in config/ or the environment; the message names the file, the key and the problem."""


class FeedFetchError(WirewatchError):
    """A feed could not be fetched (network, status, size)."""

    def __init__(self, feed: str, url: str, reason: str) -> None:
        super().__init__(f"feed {feed} ({url}): {reason}")
        self.feed = feed
        self.url = url
        self.reason = reason


class FeedParseError(WirewatchError):
    """A feed was fetched but yielded no usable entry."""

    def __init__(self, feed: str, url: str, reason: str) -> None:
        super().__init__(f"feed {feed} ({url}): {reason}")
        self.feed = feed
        self.url = url
        self.reason = reason


class DeliveryError(WirewatchError):
    """A webhook delivery failed; ``retryable`` says whether trying again may help."""

    def __init__(self, subscriber: str, reason: str, *, retryable: bool = True, status: int | None = None) -> None:
        super().__init__(f"subscriber {subscriber}: {reason}")
        self.subscriber = subscriber
        self.reason = reason
        self.retryable = retryable
        self.status = status
