"""Driving Debian's chromium with Playwright for the portal's journeys: one browser per test
module, a context per person (a phone at 390 px, a desk at 1280 px), an accessibility check
with the axe-core that axe-playwright-python ships (served from the package, never fetched), and
screenshots of the main pages (into ``ZEROCLEAR_SCREENSHOTS`` when set, e.g. docs/screenshots).

The browser is never downloaded (no ``playwright install``): ``python3 dev.py`` installs the
``chromium`` package with apt-get where it can. Without it the tests skip, or fail under
``ZEROCLEAR_REQUIRE_SERVICES=1`` (CI must never pass by skipping)."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.testing.services import services_required

CHROMIUM = Path(os.environ.get("ZEROCLEAR_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync", "--mute-audio"]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
SERIOUS = ("serious", "critical")


def launch(playwright):
    if not CHROMIUM.exists():
        message = f"the portal's browser tests need chromium at {CHROMIUM} (python3 dev.py installs it with apt-get)"
        if services_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def new_context(browser, base_url: str, *, viewport=DESK, javascript: bool = True):
    """A person's browser: nothing may be loaded from anywhere but the portal."""
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="zh-CN", accept_downloads=True,
                                  java_script_enabled=javascript, timezone_id="Asia/Shanghai")
    portal = urlsplit(base_url).netloc
    context.elsewhere = []

    def only_the_portal(route):
        if urlsplit(route.request.url).netloc != portal:
            context.elsewhere.append(route.request.url)
            return route.abort()
        return route.continue_()

    context.route("**/*", only_the_portal)
    return context


def accessible(page) -> None:
    """No serious or critical violation of WCAG 2 A/AA (GB/T 37668-2019 follows it) on the page."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                             "wcag21aa", "best-practice"]}})
    found = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result.response["violations"]
             if v["impact"] in SERIOUS]
    assert found == [], f"{page.url}: {found}"


def shoot(page, name: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def screenshot_folder(tmp_path_factory) -> Path:
    chosen = os.environ.get("ZEROCLEAR_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")


def csrf_of(page) -> str:
    return page.locator('input[name="csrf_token"]').first.get_attribute("value")


def submission_seq(page) -> int:
    found = re.search(r"位置第 (\d+) 条", page.locator("main").inner_text())
    assert found, page.locator("main").inner_text()
    return int(found.group(1))
