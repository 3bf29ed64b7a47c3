"""`wirewatch secret new`: print a fresh Standard Webhooks signing secret (``whsec_`` + base64 of 32 random
bytes) for a subscriber's ``secret_env`` variable or ``secret_file``. Only stdout carries it, so
``export WIREWATCH_DEMO_SECRET="$(wirewatch secret new)"`` or ``wirewatch secret new > desk.secret`` keep it
out of logs and of the shell history."""

from __future__ import annotations

import argparse
from typing import Any

from workers.core.signing import new_secret


def new(_args: argparse.Namespace) -> int:
    print(new_secret())
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("secret", help="make a webhook signing secret", description="Webhook signing secrets.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    helptext = "print a fresh whsec_ secret (base64 of 32 random bytes) for a subscriber"
    actions.add_parser("new", help=helptext, description=helptext).set_defaults(func=new)
