"""The facts the ledger records and folds, as frozen dataclasses, and their wire types.

Proposed facts arrive as plain payloads from other services; ``parse_*`` turns one into a
dataclass or raises ``Malformed`` with every reason, which the ledger records as a rejection.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from collections.abc import Mapping
from typing import Any

REPORT_FILED = "intake.report_filed.v1"
SUBMISSION_REJECTED = "ledger.submission_rejected.v1"
YEAR_OPENED = "ledger.year_opened.v1"

ENTRY_TEXT_FIELDS = ("enterprise", "uscc", "county", "industry", "equipment", "unit", "target_source", "method", "remarks")
ENTRY_INT_FIELDS = ("equipment_count", "workers_affected")
ENTRY_FIELDS = ENTRY_TEXT_FIELDS + ENTRY_INT_FIELDS + ("capacity", "planned_date")
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

    def to_payload(self) -> dict[str, Any]:
        """The payload as the ledger records it: exactly the known fields, nothing a producer added."""
        return {"submission_id": self.submission_id, "region": self.region, "year": self.year,
                "document_no": self.document_no, "signed_by": self.signed_by, "zero_report": self.zero_report,
                "entries": [dict(vars(entry)) for entry in self.entries]}


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


_REPORT_SPEC = (("submission_id", str), ("region", str), ("year", int), ("document_no", str), ("signed_by", str),
                ("zero_report", bool))
_ENTRY_SPEC = tuple((name, str) for name in ENTRY_TEXT_FIELDS) + tuple((name, int) for name in ENTRY_INT_FIELDS)


def parse_report_filed(payload: Mapping[str, Any]) -> ReportFiled:
    reasons: list[Reason] = []
    fields = _typed(payload, _REPORT_SPEC, "", reasons)
    raw_entries = payload.get("entries")
    entries = []
    if type(raw_entries) is not list:
        reasons.append(Reason("malformed", "entries must be a list", "entries 格式错误"))
        raw_entries = []
    for index, raw in enumerate(raw_entries):
        where = f"entries[{index}]."
        values = _typed(raw, _ENTRY_SPEC, where, reasons)
        if isinstance(raw, Mapping):
            values["capacity"] = _capacity(raw, where, reasons)
            values["planned_date"] = _date(raw, where, reasons)
        else:
            values["capacity"] = values["planned_date"] = None
        entries.append(Entry(**values))
    if reasons:
        raise Malformed(reasons)
    return ReportFiled(entries=tuple(entries), **fields)


def _typed(mapping: Any, spec: tuple[tuple[str, type], ...], where: str, reasons: list[Reason]) -> dict[str, Any]:
    """The fields of ``spec`` from ``mapping``, each of exactly its type (a bool is no int)."""
    if not isinstance(mapping, Mapping):
        name = where.rstrip(".") or "the payload"
        reasons.append(Reason("malformed", f"{name} must be an object", f"{name} 格式错误"))
        return {name: None for name, _ in spec}
    values = {}
    for name, kind in spec:
        value = values[name] = mapping.get(name)
        if type(value) is not kind:
            reasons.append(Reason("malformed", f"{where}{name} must be a {kind.__name__}", f"{where}{name} 格式错误"))
    return values


def _capacity(raw, where, reasons) -> str | None:
    value = raw.get("capacity")
    if not isinstance(value, str) or not DECIMAL_TEXT.match(value) or Decimal(value) <= 0:
        reasons.append(Reason("malformed", f"{where}capacity must be a positive decimal string", f"{where}capacity 须为正数"))
        return None
    return value


def _date(raw, where, reasons) -> str | None:
    value = raw.get("planned_date")
    try:
        date.fromisoformat(value)
        return value
    except (TypeError, ValueError):
        reasons.append(Reason("malformed", f"{where}planned_date must be an ISO date", f"{where}planned_date 日期格式错误"))
        return None

