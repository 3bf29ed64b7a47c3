"""Loading config/ for a command or a daemon: the settings' loader with the filter's topic compiler passed in."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from workers.filter.topics import load_topics
from workers.settings import config as settings_config
from workers.settings.config import Config

ALL = ("feeds", "topics", "subscribers")


def load_config(
    directory: Path | str, *, need: tuple[str, ...] = ALL, match: bool = False, unset_secrets: list[str] | None = None
) -> Config:
    """All of config/ validated; the topics expanded into every country form only for a ``match``er (the
    filter, match, evaluate): the poller and the alerter check topics.yaml without the lexicon's cost."""
    return settings_config.load_config(
        directory, need=need, load_topics=partial(load_topics, expand=match), unset_secrets=unset_secrets
    )
