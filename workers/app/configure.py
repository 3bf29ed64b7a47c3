"""Loading config/ for a command or a daemon: the settings' loader with the filter's topic compiler passed in."""

from __future__ import annotations

from pathlib import Path

from workers.filter.topics import load_topics
from workers.settings import config as settings_config
from workers.settings.config import Config

ALL = ("feeds", "topics", "subscribers")


def load_config(directory: Path | str, *, need: tuple[str, ...] = ALL) -> Config:
    """Every file ``need`` names, validated, with the topics compiled for the matcher."""
    return settings_config.load_config(directory, need=need, load_topics=load_topics)
