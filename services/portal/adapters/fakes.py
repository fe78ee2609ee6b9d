"""In-memory twins of the portal's clients, for unit tests of the pages: the same methods and the
same answers' shapes, with just enough behaviour (a tip gets a receipt, a filing is recorded, a
region key sees only its region). What they get is kept in ``calls`` to assert on."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from ..domain.announcement import from_summary
from .clients import Clients
from .http import ApiProblem, Page


@dataclass
class FakeLedger:
    regions: dict[str, str] = field(default_factory=dict)  # key -> the region it may read (None: all)
    items_: list[dict] = field(default_factory=list)
    tips_: list[dict] = field(default_factory=list)
    discrepancies_: list[dict] = field(default_factory=list)
    reports: dict[tuple[str, int], dict] = field(default_factory=dict)

    def _visible(self, key: str, rows: list[dict]) -> list[dict]:
        region = self.regions.get(key)
        return [row for row in rows if region is None or row.get("region") == region]

    def registry(self, key: str, year: int) -> dict:
        rows = [{"region": code, "status": "awaiting", **self.reports.get((code, year), {})}
                for code in ({self.regions[key]} if self.regions.get(key) else self.regions.values())]
        return {"year": year, "report_due": f"{year}-11-15", "deadline": f"{year}-11-15T15:59:59.999999Z",
                "regions": rows}

    @staticmethod
    def _page(rows: list[dict], cursor: str | None, limit: int) -> Page:
        start = int(cursor or 0)
        following = start + limit if start + limit < len(rows) else None
        return Page(rows[start:start + limit], len(rows), str(following) if following is not None else None)

    def items(self, key: str, *, region=None, year=None, status=None, industry=None, as_of=None, cursor=None, limit=20,
              count=True) -> Page:
        rows = [i for i in self._visible(key, self.items_) if (region is None or i["region"] == region)
                and (year is None or i["year"] == year)
                and (status is None or i["status"] == status or (status == "overdue" and i.get("overdue")))
                and (industry is None or i["industry"] == industry)]
        return self._page(rows, cursor, limit)

    def year_summary(self, key: str, *, region, year, overdue=10) -> tuple[dict[str, int], list[dict]]:
        counts = {s: self.items(key, year=year, status=s).total for s in
                  ("registered", "scheduled", "eliminated", "verified", "overdue")}
        return counts, self.items(key, year=year, status="overdue", limit=overdue).rows

    @staticmethod
    def _counts(rows: list[dict], group_by: str) -> dict:
        groups: dict[str, list[int]] = {}
        for row in rows:
            found = groups.setdefault(str(row[group_by]), [0, 0])
            found[0] += 1
            found[1] += bool(row.get("overdue"))
        counts = [{"key": k, "count": n, "overdue": o} for k, (n, o) in sorted(groups.items())]
        return {"group_by": group_by, "counts": counts, "total": sum(c["count"] for c in counts),
                "overdue": sum(c["overdue"] for c in counts)}

    def item_counts(self, key: str, group_by: str, **filters) -> dict:
        filters.pop("as_of", None)
        return self._counts(self.items(key, **filters, limit=10**6).rows, group_by)

    def tip_counts(self, key: str, group_by: str, **filters) -> dict:
        filters.pop("as_of", None)
        return self._counts(self.tips(key, **filters, limit=10**6).rows, group_by)

    def item(self, key: str, item_id: str) -> dict | None:
        return next((i for i in self._visible(key, self.items_) if i["item_id"] == item_id), None)

    def item_history(self, key: str, item_id: str) -> list[dict]:
        return []

    def tips(self, key: str, *, region=None, status=None, cursor=None, limit=20) -> Page:
        rows = [t for t in self._visible(key, self.tips_) if status is None or t["status"] == status]
        return self._page(rows, cursor, limit)

    def tip(self, key: str, tip_id: str, *, region=None) -> dict | None:
        return next((t for t in self._visible(key, self.tips_) if t["tip_id"] == tip_id), None)

    def discrepancies(self, key: str, *, year=None, cursor=None, limit=20) -> Page:
        page = self._page(self.discrepancies_, cursor, limit)
        page.extra = {"resurgences": []}
        return page


@dataclass
class FakeIntake:
    calls: list[tuple[str, Any]] = field(default_factory=list)
    refuse: ApiProblem | None = None  # the next submission is refused with this
    tips: dict[str, dict] = field(default_factory=dict)  # receipt -> status

    def _accept(self, name: str, payload: Any) -> dict:
        self.calls.append((name, payload))
        if self.refuse is not None:
            problem, self.refuse = self.refuse, None
            raise problem
        sid = secrets.token_hex(8)
        return {"submission_id": sid, "status": "pending", "status_url": f"/v1/submissions/{sid}"}

    def blank_form(self, key, region, year):
        raise NotImplementedError("the fake serves no spreadsheet")

    def upload_report(self, key, fields, filename, content, idempotency_key):
        return self._accept("upload_report", {**fields, "content": content})

    def file_report(self, key, body, idempotency_key):
        return self._accept("file_report", body)

    def report_elimination(self, key, body, idempotency_key):
        return self._accept("report_elimination", body)

    def resolve_tip(self, key, tip_id, body, idempotency_key):
        return self._accept("resolve_tip", {"tip_id": tip_id, **body})

    def file_department_list(self, key, body, idempotency_key):
        return self._accept("file_department_list", body)

    def submission(self, key, submission_id, wait=0):
        return {"submission_id": submission_id, "status": "recorded", "seq": 42, "hash": "ab" * 32,
                "submitted_at": "2016-11-01T01:00:00.000000Z", "year": 2016}

    def file_tip(self, body, client, idempotency_key):
        self._accept("file_tip", {**body, "client": client})
        receipt = secrets.token_urlsafe(12)
        self.tips[receipt] = {"tip_id": secrets.token_hex(8), "region": body["region"], "status": "open",
                              "explanation": None, "resolved_at": None}
        return {**self.tips[receipt], "receipt": receipt}

    def lookup_tip(self, receipt, client):
        return self.tips.get(receipt)


@dataclass
class FakeNotify:
    summary: dict = field(default_factory=lambda: {"as_of": "2016-11-01", "position": 0, "enterprises": 0,
                                                   "progress": {}, "industries": [], "regions": [], "tips": {},
                                                   "latest_tips": []})
    alerts_: list[dict] = field(default_factory=list)

    def announcement_summary(self) -> dict:
        return from_summary(self.summary)

    def open_data(self, fmt):
        raise NotImplementedError("the fake serves no open data")

    def alerts(self, key, **filters):
        return list(self.alerts_)


def fake_clients() -> Clients:
    return Clients(FakeIntake(), FakeLedger(), FakeNotify())
