"""A small HTTP client for tests and benchmarks: keys, reports, waiting for the ledger's answer."""
from __future__ import annotations

import time
from typing import Any

import requests


class Api:
    def __init__(self, urls: dict[str, str], key: str | None = None, session: requests.Session | None = None):
        self.urls = urls
        self.key = key
        self.session = session or requests.Session()

    def as_key(self, key: str | None) -> "Api":
        return Api(self.urls, key, self.session)

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        headers.update(extra or {})
        return headers

    def get(self, service: str, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.urls[service] + path, headers=self._headers(kwargs.pop("headers", None)), timeout=30, **kwargs)

    def post(self, service: str, path: str, **kwargs) -> requests.Response:
        return self.session.post(self.urls[service] + path, headers=self._headers(kwargs.pop("headers", None)), timeout=30, **kwargs)

    def file_report(self, body: dict[str, Any], idempotency_key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.post("intake", "/v1/reports", json=body, headers=headers)

    def wait_decided(self, submission_id: str, timeout: float = 20.0) -> dict:
        """Poll the submission until the ledger has recorded or rejected it."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.get("intake", f"/v1/submissions/{submission_id}")
            answer.raise_for_status()
            body = answer.json()
            if body["status"] != "pending":
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"submission {submission_id} still pending after {timeout}s")
            time.sleep(0.05)


def portal_session(base: str, name: str, password: str) -> requests.Session:
    """A session signed in to the portal at ``base`` through its sign-in form (CSRF token and all),
    for reading its pages and downloads over plain HTTP."""
    import re

    session = requests.Session()
    page = session.get(base + "/sign-in", timeout=30)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text).group(1)
    answer = session.post(base + "/sign-in", data={"csrf_token": token, "username": name, "password": password},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:300]
    return session
