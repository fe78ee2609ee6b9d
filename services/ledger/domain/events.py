"""The facts the ledger records and folds, as frozen dataclasses, and their wire types.

Proposed facts arrive as plain payloads from other services; ``parse_*`` turns one into a
dataclass or raises ``Malformed`` with every reason, which the ledger records as a rejection.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

REPORT_FILED = "intake.report_filed.v1"
SUBMISSION_REJECTED = "ledger.submission_rejected.v1"
YEAR_OPENED = "ledger.year_opened.v1"

ENTRY_TEXT_FIELDS = ("enterprise", "uscc", "county", "industry", "equipment", "unit", "target_source", "method", "remarks")
ENTRY_INT_FIELDS = ("equipment_count", "workers_affected")
DECIMAL_TEXT = re.compile(r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,4})?$")


class Malformed(ValueError):
    def __init__(self, reasons: list["Reason"]):
        super().__init__("; ".join(r.message for r in reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    message_zh: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "message_zh": self.message_zh}


@dataclass(frozen=True)
class Entry:
    enterprise: str
    uscc: str
    county: str
    industry: str
    equipment: str
    equipment_count: int
    capacity: str
    unit: str
    target_source: str
    planned_date: str
    method: str
    workers_affected: int
    remarks: str


@dataclass(frozen=True)
class ReportFiled:
    submission_id: str
    region: str
    year: int
    document_no: str
    signed_by: str
    zero_report: bool
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class YearOpened:
    year: int
    report_due: str
    deadline: str
    time_zone: str
    regions: tuple[str, ...]

    def to_payload(self) -> dict[str, Any]:
        return {"year": self.year, "report_due": self.report_due, "deadline": self.deadline,
                "time_zone": self.time_zone, "regions": list(self.regions)}


def parse_year_opened(payload: Mapping[str, Any]) -> YearOpened:
    return YearOpened(int(payload["year"]), payload["report_due"], payload["deadline"], payload["time_zone"],
                      tuple(payload["regions"]))


def parse_report_filed(payload: Mapping[str, Any]) -> ReportFiled:
    reasons: list[Reason] = []

    def need(mapping, key, kind, where):
        value = mapping.get(key) if isinstance(mapping, Mapping) else None
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            reasons.append(Reason("malformed", f"{where}{key} must be a {kind.__name__}", f"{where}{key} 格式错误"))
        return value

    fields = {k: need(payload, k, t, "") for k, t in (
        ("submission_id", str), ("region", str), ("year", int), ("document_no", str), ("signed_by", str), ("zero_report", bool))}
    raw_entries = payload.get("entries")
    entries = []
    if not isinstance(raw_entries, list):
        reasons.append(Reason("malformed", "entries must be a list", "entries 格式错误"))
        raw_entries = []
    for index, raw in enumerate(raw_entries):
        where = f"entries[{index}]."
        values = {k: need(raw, k, str, where) for k in ENTRY_TEXT_FIELDS}
        values.update({k: need(raw, k, int, where) for k in ENTRY_INT_FIELDS})
        values["capacity"] = _capacity(raw, where, reasons)
        values["planned_date"] = _date(raw, where, reasons)
        entries.append(Entry(**values))
    if reasons:
        raise Malformed(reasons)
    return ReportFiled(entries=tuple(entries), **fields)


def _capacity(raw, where, reasons) -> str | None:
    value = raw.get("capacity") if isinstance(raw, Mapping) else None
    if not isinstance(value, str) or not DECIMAL_TEXT.match(value) or Decimal(value) <= 0:
        reasons.append(Reason("malformed", f"{where}capacity must be a positive decimal string", f"{where}capacity 须为正数"))
        return None
    return value


def _date(raw, where, reasons) -> str | None:
    value = raw.get("planned_date") if isinstance(raw, Mapping) else None
    try:
        date.fromisoformat(value)
        return value
    except (TypeError, ValueError):
        reasons.append(Reason("malformed", f"{where}planned_date must be an ISO date", f"{where}planned_date 日期格式错误"))
        return None

