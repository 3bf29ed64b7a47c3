"""The console's pages: a Starlette application rendering Jinja2 templates, with one static script.

Operator pages (``/``, ``/feeds``, ``/topics``, ``/live``, ``/subscribers``, ``/dlq``, ``/try``) need the operator
session; ``/portal/<name>`` needs that subscriber's own. Every read goes through ``workers.console.state``; the
page handlers are plain functions (Starlette runs them in its thread pool, since redis-py blocks), only the
server-sent events of ``/live/events`` are a coroutine, so an open stream holds no thread.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from workers.console.live import Tail
from workers.console.security import (
    OPERATOR_COOKIE,
    PORTAL_COOKIE,
    SecurityHeaders,
    bearer,
    csrf_ok,
    portal_token,
    same,
    session_value,
)
from workers.console.state import FEED_FILTERS, ConsoleState
from workers.console.trytext import TextTrial

HERE = Path(__file__).parent
HEARTBEAT_S = 15.0


def display_url(url: str) -> str:
    """A URL as pages show it: no user info, no query (either may carry a credential)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unreadable URL)"
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}" + ("?…" if parts.query else "")


def href(url: str) -> str:
    """A story link as pages link it: http(s) only (a feed may carry ``javascript:`` links)."""
    return url if url.lower().startswith(("http://", "https://")) else "#"


def ago(ts: float | None) -> str:
    if ts is None:
        return "-"
    if ts == float("inf"):
        return "never"
    delta = time.time() - ts
    word = "ago" if delta >= 0 else "from now"
    delta = abs(delta)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if delta >= size:
            return f"{delta / size:.0f}{unit} {word}"
    return f"{delta:.0f}s {word}"


def utc(ts: float | None) -> str:
    if ts is None or ts in (float("inf"), 0):
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def sparkline(values: list[int], width: int = 120, height: int = 24) -> str:
    """The points of an SVG polyline for hourly counts (drawn server-side: no script, no inline style)."""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 2 - v / top * (height - 4):.1f}" for i, v in enumerate(values))


