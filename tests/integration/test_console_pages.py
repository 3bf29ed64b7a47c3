"""The console's pages on a real Redis, through Starlette's test client: every page renders, none shows a secret,
the headers are strict, tokens and CSRF are enforced, the feed filters and the portal show the stores' state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.alerter_support import match
from tests.console_support import (
    INLINE_SCRIPT,
    app_of,
    console_config,
    csrf_of,
    dead_alert_record,
    make_console,
    match_record,
    serving,
)
from workers.app.configure import load_config
from workers.console.security import portal_token
from workers.infra.attemptlog import AttemptLog
from workers.poller.feed_health import HealthStore

pytestmark = pytest.mark.integration

TOKEN = "operator-token-" + "x" * 20
OPERATOR_PAGES = [
    "/",
    "/feeds",
    "/feeds?state=failing",
    "/feeds?state=quiet",
    "/feeds?state=disabled",
    "/topics",
    "/live",
    "/subscribers",
    "/dlq",
    "/dlq?kind=stories",
    "/try",
]


@pytest.fixture
def setup(make_config: Any, redis: Any, secret: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("WIREWATCH_TEST_SECRET", secret)
    feeds = [
        {"name": "wire", "url": "http://reader:feedpass@127.0.0.1:9/wire.xml"},
        {"name": "broken", "url": "http://127.0.0.1:9/broken.xml?apikey=feedkey123"},
        {"name": "gone", "url": "http://127.0.0.1:9/gone.xml"},
        {"name": "sleepy", "url": "http://127.0.0.1:9/sleepy.xml"},
    ]
    cfg = load_config(console_config(make_config, "http://127.0.0.1:9", feeds), match=True)
    health = HealthStore(redis, cfg.names)
    health.record_success("wire", status=200, new=2, next_poll=time.time() + 60, moved_to=None)
    health.record_error("broken", "HTTP 500", errors=3, next_poll=time.time() + 60)
    health.disable("gone", "HTTP 410 Gone")
    health.record_success("sleepy", status=304, new=0, next_poll=time.time() + 60, moved_to=None, quiet=True)
    redis.sadd(cfg.names.quiet_topics(int(time.time() // 86400) - 1), "russia")  # as the alerter judged yesterday
    console = make_console(cfg, redis, token=TOKEN)
    names = cfg.names
    console.tail.add(dead_alert_record(names.alerts_dlq, 0, "desk-a", "alert-a1", "Alert for A"))
    console.tail.add(dead_alert_record(names.alerts_dlq, 1, "desk-b", "alert-b1", "Alert for B"))
    console.tail.add(match_record(names.matches, 0, match(1).to_json()))
    AttemptLog(redis, names).record(
        "desk-a", "alert-a1", status=500, latency_s=0.012, error="endpoint answered 500", outcome="parked"
    )
    with serving(app_of(console)) as url, httpx.Client(base_url=url, follow_redirects=True) as client:
        yield client, cfg


def login(client: httpx.Client, path: str = "/login", token: str = TOKEN) -> None:
    page = client.get("/login" if path == "/login" else path.rsplit("/login", 1)[0])
    resp = client.post(path, data={"token": token, "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert resp.status_code == 303, resp.text


def test_every_page_renders_with_strict_headers_and_no_secret(setup: tuple[Any, Any], secret: str) -> None:
    client, cfg = setup
    login(client)
    ptoken = portal_token(secret, "desk-a")
    login(client, "/portal/desk-a/login", ptoken)
    secrets_ = [secret, TOKEN, ptoken, portal_token(secret, "desk-b"), "feedpass", "feedkey123", "hookpass"]
    for path in OPERATOR_PAGES + ["/portal/desk-a"]:
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert not INLINE_SCRIPT.search(resp.text), path
        assert " style=" not in resp.text, path  # style-src 'self' would block it
        for value in secrets_:
            assert value not in resp.text, (path, "shows a secret")
    tried = client.post(
        "/try", data={"text": "North Korea tested a missile.", "csrf": csrf_of(client.get("/try").text)}
    )
    assert tried.status_code == 200 and "<mark" in tried.text and "dprk" in tried.text
    assert all(value not in tried.text for value in secrets_)


def test_feed_filters_show_failing_quiet_and_disabled(setup: tuple[Any, Any]) -> None:
    client, _ = setup
    login(client)
    rows = {state: client.get(f"/feeds?state={state}").text for state in ("failing", "quiet", "disabled", "all")}
    assert ">broken<" in rows["failing"] and ">wire<" not in rows["failing"]
    assert ">sleepy<" in rows["quiet"] and ">broken<" not in rows["quiet"]
    assert ">gone<" in rows["disabled"] and "HTTP 410 Gone" in rows["disabled"]
    assert all(f">{n}<" in rows["all"] for n in ("wire", "broken", "gone", "sleepy"))
    assert "failing (1)" in rows["all"] and "quiet (1)" in rows["all"] and "disabled (1)" in rows["all"]


def test_operator_pages_need_the_token(setup: tuple[Any, Any]) -> None:
    client, _ = setup
    for path in OPERATOR_PAGES + ["/live/events"]:
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"authorization": "Bearer wrong"}).status_code == 403, path
    assert client.get("/feeds", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    client.cookies.set("ww_operator", "forged")
    assert client.get("/feeds").status_code == 403
    client.cookies.clear()
    page = client.get("/login")
    assert client.post("/login", data={"token": "wrong", "csrf": csrf_of(page.text)}).status_code == 403


def test_a_portal_opens_only_with_its_own_token(setup: tuple[Any, Any], secret: str) -> None:
    client, _ = setup
    assert client.get("/portal/desk-a").status_code == 401
    assert client.get("/portal/nobody").status_code == 401  # an unknown name looks like any other
    b_token = portal_token(secret, "desk-b")
    assert client.get("/portal/desk-a", headers={"authorization": f"Bearer {b_token}"}).status_code == 403
    page = client.get("/login")
    assert client.post("/portal/desk-a/login", data={"token": b_token, "csrf": csrf_of(page.text)}).status_code == 403
    login(client, "/portal/desk-b/login", b_token)
    assert client.get("/portal/desk-b").status_code == 200
    assert client.get("/portal/desk-a").status_code == 401  # B's cookie is scoped to B's portal
    client.cookies.set("ww_portal", client.cookies.get("ww_portal") or "", path="/portal/desk-a")
    assert client.get("/portal/desk-a").status_code == 403  # and is not valid there
    assert client.get("/", headers={"authorization": f"Bearer {b_token}"}).status_code == 403  # nor for operators


def test_portal_shows_its_alerts_and_attempts_only(setup: tuple[Any, Any], secret: str) -> None:
    client, _ = setup
    login(client, "/portal/desk-a/login", portal_token(secret, "desk-a"))
    html = client.get("/portal/desk-a").text
    assert "Alert for A" in html and "Alert for B" not in html
    assert "endpoint answered 500" in html and "12.0 ms" in html


def test_actions_need_csrf(setup: tuple[Any, Any], secret: str, redis: Any) -> None:
    client, cfg = setup
    login(client, "/portal/desk-a/login", portal_token(secret, "desk-a"))
    assert client.post("/portal/desk-a/endpoint", data={"enabled": "0"}).status_code == 403
    assert client.post("/portal/desk-a/endpoint", data={"enabled": "0", "csrf": "x" * 43}).status_code == 403
    assert not redis.exists(cfg.names.endpoint("desk-a"))
    html = client.get("/portal/desk-a").text
    csrf = csrf_of(html)
    foreign = client.post(
        "/portal/desk-a/endpoint", data={"enabled": "0", "csrf": csrf}, headers={"origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    done = client.post("/portal/desk-a/endpoint", data={"enabled": "0", "csrf": csrf})
    assert done.status_code == 200 and "endpoint disabled" in done.text
    assert redis.hexists(cfg.names.endpoint("desk-a"), "disabled_at")
    again = client.post("/portal/desk-a/endpoint", data={"enabled": "1", "csrf": csrf})
    assert "endpoint enabled" in again.text and not redis.exists(cfg.names.endpoint("desk-a"))


def test_portal_notices_are_a_fixed_set(setup: tuple[Any, Any], secret: str) -> None:
    client, _ = setup
    login(client, "/portal/desk-a/login", portal_token(secret, "desk-a"))
    assert "3 alert(s) parked for delivery" in client.get("/portal/desk-a?notice=replayed&count=3").text
    assert "Call 555" not in client.get("/portal/desk-a?notice=Call+555+now").text


def test_redis_down_is_a_503_page(make_config: Any, secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from redis import Redis

    from workers.devstack.stack import free_port

    monkeypatch.setenv("WIREWATCH_TEST_SECRET", secret)
    cfg = load_config(console_config(make_config, "http://127.0.0.1:9"))
    down = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=1, socket_connect_timeout=1)
    with serving(app_of(make_console(cfg, down))) as url, httpx.Client(base_url=url) as client:
        for path in ("/", "/feeds", "/subscribers"):
            resp = client.get(path)
            assert resp.status_code == 503 and "Redis is not reachable" in resp.text, path
            assert "Traceback" not in resp.text


def test_topics_page_shows_the_topics_quiet_yesterday(setup: tuple[Any, Any]) -> None:
    client, _ = setup
    login(client)
    page = client.get("/topics").text
    rows = {r.split("</td>", 1)[0]: r for r in page.split("<tr><td>")[1:]}
    assert '<span class="badge quiet">quiet</span>' in rows["russia"]
    assert "quiet" not in rows["dprk"]
    assert "1 topic(s) had a quiet day yesterday" in page
