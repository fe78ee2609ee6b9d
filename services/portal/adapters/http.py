"""The plumbing under the portal's clients: one HTTP client per service, each call timed for the
page's ``Server-Timing`` header, every answer that is not a success turned into an ``ApiProblem``
(the service's problem+json, field errors and all) or ``Unavailable``."""
from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests


class Unavailable(RuntimeError):
    """A service could not be reached, or answered 502-504 or 503."""

    def __init__(self, service: str, detail: str = "", retry_after: int | None = None):
        super().__init__(f"{service} is unavailable {detail}".strip())
        self.service, self.retry_after = service, retry_after


@dataclass
class ApiProblem(Exception):
    """A service refused a request (4xx): its problem details."""

    status: int
    title: str = ""
    detail: str = ""
    kind: str = ""
    errors: list[dict] = field(default_factory=list)
    retry_after: int | None = None
    body: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


@dataclass
class Page:
    """One page of a list: its rows, how many there are in all (when the service says), and the
    cursor of the next page (opaque to the views: an offset today, a keyset cursor tomorrow)."""

    rows: list[dict]
    total: int | None = None
    next: str | None = None
    extra: dict = field(default_factory=dict)


#: (service, milliseconds) of the calls made for the current page, for its Server-Timing header.
timings: contextvars.ContextVar[list | None] = contextvars.ContextVar("portal_timings", default=None)


class ServiceClient:
    """One service's API. A session per thread (requests' sessions are not thread-safe)."""

    def __init__(self, name: str, base_url: str, *, timeout: float = 30.0):
        self.name, self.base_url, self.timeout = name, base_url.rstrip("/"), timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def request(self, method: str, path: str, *, key: str | None = None, ok: tuple[int, ...] = (200,),
                headers: dict | None = None, **kwargs: Any) -> requests.Response:
        sent = dict(headers or {})
        if key:
            sent["Authorization"] = f"Bearer {key}"
        started = time.perf_counter()
        try:
            answer = self._session().request(method, self.base_url + path, headers=sent,
                                                timeout=kwargs.pop("timeout", self.timeout), **kwargs)
        except requests.RequestException as exc:
            raise Unavailable(self.name, f"({type(exc).__name__})") from None
        finally:
            spent = timings.get()
            if spent is not None:
                spent.append((self.name, (time.perf_counter() - started) * 1000))
        if answer.status_code in ok:
            return answer
        raise _problem(self.name, answer)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()


def _problem(service: str, answer: requests.Response) -> Exception:
    retry = answer.headers.get("Retry-After")
    retry_after = int(retry) if retry and retry.isdigit() else None
    if answer.status_code in (502, 503, 504) or answer.status_code >= 500:
        return Unavailable(service, f"({answer.status_code})", retry_after)
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiProblem(answer.status_code, str(body.get("title", "")), str(body.get("detail", "")),
                      str(body.get("type", "")).rpartition(":")[2], list(body.get("errors") or []), retry_after, body)