class Console:
    def __init__(self, state: ConsoleState, token: str | None, trial: TextTrial) -> None:
        self.state = state
        self.token = token
        self.trial = trial
        self.stopping = threading.Event()
        secrets_ = state.cfg.secrets
        self.portal_tokens = {
            name: portal_token(secrets_[name].get_secret_value(), name)
            for name in state.subscribers
            if name in secrets_
        }
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.filters.update(ago=ago, utc=utc, display_url=display_url, sparkline=sparkline, href=href)
        env.globals["feed_filters"] = FEED_FILTERS

    @property
    def tail(self) -> Tail:
        return self.state.tail

    # --- rendering and access ---
    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("operator", self.token is None or self._operator_session(request))
        context["csrf"] = request.state.csrf
        context["tail"] = self.tail
        return self.templates.TemplateResponse(request, template, context, status_code=status)

    def _operator_session(self, request: Request) -> bool:
        return self.token is not None and same(request.cookies.get(OPERATOR_COOKIE), session_value(self.token, "op"))

    def operator_denied(self, request: Request) -> Response | None:
        """None when the request may see operator pages; else the login page with 401 (no token) or 403 (bad)."""
        if self.token is None:
            return None
        given = bearer(request.headers)
        if given is not None:
            return None if same(given, self.token) else self.page(request, "login.html", 403, bad=True, action="/login")
        cookie = request.cookies.get(OPERATOR_COOKIE)
        if cookie is None:
            return self.page(request, "login.html", 401, action="/login")
        if self._operator_session(request):
            return None
        return self.page(request, "login.html", 403, bad=True, action="/login")

    def _portal_token(self, name: str) -> str:
        # an unknown name is compared against a random token: the answer and its timing say nothing of who exists
        return self.portal_tokens.get(name) or secrets.token_urlsafe(32)

    def portal_denied(self, request: Request, name: str) -> Response | None:
        token = self._portal_token(name)
        login = f"/portal/{name}/login"
        given = bearer(request.headers)
        if given is not None:
            return None if same(given, token) else self.page(request, "login.html", 403, bad=True, action=login)
        cookie = request.cookies.get(PORTAL_COOKIE)
        if cookie is None:
            return self.page(request, "login.html", 401, action=login, portal=name)
        if same(cookie, session_value(token, f"portal:{name}")):
            return None
        return self.page(request, "login.html", 403, bad=True, action=login, portal=name)

    async def form(self, request: Request) -> dict[str, Any] | None:
        """The POSTed form, or None when it fails the CSRF check."""
        form = await request.form()
        if not csrf_ok(request.cookies, form.get("csrf"), request.headers.get("origin"), request.headers.get("host")):
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def forbidden(self, request: Request, why: str) -> Response:
        return self.page(request, "error.html", 403, message=why)

    # --- operator pages ---
    def index(self, request: Request) -> Response:
        if denied := self.operator_denied(request):
            return denied
        return self.page(
            request,
            "index.html",
            feeds=self.state.feeds("all", 1, 1).counts,
            subscribers=self.state.subscriber_page(1, 1).counts,
            dead=self.state.dead_letters("alerts", 1, 1).counts,
            recent=self.tail.recent_matches(10),
        )

    def feeds(self, request: Request) -> Response:
        if denied := self.operator_denied(request):
            return denied
        wanted = request.query_params.get("state", "all")
        wanted = wanted if wanted in FEED_FILTERS else "all"
        return self.page(request, "feeds.html", wanted=wanted, page=self.state.feeds(wanted, _int(request, "page")))

    def topics(self, request: Request) -> Response:
        if denied := self.operator_denied(request):
            return denied
        hourly = self.tail.hourly()
        quiet = self.state.quiet_topics()
        rows = [
            (t.name, sum(hourly.get(t.name, ())), hourly.get(t.name, [0] * 24), t.name in quiet)
            for t in self.state.cfg.topics
        ]
        return self.page(request, "topics.html", rows=rows, quiet=len(quiet))

    def live(self, request: Request) -> Response:
        if denied := self.operator_denied(request):
            return denied
        return self.page(request, "live.html", matches=self.tail.recent_matches(50), seq=self.tail.last_seq)

    async def live_events(self, request: Request) -> Response:
        if denied := self.operator_denied(request):
            return denied
        try:
            after = int(request.query_params.get("after") or request.headers.get("last-event-id") or 0)
        except ValueError:
            after = 0
        return StreamingResponse(
            self._events(min(after, self.tail.last_seq)),
            media_type="text/event-stream",
            headers={"x-accel-buffering": "no"},
        )

    async def _events(self, after: int) -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        beat = time.monotonic()
        while not self.stopping.is_set():
            for m in self.tail.matches_after(after):
                after = m.seq
                yield f"id: {m.seq}\nevent: match\ndata: {json.dumps(m.to_json(), ensure_ascii=False)}\n\n"
            if time.monotonic() - beat > HEARTBEAT_S:  # a proxy closes a silent stream
                beat = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.3)

    def subscribers(self, request: Request) -> Response:
        if denied := self.operator_denied(request):
            return denied
        return self.page(request, "subscribers.html", page=self.state.subscriber_page(_int(request, "page")))

    def dlq(self, request: Request) -> Response:
        if denied := self.operator_denied(request):
            return denied
        kind = "stories" if request.query_params.get("kind") == "stories" else "alerts"
        return self.page(request, "dlq.html", kind=kind, page=self.state.dead_letters(kind, _int(request, "page")))

    async def try_text(self, request: Request) -> Response:
        if denied := self.operator_denied(request):
            return denied
        if request.method == "GET":
            return self.page(request, "try.html", text="", result=None, ready=self.trial.ready)
        form = await self.form(request)
        if form is None:
            return self.forbidden(request, "The form expired; reload the page and try again.")
        text = form.get("text", "")[:20000]
        result = await asyncio.to_thread(self.trial.run, text) if text.strip() else None
        return self.page(request, "try.html", text=text, result=result, ready=True)

    async def login(self, request: Request) -> Response:
        if request.method == "GET" or self.token is None:
            return self.page(request, "login.html", action="/login") if self.token else RedirectResponse("/", 303)
        form = await self.form(request)
        if form is None:
            return self.forbidden(request, "The form expired; reload the page and try again.")
        if not same(form.get("token", ""), self.token):
            return self.page(request, "login.html", 403, bad=True, action="/login")
        return _with_session(RedirectResponse("/", 303), OPERATOR_COOKIE, session_value(self.token, "op"), "/", request)

    async def logout(self, request: Request) -> Response:
        if await self.form(request) is None:
            return self.forbidden(request, "The form expired; reload the page and try again.")
        response = RedirectResponse("/login", 303)
        response.delete_cookie(OPERATOR_COOKIE, path="/")
        return response

    # --- the subscriber portal ---
    def portal(self, request: Request) -> Response:
        name = request.path_params["name"]
        if denied := self.portal_denied(request, name):
            return denied
        return self.page(
            request,
            "portal.html",
            operator=False,
            name=name,
            sub=self.state.subscriber(name),
            alerts=self.state.portal_alerts(name),
            notice=_notice(request),
        )

    async def portal_login(self, request: Request) -> Response:
        name = request.path_params["name"]
        form = await self.form(request)
        if form is None:
            return self.forbidden(request, "The form expired; reload the page and try again.")
        token = self._portal_token(name)
        login = f"/portal/{name}/login"
        if not same(form.get("token", ""), token):
            return self.page(request, "login.html", 403, bad=True, action=login, portal=name)
        path = f"/portal/{name}"
        session = session_value(token, f"portal:{name}")
        return _with_session(RedirectResponse(path, 303), PORTAL_COOKIE, session, path, request)

    async def portal_action(self, request: Request) -> Response:
        name, action = request.path_params["name"], request.path_params["action"]
        if denied := self.portal_denied(request, name):
            return denied
        form = await self.form(request)
        if form is None:
            return self.forbidden(request, "The form expired; reload the page and try again.")
        if action == "replay":
            count = await asyncio.to_thread(
                self.state.replay,
                name,
                form.get("ref") or None,
                _when(form.get("since")),
                _when(form.get("until")),
            )
            notice = f"replayed&count={count}"
        elif action == "endpoint":
            enabled = form.get("enabled") == "1"
            await asyncio.to_thread(self.state.set_endpoint, name, enabled)
            notice = "enabled" if enabled else "disabled"
        elif action == "logout":
            response = RedirectResponse(f"/portal/{name}", 303)
            response.delete_cookie(PORTAL_COOKIE, path=f"/portal/{name}")
            return response
        else:
            return self.page(request, "error.html", 404, heading="Not found", message="No such action.")
        return RedirectResponse(f"/portal/{name}?notice={notice}", 303)

    def routes(self) -> list[Any]:
        def get(path: str, fn: Callable[..., Any]) -> Route:
            return Route(path, fn, methods=["GET"])

        return [
            get("/", self.index),
            get("/feeds", self.feeds),
            get("/topics", self.topics),
            get("/live", self.live),
            get("/live/events", self.live_events),
            get("/subscribers", self.subscribers),
            get("/dlq", self.dlq),
            Route("/try", self.try_text, methods=["GET", "POST"]),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            get("/portal/{name}", self.portal),
            Route("/portal/{name}/login", self.portal_login, methods=["POST"]),
            Route("/portal/{name}/{action:str}", self.portal_action, methods=["POST"]),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]


def _notice(request: Request) -> str:
    """The portal's message after an action, from a fixed set: a query string never puts words on the page."""
    notice = request.query_params.get("notice", "")
    if notice == "replayed":
        return f"{_int(request, 'count', 0)} alert(s) parked for delivery"
    return {"enabled": "endpoint enabled", "disabled": "endpoint disabled"}.get(notice, "")


def _int(request: Request, key: str, default: int = 1) -> int:
    try:
        return max(default, int(request.query_params.get(key) or default))
    except ValueError:
        return default


def _when(value: str | None) -> float | None:
    """A datetime-local form value (read as UTC) as Unix seconds; None when empty or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _with_session(response: Response, cookie: str, value: str, path: str, request: Request) -> Response:
    response.set_cookie(
        cookie, value, path=path, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


def build_app(console: Console, on_start: Callable[[], None], on_stop: Callable[[], None]) -> Starlette:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        on_start()
        try:
            yield
        finally:
            console.stopping.set()
            on_stop()

    def redis_down(request: Request, exc: Exception) -> Response:
        return console.page(request, "error.html", 503, heading="Unavailable", message="Redis is not reachable.")

    return Starlette(
        routes=console.routes(),
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={RedisError: redis_down},
        lifespan=lifespan,
    )
