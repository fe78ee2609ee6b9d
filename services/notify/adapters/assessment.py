"""The assessment's scores (SPEC §6) as of a log position, which a circular ranks regions by.

Notify does not score: it asks the assessment service (``GET /v1/assessments/<year>?as_of=<seq>``
with the service key), so a circular shows exactly the figures the assessment gives for the same
position. The assessment follows the ledger on its own; until it has reached the position (it
answers 409) or while it cannot be reached, there are no scores, and no circular is issued.
"""
from __future__ import annotations

import time
from typing import Any, Mapping, Protocol

import requests

from ..domain.circular import ScoresUnavailable


class Assessments(Protocol):
    def scores(self, year: int, position: int, wait_seconds: float = 0) -> Mapping[str, Any]:
        """``year``'s assessment as of ``position`` (the assessment service's answer as it gives
        it: ``position``, ``cut_off``, ``digest``, ``regions`` with ``total``, ``grade``, ``rank``,
        ``draft``…), waiting up to ``wait_seconds`` for the assessment to reach the position;
        ``ScoresUnavailable`` otherwise."""


class HttpAssessments:
    """The assessment service's HTTP API, read with the service key."""

    def __init__(self, base_url: str, key: str | None, timeout: float = 10.0, pause: float = 0.1):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.pause = pause
        self._session = requests.Session()
        if key:
            self._session.headers["Authorization"] = f"Bearer {key}"

    def scores(self, year: int, position: int, wait_seconds: float = 0) -> Mapping[str, Any]:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                return self._ask(year, position)
            except ScoresUnavailable:
                if time.monotonic() + self.pause > deadline:
                    raise
            time.sleep(self.pause)

    def _ask(self, year: int, position: int) -> Mapping[str, Any]:
        url = f"{self.base_url}/v1/assessments/{year}"
        try:
            answer = self._session.get(url, params={"as_of": str(position)}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ScoresUnavailable(f"the assessment service is not reachable at {self.base_url} "
                                    f"({type(exc).__name__})") from None
        if answer.status_code == 409:
            raise ScoresUnavailable(f"the assessment has not followed the log to position {position} yet")
        if answer.status_code != 200:
            raise ScoresUnavailable(f"the assessment service answered {answer.status_code} for {year} "
                                    f"as of {position}")
        found = answer.json()
        if found.get("position") != position:
            raise ScoresUnavailable(f"the assessment answered for position {found.get('position')}, not {position}")
        return found


class MemoryAssessments:
    """An in-memory stand-in for unit tests: the results put in, by (year, position)."""

    def __init__(self) -> None:
        self.results: dict[tuple[int, int], Mapping[str, Any]] = {}

    def put(self, result: Mapping[str, Any]) -> None:
        self.results[(result["year"], result["position"])] = result

    def scores(self, year: int, position: int, wait_seconds: float = 0) -> Mapping[str, Any]:
        try:
            return self.results[(year, position)]
        except KeyError:
            raise ScoresUnavailable(f"the assessment has not followed the log to position {position} yet") from None
