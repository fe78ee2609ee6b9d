"""Who may open the office's and the auditors' pages, on the in-memory clients: a stranger is sent
to sign in, a region or department person is refused every one, an auditor reads but every form
that changes something refuses them (before any service is called). The browser tests in
``tests/e2e/test_portal_office.py`` open every menu entry of both roles."""
from __future__ import annotations

import pytest

from .test_pages import csrf, sign_in

OFFICE_PAGES = ("/office/", "/office/regions/410100", "/office/verification", "/office/verification/410100-2016-1-1",
                "/office/tips", "/office/assessment", "/office/assessment/410100", "/office/circulars",
                "/office/alerts", "/office/subscriptions", "/office/subscriptions/s1/end")
AUDITOR_PAGES = ("/audit/", "/audit/verify", "/audit/events", "/audit/events/1", "/audit/as-of", "/audit/export",
                 "/audit/export.jsonl", "/audit/acknowledgement")
OFFICE_ACTIONS = ("/office/verification/410100-2016-1-1", "/office/assessment/publish", "/office/assessment/410100",
                  "/office/circulars", "/office/subscriptions", "/office/subscriptions/s1/end",
                  "/office/deliveries/d1/redrive")


@pytest.mark.parametrize("path", OFFICE_PAGES + AUDITOR_PAGES)
def test_a_stranger_is_sent_to_sign_in(app, path):
    answer = app.test_client().get(path)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("role, scope", [("region", {"region": "410100"}), ("department", {"department": "environment"})])
def test_region_and_department_people_get_no_office_or_auditor_page(app, portal, role, scope):
    client = app.test_client()
    sign_in(client, portal, "someone", role, **scope)
    for path in OFFICE_PAGES + AUDITOR_PAGES:
        assert client.get(path).status_code == 403, path


def test_an_auditor_changes_nothing(app, portal):
    client = app.test_client()
    sign_in(client, portal, "audit", "auditor")
    token = csrf(client.get("/sign-in").text)
    for path in OFFICE_ACTIONS:
        assert client.post(path, data={"csrf_token": token, "confirm": "y", "decision": "verified"}).status_code == 403, path
    assert portal.clients.intake.calls == []
