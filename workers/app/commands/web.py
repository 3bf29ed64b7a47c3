"""`wirewatch web [--host H] [--port P]`: the web console (operator pages and subscriber portals) until SIGTERM.

Operator pages need ``WIREWATCH_WEB_TOKEN``; without it the console listens on loopback only (a wider --host
is a config error, exit 2). ``--portal-token NAME`` prints the portal token to hand to subscriber NAME (derived
from its webhook secret; the subscriber can compute it too, see docs/console.md) and exits. The console reads
every file of config/ and needs the subscribers' secrets (the portal tokens derive from them)."""

from __future__ import annotations

import argparse
from typing import Any

from workers.app.commands import add_config_option, config_dir
from workers.core.errors import ConfigError, WirewatchError


def run(args: argparse.Namespace) -> int:
    from workers.app.configure import load_config

    cfg = load_config(config_dir(args), match=args.portal_token is None)
    if args.portal_token is not None:
        from workers.console.security import portal_token

        if args.portal_token not in cfg.secrets:
            raise ConfigError(f"{config_dir(args)}/subscribers.yaml: no subscriber named {args.portal_token!r}")
        print(portal_token(cfg.secrets[args.portal_token].get_secret_value(), args.portal_token))
        return 0
    try:
        from workers.console.server import ConsoleServer, address
    except ImportError as exc:
        raise WirewatchError(
            f"the web console needs the extra 'web' ({exc.name} is missing): pip install 'wirewatch[web]'"
        ) from None
    from workers.infra.redis import make_redis
    from workers.settings.env import Env

    host, port = address(args.host, args.port)
    env = Env.from_environ()
    redis = make_redis(env.redis_url, cfg.settings.redis.socket_timeout)
    try:
        server = ConsoleServer(cfg, env, redis, host, port)
    except OSError as exc:
        raise WirewatchError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    print(f"web console on {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.serve()
    finally:
        redis.close()
    return 0


def register(sub: Any) -> None:
    helptext = "the web console: feed health, topics, live matches, subscribers, dead letters, portals"
    p = add_config_option(sub.add_parser("web", help=helptext, description=helptext))
    p.add_argument("--host", help="address to listen on (default: $WIREWATCH_WEB_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: $WIREWATCH_WEB_PORT or 9470; 0: any free port)")
    p.add_argument("--portal-token", metavar="NAME", help="print subscriber NAME's portal token and exit")
    p.set_defaults(func=run)
