"""The running system's HTTP APIs as one actor sees them, for the command line and the demo: every
answer that is not the one expected becomes an ``ApiError`` saying which service answered what
(the problem's detail and field errors), or that it could not be reached."""
from __future__ import annotations

import json
from typing import Any, Mapping

import requests


class ApiError(RuntimeError):
    """A service answered otherwise than expected, or not at all (``unreachable``)."""

    def __init__(self, message: str, *, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


class Client:
    def __init__(self, urls: Mapping[str, str], key: str | None = None, *, timeout: float = 120):
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.timeout = timeout
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, service: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any,
             ) -> requests.Response:
        url = self.urls[service]
        try:
            answer = self.session.request(method, url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ApiError(f"{service} is not reachable at {url} ({type(exc).__name__})", unreachable=True) from None
        if answer.status_code not in ok:
            raise ApiError(f"{service} answered {answer.status_code}: {_problem(answer)}")
        return answer


def _problem(answer: requests.Response) -> str:
    try:
        problem = answer.json()
        detail = problem.get("detail") or problem.get("title") or answer.text
        errors = problem.get("errors")
    except (ValueError, AttributeError):
        return answer.text.strip()[:500]
    return detail + (f" {json.dumps(errors, ensure_ascii=False)}" if errors else "")
