"""Each service's API reference opens in a browser from its own files (issue 13): ``/`` points to
``/docs`` and the OpenAPI document; ``/docs`` renders every operation with nothing fetched from
elsewhere and nothing refused by the page's Content-Security-Policy."""
from __future__ import annotations

import pytest
import requests

from tests.e2e.portal_browser import launch, new_context

pytestmark = pytest.mark.e2e
SERVICES = ("intake", "ledger", "assessment", "notify")


@pytest.fixture
def backend():
    return "embedded"  # pages and documents only


def test_the_root_points_to_the_docs_and_the_document(system):
    for name in SERVICES:
        links = requests.get(system.urls[name] + "/", timeout=10).json()["links"]
        assert links["docs"] == "/docs" and links["openapi"] == "/openapi.json"
        assert requests.get(system.urls[name] + links["openapi"], timeout=10).json()["paths"]
        page = requests.get(system.urls[name] + "/", headers={"Accept": "text/html"}, timeout=10)
        assert 'href="/docs"' in page.text and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert requests.get(system.urls["intake"] + "/docs/static/../http.py", timeout=10).status_code == 404
    ledger = requests.get(system.urls["ledger"] + "/", timeout=10).json()["links"]
    stream = requests.get(system.urls["ledger"] + ledger["asyncapi"], timeout=10).json()
    assert stream["asyncapi"].startswith("2.") and "intake.report_filed.v1" in stream["channels"]


def test_the_docs_render_every_operation_from_local_files(system):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for name in SERVICES:
                context = new_context(browser, system.urls[name])
                page = context.new_page()
                refused = []
                page.on("console", lambda message: refused.append(message.text)
                        if "Content Security Policy" in message.text or message.type == "error" else None)
                page.goto("/docs")
                page.wait_for_selector(".opblock-summary-path", timeout=20_000)
                shown = page.locator(".opblock-summary-path").all_inner_texts()
                document = requests.get(system.urls[name] + "/openapi.json", timeout=10).json()
                assert {path.replace("\u200b", "") for path in shown} == set(document["paths"])
                assert context.elsewhere == [] and refused == [], (name, context.elsewhere, refused)
                context.close()
        finally:
            browser.close()
