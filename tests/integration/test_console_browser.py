"""The web console in a real browser (headless Chromium) against the real stack: the broker, Redis, the feed
server and the webhook receiver, with the poller, filter, alerter and console as real processes.

- every page loads (and is screenshotted for the README);
- a story served by the feed appears on the live page without a reload (server-sent events);
- a dead-lettered alert is replayed from the subscriber's portal and arrives at the receiver;
- one subscriber's token does not open another's portal; no or a bad token gets 401 or 403.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import chromium, require_chromium, screenshot, status_of, wait_http
from tests.integration.test_pipeline import subscriber
from tests.support import rss, wait_until
from workers.console.security import portal_token
from workers.devstack.feedserver import FeedServer, Route
from workers.devstack.receiver import Receiver
from workers.devstack.stack import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "browser-test-operator-token-0123456789"
STORY = {
    "title": "North Korea test-fires a new engine near Pyongyang",
    "link": "http://127.0.0.1/wire/nk-engine",
    "guid": "wire-nk-engine-1",
    "description": "Pyongyang said North Korea tested a solid-fuel engine on Sunday, state media reported.",
}
SUMMIT = {
    "title": "Kim Jong Un meets Putin in Vladivostok",
    "link": "http://127.0.0.1/wire/summit",
    "guid": "wire-summit-1",
    "description": "Kim Jong Un and Vladimir Putin met in Vladivostok; Russia and North Korea discussed arms.",
}
PAGES = {  # path -> (screenshot name, text the page must show)
    "/": ("overview", "Overview"),
    "/feeds": ("feeds", "Feed health"),
    "/feeds?state=failing": ("feeds-failing", "Feed health"),
    "/topics": ("topics", "Topics"),
    "/subscribers": ("subscribers", "Subscribers"),
    "/dlq": ("dlq", "Dead letters"),
    "/try": ("try", "Try a text"),
}


@pytest.fixture
def stack(make_config: Any, daemons: Any, secret: str, tmp_path: Path) -> Any:
    require_chromium()
    feeds = FeedServer()
    feeds.start()
    feeds.routes["/wire.xml"] = Route(rss([]))
    feeds.routes["/broken.xml"] = Route(b"oops", status=500)
    receiver = Receiver(secret=secret)
    rurl = f"http://127.0.0.1:{receiver.start()}"
    cfg = make_config(
        feeds=[
            {"name": "wire", "url": feeds.url("/wire.xml"), "interval": 1},
            {"name": "broken", "url": feeds.url("/broken.xml"), "interval": 1},
        ],
        subscribers=[subscriber("desk-a", rurl, ["dprk"]), subscriber("desk-b", rurl, ["dprk"])],
    )
    port = free_port()
    daemons("web", cfg, WIREWATCH_WEB_PORT=str(port), WIREWATCH_WEB_TOKEN=TOKEN)
    for role in ("filter", "alert", "poll"):
        daemons(role, cfg)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/login")
    yield base, feeds, receiver
    feeds.stop()
    receiver.stop()


def sign_in(driver: Any, base: str, path: str, token: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + path)
    field = driver.find_element(By.NAME, "token")
    field.send_keys(token)
    field.submit()


def text_of(driver: Any) -> str:
    """The page's text; a page that is being replaced (the POST-redirect of an action) is read again: its body
    is stale, or the next page has none yet."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(20):
        try:
            return str(driver.find_element(By.TAG_NAME, "body").text)
        except (StaleElementReferenceException, NoSuchElementException):
            time.sleep(0.1)
    return ""


