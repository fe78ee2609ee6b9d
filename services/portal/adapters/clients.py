"""One client per service the portal reaches, over its public HTTP API, with the signed-in
person's own key (``key=``), as any agency would. Lists come a page at a time with an opaque
cursor, so when the ledger's lists gain keyset cursors and more filters (issue 12) only this
module changes. ``adapters/fakes.py`` holds in-memory twins of these for the unit tests."""
from __future__ import annotations

import threading
import time
from typing import Any, Iterator

import requests

from ..domain.announcement import from_summary
from .http import ApiProblem, Page, ServiceClient

ITEM_STATUSES = ("registered", "scheduled", "eliminated", "verified")


def _clean(params: dict) -> dict:
    return {name: value for name, value in params.items() if value not in (None, "")}


class LedgerClient(ServiceClient):
    def __init__(self, base_url: str, **kwargs):
        super().__init__("ledger", base_url, **kwargs)

    def registry(self, key: str, year: int) -> dict:
        return self.json("GET", "/v1/reports", key=key, params={"year": year})

    def _page(self, key: str, path: str, rows: str, params: dict, cursor: str | None, limit: int,
              count: bool = True) -> Page:
        """A page of a ledger list, with its count (``count=true``: an index count, cheap on a filtered list)."""
        body = self.json("GET", path, key=key, params=_clean({**params, "cursor": cursor, "limit": limit,
                                                               "count": "true" if count else None}))
        extra = {name: value for name, value in body.items() if name not in (rows, "next", "total")}
        return Page(body[rows], body.get("total"), body.get("next"), extra)

    def items(self, key: str, *, region: str | None = None, year: int | None = None, status: str | None = None,
              industry: str | None = None, as_of: str | int | None = None, cursor: str | None = None,
              limit: int = 20, count: bool = True) -> Page:
        return self._page(key, "/v1/items", "items", {"region": region, "year": year, "status": status,
                                                       "industry": industry, "as_of": as_of}, cursor, limit, count)

    def item_counts(self, key: str, group_by: str, **filters: Any) -> dict:
        """How many items match ``filters`` per ``group_by`` (region, industry, year, status), each
        with how many of them are overdue: ``{"counts": [{key, count, overdue}], "total", "overdue", ...}``."""
        return self.json("GET", "/v1/items/counts", key=key, params=_clean({**filters, "group_by": group_by}))

    def tip_counts(self, key: str, group_by: str, **filters: Any) -> dict:
        """How many tips match ``filters`` per ``group_by`` (region, status), each with how many are
        open past their period."""
        return self.json("GET", "/v1/tips/counts", key=key, params=_clean({**filters, "group_by": group_by}))

    def year_summary(self, key: str, *, region: str, year: int, overdue: int = 10) -> tuple[dict[str, int], list[dict]]:
        """A region's year at a glance: how many items in each status (and overdue) — one grouped
        count — and the first ``overdue`` overdue ones (a page, fetched only when there are some)."""
        counted = self.item_counts(key, "status", region=region, year=year)
        counts = {**dict.fromkeys(ITEM_STATUSES, 0), **{group["key"]: group["count"] for group in counted["counts"]},
                  "overdue": counted["overdue"]}
        late = self.items(key, region=region, year=year, status="overdue", limit=overdue,
                          count=False).rows if counted["overdue"] else []
        return counts, late

    def item(self, key: str, item_id: str) -> dict | None:
        try:
            return self.json("GET", f"/v1/items/{item_id}", key=key)
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise

    def item_history(self, key: str, item_id: str) -> list[dict]:
        return self.json("GET", f"/v1/items/{item_id}/history", key=key)["events"]

    def tips(self, key: str, *, region: str | None = None, status: str | None = None, cursor: str | None = None,
             limit: int = 20) -> Page:
        return self._page(key, "/v1/tips", "tips", {"region": region, "status": status}, cursor, limit)

    def tip(self, key: str, tip_id: str, *, region: str | None = None) -> dict | None:
        try:
            return self.json("GET", f"/v1/tips/{tip_id}", key=key)
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise

    def discrepancies(self, key: str, *, year: int | None = None, cursor: str | None = None, limit: int = 20) -> Page:
        """A page of the discrepancies, with the first resurgences beside it (``extra``)."""
        page = self._page(key, "/v1/discrepancies", "discrepancies", {"year": year}, cursor, limit)
        page.extra["resurgences"] = self.json("GET", "/v1/resurgences", key=key, params={"limit": 50})["resurgences"]
        return page

    def count(self, key: str, path: str, **filters: Any) -> int:
        """How many rows of a ledger list match (an index count; no rows sent)."""
        return int(self.json("GET", path, key=key, params=_clean({**filters, "limit": 1, "count": "true"}))["total"])

    def registry_all(self, key: str, year: int, as_of: str | None = None) -> dict:
        """The year's registry with every region (its pages joined)."""
        first, cursor = None, None
        while True:
            page = self.json("GET", "/v1/reports", key=key, params=_clean({"year": year, "as_of": as_of,
                                                                           "cursor": cursor, "limit": 1000}))
            if first is None:
                first = page
            else:
                first["regions"].extend(page["regions"])
            cursor = page.get("next")
            if not cursor:
                return first

    def registry_at(self, key: str, year: int, seq: int) -> dict:
        """The year's registry exactly as the log stood at position ``seq`` (every region)."""
        return self.json("GET", "/v1/audit/reports", key=key, params={"year": year, "position": seq})

    def every(self, key: str, path: str, rows: str, **filters: Any) -> Iterator[dict]:
        """Every row of a filtered ledger list, a page of 1,000 at a time."""
        return self._all(lambda cursor: self._page(key, path, rows, filters, cursor, 1000))

    # -- the log itself, for the auditors ----------------------------------------------------------
    def verify_segment(self, key: str, after: int, after_hash: str, limit: int) -> dict:
        """The chain verified on from position ``after`` (whose hash was ``after_hash``) for at most
        ``limit`` events: how far it holds, whether the walk is done, the first bad position if any."""
        return self.json("GET", "/v1/verify/segment", key=key, params={"after": after, "after_hash": after_hash,
                                                                      "limit": limit}, timeout=120)

    def audit_events(self, key: str, *, limit: int = 50, **filters: Any) -> dict:
        return self.json("GET", "/v1/audit/events", key=key, params=_clean({**filters, "limit": limit}))

    def state(self, key: str, seq: int) -> dict:
        """The projections' digest as of position ``seq`` (compare with ``zeroclear ledger replay``)."""
        return self.json("GET", "/v1/state", key=key, params={"as_of": seq}, timeout=120)

    def position_at(self, key: str, instant: str) -> int:
        """The last log position recorded at or before ``instant`` (an ISO time with its offset)."""
        return int(self.json("GET", "/v1/items", key=key, params={"as_of": instant, "limit": 1})["seq"])

    def events_after(self, key: str, after: int, limit: int = 100) -> list[dict]:
        return self.json("GET", "/v1/events", key=key, params={"after": after, "limit": limit})["events"]

    def head(self, key: str) -> dict:
        """The newest event (its seq and hash are the head of the chain), or an empty dict."""
        found = self.audit_events(key, limit=1)["events"]
        return found[0] if found else {}

    def event(self, key: str, seq: int) -> dict | None:
        found = self.json("GET", "/v1/events", key=key, params={"after": seq - 1, "limit": 1})["events"]
        return found[0] if found and found[0]["seq"] == seq else None

    def export(self, key: str) -> requests.Response:
        """The whole log with its checkpoint, streamed, as it is (no content coding: the portal
        passes the bytes through without decoding them)."""
        return self.request("GET", "/v1/audit/export", key=key, stream=True, timeout=(10, 3600),
                            headers={"Accept-Encoding": "identity"})

    @staticmethod
    def _all(fetch) -> Iterator[dict]:
        cursor = None
        while True:
            page = fetch(cursor)
            yield from page.rows
            if page.next is None:
                return
            cursor = page.next


