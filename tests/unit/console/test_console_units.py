"""The console's pure parts: highlighting, tokens, the bind rule, what a URL shows, CSRF, pagination."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from workers.console.app import display_url, href, sparkline
from workers.console.security import CSRF_COOKIE, check_bind, csrf_ok, portal_token, session_value
from workers.console.state import paginate
from workers.console.trytext import Segment, highlight
from workers.core.errors import ConfigError
from workers.filter.matcher import Hit, TopicMatch


def tm(name: str, *spans: tuple[int, int]) -> TopicMatch:
    return TopicMatch(name, ["x"], [Hit("x", s, e) for s, e in spans], "")


@pytest.mark.parametrize(
    ("text", "found", "expected"),
    [
        ("no hit here", {}, [Segment("no hit here")]),
        ("North Korea fired", {"dprk": tm("dprk", (0, 11))}, [Segment("North Korea", ("dprk",)), Segment(" fired")]),
        (
            "Kim met Putin",
            {"dprk": tm("dprk", (0, 3)), "russia": tm("russia", (8, 13))},
            [Segment("Kim", ("dprk",)), Segment(" met "), Segment("Putin", ("russia",))],
        ),
        (  # overlapping hits of two topics are one marked segment naming both
            "Russia-Korea",
            {"russia": tm("russia", (0, 6)), "pair": tm("pair", (0, 12))},
            [Segment("Russia-Korea", ("pair", "russia"))],
        ),
    ],
)
def test_highlight_cuts_the_text_at_every_hit(text: str, found: dict[str, TopicMatch], expected: list[Segment]) -> None:
    segments = highlight(text, found)
    assert segments == expected
    assert "".join(s.text for s in segments) == text


def test_portal_token_is_the_documented_hmac_and_differs_per_subscriber() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    mac = hmac.new(secret.encode(), b"wirewatch-portal-v1:desk-a", hashlib.sha256).digest()[:24]
    assert portal_token(secret, "desk-a") == "wwp_" + base64.urlsafe_b64encode(mac).decode()
    assert portal_token(secret, "desk-a") != portal_token(secret, "desk-b")
    assert secret not in portal_token(secret, "desk-a")
    assert session_value("t", "portal:desk-a") != session_value("t", "portal:desk-b")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_without_a_token_loopback_is_allowed(host: str) -> None:
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.4", "::", "example.org"])
def test_without_a_token_a_wider_address_is_a_config_error(host: str) -> None:
    with pytest.raises(ConfigError, match="WIREWATCH_WEB_TOKEN"):
        check_bind(host, None)
    check_bind(host, "a-token")  # with one it is allowed


def test_display_url_drops_user_info_and_query() -> None:
    assert display_url("https://u:pw@hooks.example:8443/in?key=s3cret") == "https://hooks.example:8443/in?…"
    assert display_url("http://h/p") == "http://h/p"
    assert href("javascript:alert(1)") == "#"
    assert href("https://x/y") == "https://x/y"


def test_csrf_needs_the_cookie_value_and_no_foreign_origin() -> None:
    cookies = {CSRF_COOKIE: "v" * 40}
    assert csrf_ok(cookies, "v" * 40, None, "127.0.0.1:1")
    assert csrf_ok(cookies, "v" * 40, "http://127.0.0.1:1", "127.0.0.1:1")
    assert not csrf_ok(cookies, "w" * 40, None, "127.0.0.1:1")
    assert not csrf_ok({}, "v" * 40, None, "127.0.0.1:1")
    assert not csrf_ok(cookies, None, None, "127.0.0.1:1")
    assert not csrf_ok(cookies, "v" * 40, "http://evil.example", "127.0.0.1:1")


def test_paginate_and_sparkline() -> None:
    assert paginate(list(range(120)), 3, 50) == (list(range(100, 120)), 3, 3)
    assert paginate([], 9, 50) == ([], 1, 1)
    points = sparkline([0, 5, 10])
    assert points.split()[0].endswith(",22.0") and points.split()[-1].endswith(",2.0")
