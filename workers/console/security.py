"""Who may see a console page, and the headers every answer carries.

- **Operators** present ``WIREWATCH_WEB_TOKEN`` once (the login form, or ``Authorization: Bearer`` for scripts);
  the session cookie holds an HMAC of the token, never the token. With no token set, the console serves only
  loopback (``check_bind``).
- **A subscriber** sees only ``/portal/<name>``, with its portal token: an HMAC-SHA256 of its name keyed by its own
  webhook signing secret, so the subscriber can compute it from the secret it already holds (``portal_token``;
  docs/console.md has the one-liner) and a secret rotation also rotates it. Its session cookie is scoped to its
  portal's path and keyed by its token, so it opens no other portal.
- Every comparison is constant-time (``hmac.compare_digest``).
- **Actions are POSTs** carrying the double-submit CSRF value: a random cookie (SameSite=Strict, HttpOnly) and the
  same value in a hidden form field; an Origin header of another site is refused as well.
- **Headers:** a strict Content-Security-Policy (scripts and styles only from the console's own /static, no inline
  script), no framing, no referrer to other sites, no MIME sniffing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from workers.core.errors import ConfigError

CSRF_COOKIE = "ww_csrf"
OPERATOR_COOKIE = "ww_operator"
PORTAL_COOKIE = "ww_portal"
PORTAL_CONTEXT = b"wirewatch-portal-v1:"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # no-referrer would make browsers send "Origin: null" on our own forms
    "cache-control": "no-store",
}


def portal_token(secret: str, subscriber: str) -> str:
    """A subscriber's portal token, derived from its webhook secret (the subscriber can compute it too)."""
    mac = hmac.new(secret.encode(), PORTAL_CONTEXT + subscriber.encode(), hashlib.sha256).digest()
    return "wwp_" + base64.urlsafe_b64encode(mac[:24]).decode()


def session_value(token: str, scope: str) -> str:
    """What a session cookie holds: an HMAC of the token for one scope, so the cookie is not the token."""
    return hmac.new(token.encode(), b"wirewatch-session:" + scope.encode(), hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def bearer(headers: Any) -> str | None:
    auth = headers.get("authorization") or ""
    scheme, _, value = auth.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def check_bind(host: str, token: str | None) -> None:
    """Without an operator token the console must not be reachable from another machine."""
    if token:
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"environment WIREWATCH_WEB_HOST: {host} is not a loopback address; set WIREWATCH_WEB_TOKEN to serve "
            "the console beyond this machine"
        )


def _cookies(scope: MutableMapping[str, Any]) -> dict[str, str]:
    from starlette.requests import cookie_parser

    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return cookie_parser(value.decode("latin-1"))
    return {}


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class SecurityHeaders:
    """ASGI middleware: the headers above on every answer, and a CSRF cookie for a browser that has none yet
    (``request.state.csrf`` is the value forms embed). Pure ASGI, so server-sent events stream through."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import MutableHeaders

        token = _cookies(scope).get(CSRF_COOKIE, "")
        fresh = None
        if len(token) < 32:
            fresh = token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf"] = token
        secure = "; Secure" if scope.get("scheme") == "https" else ""

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in HEADERS.items():
                    headers[key] = value
                if fresh:
                    headers.append("set-cookie", f"{CSRF_COOKIE}={fresh}; Path=/; HttpOnly; SameSite=Strict{secure}")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_ok(cookies: dict[str, str], form_value: Any, origin: str | None, host: str | None) -> bool:
    """A POST is ours when its form carries the CSRF cookie's value and no other site's Origin."""
    if origin and host and origin.split("://", 1)[-1] != host:
        return False
    cookie = cookies.get(CSRF_COOKIE)
    return bool(cookie) and isinstance(form_value, str) and same(form_value, cookie or "")