class IntakeClient(ServiceClient):
    def __init__(self, base_url: str, **kwargs):
        super().__init__("intake", base_url, **kwargs)

    def blank_form(self, key: str, region: str, year: int) -> requests.Response:
        return self.request("GET", "/v1/forms/registration.xlsx", key=key, params={"region": region, "year": year},
                            stream=True)

    def _submit(self, key: str | None, path: str, idempotency_key: str | None, **kwargs) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.json("POST", path, key=key, ok=(200, 201, 202), headers=headers, **kwargs)

    def upload_report(self, key: str, fields: dict, filename: str, content: bytes, idempotency_key: str | None) -> dict:
        return self._submit(key, "/v1/reports/upload", idempotency_key, data=_clean(fields),
                            files={"file": (filename, content, "application/octet-stream")})

    def file_report(self, key: str, body: dict, idempotency_key: str | None) -> dict:
        return self._submit(key, "/v1/reports", idempotency_key, json=body)

    def report_elimination(self, key: str, body: dict, idempotency_key: str | None) -> dict:
        return self._submit(key, "/v1/eliminations", idempotency_key, json=body)

    def decide_elimination(self, key: str, body: dict, idempotency_key: str | None) -> dict:
        """The office's 检查验收: ``decision`` verified or rejected (with a ``reason``)."""
        return self._submit(key, "/v1/verifications", idempotency_key, json=body)

    def resolve_tip(self, key: str, tip_id: str, body: dict, idempotency_key: str | None) -> dict:
        return self._submit(key, f"/v1/tips/{tip_id}/resolution", idempotency_key, json=body)

    def file_department_list(self, key: str, body: dict, idempotency_key: str | None) -> dict:
        return self._submit(key, "/v1/department-lists", idempotency_key, json=body)

    def submission(self, key: str, submission_id: str, wait: float = 0) -> dict | None:
        try:
            return self.json("GET", f"/v1/submissions/{submission_id}", key=key, params={"wait": wait})
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise

    def signing_keys(self) -> list[dict]:
        """The keys that sign tip acknowledgements: the current one and those retired."""
        found = self.json("GET", "/v1/tips/signing-key")
        return [found, *found.get("previous", [])]

    # -- anonymous: the citizen's address goes along only for intake's rate limit ---------------
    def file_tip(self, body: dict, client: str, idempotency_key: str | None) -> dict:
        headers = {"X-Forwarded-For": client, **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
        return self.json("POST", "/v1/tips", ok=(201, 202), headers=headers, json=body)

    def lookup_tip(self, receipt: str, client: str) -> dict | None:
        try:
            return self.json("POST", "/v1/tips/lookup", headers={"X-Forwarded-For": client}, json={"receipt": receipt})
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise


class AssessmentClient(ServiceClient):
    def __init__(self, base_url: str, **kwargs):
        super().__init__("assessment", base_url, **kwargs)

    def year(self, key: str, year: int, as_of: str | int | None = None) -> dict:
        return self.json("GET", f"/v1/assessments/{year}", key=key, params=_clean({"as_of": as_of}))

    def summary(self, key: str, year: int, as_of: str | int | None = None) -> dict:
        return self.json("GET", f"/v1/assessments/{year}/summary", key=key, params=_clean({"as_of": as_of}))

    def file_input(self, key: str, body: dict, idempotency_key: str | None) -> dict:
        """The office's score for criterion 2 or 3 of a region's year."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.json("POST", "/v1/assessment-inputs", key=key, ok=(202,), headers=headers, json=body)

    def publish(self, key: str, year: int, body: dict, idempotency_key: str | None) -> dict:
        """Publish the year (409 ``inputs-missing`` with the ``missing`` list when it cannot be)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.json("POST", f"/v1/assessments/{year}/publish", key=key, ok=(202,), headers=headers, json=body)

    def submission(self, key: str, submission_id: str, wait: float = 0) -> dict | None:
        try:
            return self.json("GET", f"/v1/submissions/{submission_id}", key=key, params={"wait": wait})
        except ApiProblem as problem:
            if problem.status == 404:
                return None
            raise


class NotifyClient(ServiceClient):
    """The announcement is open data; the portal keeps only its summary, for as long as notify
    says the announcement may be cached (60 s), never the announcement itself."""

    def __init__(self, base_url: str, *, cache_seconds: float = 60.0, ticks=time.monotonic, **kwargs):
        super().__init__("notify", base_url, **kwargs)
        self.cache_seconds, self._ticks = cache_seconds, ticks
        self._summary: tuple[float, dict] | None = None
        self._lock = threading.Lock()

    def announcement_summary(self) -> dict:
        with self._lock:
            if self._summary is not None and self._ticks() - self._summary[0] < self.cache_seconds:
                return self._summary[1]
        summary = from_summary(self.json("GET", "/public/announcement/summary.json"))
        with self._lock:
            self._summary = (self._ticks(), summary)
        return summary

    def open_data(self, fmt: str) -> requests.Response:
        """The announcement as CSV or JSON, streamed through (never held whole)."""
        return self.request("GET", f"/public/announcement.{fmt}", stream=True)

    def circulars(self, key: str, year: int | None = None) -> list[dict]:
        return self.json("GET", "/v1/circulars", key=key, params=_clean({"year": year}))["circulars"]

    def issue_circular(self, key: str, body: dict) -> dict:
        """Issue a circular now (the same position gives the same circular: 200, not issued twice)."""
        return self.json("POST", "/v1/circulars", key=key, ok=(200, 201), json=body)

    def circular_document(self, key: str, circular_id: str, fmt: str) -> requests.Response:
        return self.request("GET", f"/v1/circulars/{circular_id}.{fmt}", key=key, stream=True)

    def subscriptions(self, key: str) -> list[dict]:
        return self.json("GET", "/v1/subscriptions", key=key)["subscriptions"]

    def subscribe(self, key: str, body: dict) -> dict:
        """A new subscription; a webhook's signing secret is in the answer, once."""
        return self.json("POST", "/v1/subscriptions", key=key, ok=(201,), json=body)

    def end_subscription(self, key: str, subscription_id: str) -> None:
        """End a subscription: nothing new is delivered to it (404 when there is no active one)."""
        self.request("DELETE", f"/v1/subscriptions/{subscription_id}", key=key, ok=(204,))

    def deliveries(self, key: str, status: str | None = None) -> list[dict]:
        return self.json("GET", "/v1/deliveries", key=key, params=_clean({"status": status}))["deliveries"]

    def redrive(self, key: str, delivery_id: str) -> dict:
        return self.json("POST", f"/v1/deliveries/{delivery_id}/redrive", key=key, ok=(202,))

    def alerts(self, key: str, **filters: Any) -> list[dict]:
        return self.json("GET", "/v1/alerts", key=key, params=_clean(filters))["alerts"]


class Clients:
    """The portal's clients, one per service."""

    def __init__(self, intake, ledger, notify, assessment=None):
        self.intake, self.ledger, self.notify, self.assessment = intake, ledger, notify, assessment

    @classmethod
    def over_http(cls, urls: dict[str, str]) -> "Clients":
        return cls(IntakeClient(urls["intake"]), LedgerClient(urls["ledger"]), NotifyClient(urls["notify"]),
                   AssessmentClient(urls["assessment"]))
