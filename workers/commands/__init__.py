"""The `wirewatch` subcommands, one module per group. Each module has ``register(subparsers)`` that adds
its parsers and sets ``func`` to a function taking the parsed args and returning an exit code."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_config_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--config", metavar="DIR", help="config directory (default: $WIREWATCH_CONFIG or ./config)")
    return parser


def config_dir(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "config", None) or os.environ.get("WIREWATCH_CONFIG", "config"))