def test_every_page_loads_and_a_live_match_appears_without_reload(stack: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    base, feeds, _receiver = stack
    with chromium(tmp_path) as driver:
        sign_in(driver, base, "/login", TOKEN)
        wait_until(lambda: "Overview" in text_of(driver), 20, what="the overview after signing in")
        driver.get(base + "/live")
        wait_until(lambda: driver.find_element(By.ID, "live-status").text == "live", 30, what="the event stream")
        marker = driver.find_element(By.TAG_NAME, "h1")  # the same element after the match: no reload happened
        feeds.routes["/wire.xml"] = Route(rss([STORY, SUMMIT]))
        wait_until(lambda: STORY["title"] in text_of(driver), 90, interval=0.5, what="the live match")
        wait_until(lambda: SUMMIT["title"] in text_of(driver), 30, interval=0.5, what="the second live match")
        assert marker.is_displayed()  # a reload would have made it stale (StaleElementReferenceException)
        rows = driver.find_elements(By.CSS_SELECTOR, "#live tbody tr.fresh")
        assert len(rows) == 2 and all("dprk" in row.text for row in rows)
        assert "russia" in " ".join(row.text for row in rows)
        screenshot(driver, "live", tmp_path)
        wait_until(lambda: "failing (1)" in _page(driver, base, "/feeds"), 30, what="the broken feed failing")
        for path, (name, heading) in PAGES.items():
            driver.get(base + path)
            assert heading in driver.find_element(By.TAG_NAME, "h1").text, path
            assert "Kafka connected" in text_of(driver), path
            if path == "/topics":
                assert driver.find_elements(By.CSS_SELECTOR, "svg.spark polyline"), "no sparkline"
            screenshot(driver, name, tmp_path)
        field = driver.find_element(By.NAME, "text")
        field.send_keys("Kim Jong Un met Putin in Vladivostok; North Korea and Russia signed a pact.")
        driver.find_element(By.CSS_SELECTOR, "#try-form button").click()
        wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".highlighted mark"), 60, what="highlighted hits")
        assert driver.find_element(By.ID, "language").text == "en"
        assert "dprk" in driver.find_element(By.ID, "topics").text
        screenshot(driver, "try-result", tmp_path)
        logs = driver.get_log("browser")
        assert not [entry for entry in logs if "Content Security Policy" in entry.get("message", "")], logs


def _page(driver: Any, base: str, path: str) -> str:
    driver.get(base + path)
    return text_of(driver)


def test_portal_replays_a_dead_letter_and_keeps_subscribers_apart(stack: Any, tmp_path: Path, secret: str) -> None:
    from selenium.webdriver.common.by import By

    base, feeds, receiver = stack
    receiver.respond = lambda r: 500 if r.path == "/hooks/desk-a" else 204
    feeds.routes["/wire.xml"] = Route(rss([STORY]))
    # retry schedule 0.5, 1, 2 s (make_config): then desk-a's alert is dead-lettered
    wait_until(lambda: any(r.path == "/hooks/desk-b" for r in receiver.unique().values()), 90, what="desk-b's alert")
    a_token, b_token = portal_token(secret, "desk-a"), portal_token(secret, "desk-b")
    with chromium(tmp_path) as driver:
        sign_in(driver, base, "/portal/desk-a", a_token)
        wait_until(lambda: _portal_dead(driver, base), 90, interval=1, what="the dead letter in desk-a's portal")
        assert "endpoint answered 500" in text_of(driver)
        screenshot(driver, "portal", tmp_path)
        receiver.respond = lambda r: 204
        driver.find_element(By.CSS_SELECTOR, "#alerts button.replay").click()
        wait_until(lambda: "parked for delivery" in text_of(driver), 20, what="the replay notice")
        assert "1 alert(s) parked" in driver.find_element(By.ID, "notice").text
        delivered = wait_until(
            lambda: [r for r in receiver.unique().values() if r.path == "/hooks/desk-a"], 60, what="the replayed alert"
        )
        assert delivered[0].verified and delivered[0].json["story"]["title"] == STORY["title"]
        wait_until(lambda: "delivered since" in _page(driver, base, "/portal/desk-a"), 30, what="delivered since")
        # desk-a's session does not open desk-b's portal, nor operator pages
        driver.get(base + "/portal/desk-b")
        assert "A token is needed" in text_of(driver) and "Recent alerts" not in text_of(driver)
        sign_in(driver, base, "/portal/desk-b", a_token)
        assert "not valid here" in text_of(driver)
        driver.get(base + "/feeds")
        assert "Feed health" not in text_of(driver)
    assert status_of(base + "/portal/desk-b") == 401
    assert status_of(base + "/portal/desk-b", {"authorization": f"Bearer {a_token}"}) == 403
    assert status_of(base + "/portal/desk-b", {"authorization": f"Bearer {b_token}"}) == 200
    assert status_of(base + "/feeds") == 401
    assert status_of(base + "/feeds", {"authorization": "Bearer not-the-token"}) == 403
    assert status_of(base + "/feeds", {"authorization": f"Bearer {TOKEN}"}) == 200


def _portal_dead(driver: Any, base: str) -> bool:
    from selenium.webdriver.common.by import By

    time.sleep(0.5)
    driver.get(base + "/portal/desk-a")
    return "dead" in [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#alerts .badge")]
