"""Headless Chromium for the console's browser tests: Debian's chromium and chromium-driver, driven by Selenium
with the driver's path set, so Selenium never looks for (or downloads) a browser of its own."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "docs" / "screenshots"


def require_chromium() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} missing): make deps"
        )
    pytest.importorskip("selenium", reason="browser tests need selenium (the dev extra)")


@contextmanager
def chromium(tmp: Path) -> Iterator[Any]:
    require_chromium()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never reach the network for a driver or a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--disable-gpu",
        f"--user-data-dir={tmp / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP violations land in the console log
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str, tmp: Path) -> Path:
    """A PNG of the page; into docs/screenshots/ (checked in) when WIREWATCH_UPDATE_SCREENSHOTS=1, else tmp."""
    target = SCREENSHOTS if os.environ.get("WIREWATCH_UPDATE_SCREENSHOTS") == "1" else tmp
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot of {name}"
    assert path.stat().st_size > 5000, f"screenshot of {name} is empty"
    return path


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status_of(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url} within {timeout:.0f}s")
