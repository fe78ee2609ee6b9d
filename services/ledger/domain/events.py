"""The facts the ledger records and folds, as frozen dataclasses, and their wire types.

Proposed facts arrive as plain payloads from other services; ``parse_*`` turns one into a
dataclass or raises ``Malformed`` with every reason (``validation.py``), which the ledger records
as a rejection. The office's facts (assessment, notify) are in ``office_events.py``. The type
names are their producers' (``shared/messages``): a proposed fact is recorded under its
proposer's type, and the ledger's own events under the ledger's.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any

# The types the ledger records, under these names for its rules, folds and AsyncAPI document:
from shared.messages.assessment import INPUT_FILED as ASSESSMENT_INPUT_FILED  # noqa: F401
from shared.messages.assessment import PUBLISHED as ASSESSMENT_PUBLISHED  # noqa: F401
from shared.messages.intake import DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED, ELIMINATION_REPORTED  # noqa: F401
from shared.messages.intake import REPORT_AMENDED, REPORT_FILED, TIP_FILED, TIP_RESOLVED  # noqa: F401
from shared.messages.ledger import SUBMISSION_REJECTED, YEAR_OPENED  # noqa: F401
from shared.messages.notify import ALERT_ISSUED, CIRCULAR_ISSUED  # noqa: F401

from .validation import DECIMAL_TEXT, Malformed, Reason, capacity, iso_date, typed  # noqa: F401 - DECIMAL_TEXT: read by the contract tests

BASES = ("emissions", "energy", "quality", "safety")
DECISIONS = ("verified", "rejected")
RESOLUTIONS = ("confirmed", "unfounded", "duplicate")

ENTRY_TEXT_FIELDS = ("enterprise", "uscc", "county", "industry", "equipment", "unit", "target_source", "method", "remarks")
ENTRY_INT_FIELDS = ("equipment_count", "workers_affected")
ENTRY_FIELDS = ENTRY_TEXT_FIELDS + ENTRY_INT_FIELDS + ("capacity", "planned_date")


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
    reason: str | None = None  # an amendment's reason; None for a first filing
    filer: Mapping[str, str] | None = None  # the form's filer lines (填报单位, 填报人, 联系电话, 填报日期), if given

    def to_payload(self) -> dict[str, Any]:
        """The payload as the ledger records it: exactly the known fields, nothing a producer added."""
        payload = {"submission_id": self.submission_id, "region": self.region, "year": self.year,
                   "document_no": self.document_no, "signed_by": self.signed_by, "zero_report": self.zero_report,
                   "entries": [dict(vars(entry)) for entry in self.entries]}
        if self.reason is not None:
            payload["reason"] = self.reason
        if self.filer:
            payload["filer"] = dict(self.filer)
        return payload


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


def parse_report_filed(payload: Mapping[str, Any], *, amendment: bool = False) -> ReportFiled:
    reasons: list[Reason] = []
    fields = typed(payload, _REPORT_SPEC + ((("reason", str),) if amendment else ()), "", reasons)
    if amendment and isinstance(fields.get("reason"), str) and not fields["reason"].strip():
        reasons.append(Reason("malformed", "an amendment needs a reason", "更正报告须说明理由"))
    raw_entries = payload.get("entries") if isinstance(payload, Mapping) else None
    entries = []
    if type(raw_entries) is not list:
        reasons.append(Reason("malformed", "entries must be a list", "entries 格式错误"))
        raw_entries = []
    for index, raw in enumerate(raw_entries):
        entries.append(_entry(raw, f"entries[{index}].", reasons))
    filer = _filer(payload.get("filer") if isinstance(payload, Mapping) else None, reasons)
    if reasons:
        raise Malformed(reasons)
    return ReportFiled(entries=tuple(entries), filer=filer, **fields)


FILER_FIELDS = ("organisation", "person", "phone", "date")


def _filer(raw: Any, reasons: list[Reason]) -> dict[str, str] | None:
    """The filer lines, if any: only the known ones, each a short text."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - set(FILER_FIELDS):
        reasons.append(Reason("malformed", f"filer must be an object of {', '.join(FILER_FIELDS)}", "filer 格式错误"))
        return None
    values = typed(raw, tuple((name, str) for name in FILER_FIELDS if name in raw), "filer.", reasons)
    return {name: value for name, value in values.items() if value} or None


def _entry(raw: Any, where: str, reasons: list[Reason]) -> Entry:
    values = typed(raw, _ENTRY_SPEC, where, reasons)
    if isinstance(raw, Mapping):
        values["capacity"] = capacity(raw, where, reasons)
        values["planned_date"] = iso_date(raw, where, reasons)
    else:
        values["capacity"] = values["planned_date"] = None
    return Entry(**values)


# -- department lists -------------------------------------------------------------------------
@dataclass(frozen=True)
class Listing:
    enterprise: str
    uscc: str
    region: str
    industry: str
    basis: str
    detail: str


@dataclass(frozen=True)
class DepartmentListFiled:
    submission_id: str
    department: str
    year: int
    entries: tuple[Listing, ...]

    def to_payload(self) -> dict[str, Any]:
        return {"submission_id": self.submission_id, "department": self.department, "year": self.year,
                "entries": [dict(vars(entry)) for entry in self.entries]}


_LIST_SPEC = (("submission_id", str), ("department", str), ("year", int))
_LISTING_SPEC = tuple((name, str) for name in ("enterprise", "uscc", "region", "industry", "basis", "detail"))


def parse_department_list(payload: Mapping[str, Any]) -> DepartmentListFiled:
    reasons: list[Reason] = []
    fields = typed(payload, _LIST_SPEC, "", reasons)
    raw_entries = payload.get("entries") if isinstance(payload, Mapping) else None
    if type(raw_entries) is not list or not raw_entries:
        reasons.append(Reason("malformed", "entries must be a non-empty list", "名单不得为空"))
        raw_entries = []
    entries = []
    for index, raw in enumerate(raw_entries):
        values = typed(raw, _LISTING_SPEC, f"entries[{index}].", reasons)
        if values.get("basis") is not None and values["basis"] not in BASES:
            reasons.append(Reason("malformed", f"entries[{index}].basis must be one of {', '.join(BASES)}",
                                  f"entries[{index}].basis 不在可选范围内"))
        entries.append(Listing(**values))
    if reasons:
        raise Malformed(reasons)
    return DepartmentListFiled(entries=tuple(entries), **fields)


# -- elimination and verification -------------------------------------------------------------
@dataclass(frozen=True)
class EliminationReported:
    submission_id: str
    region: str
    item_id: str
    eliminated_on: str
    method: str
    evidence: str
    workers_resettled: int

    def to_payload(self) -> dict[str, Any]:
        return dict(vars(self))


_ELIMINATION_SPEC = (("submission_id", str), ("region", str), ("item_id", str), ("method", str), ("evidence", str),
                     ("workers_resettled", int))


def parse_elimination(payload: Mapping[str, Any]) -> EliminationReported:
    reasons: list[Reason] = []
    fields = typed(payload, _ELIMINATION_SPEC, "", reasons)
    fields["eliminated_on"] = iso_date(payload, "", reasons, "eliminated_on") if isinstance(payload, Mapping) else None
    if isinstance(fields.get("workers_resettled"), int) and fields["workers_resettled"] < 0:
        reasons.append(Reason("malformed", "workers_resettled must not be negative", "安置职工人数不得为负"))
    if reasons:
        raise Malformed(reasons)
    return EliminationReported(**fields)


@dataclass(frozen=True)
class EliminationDecided:
    submission_id: str
    item_id: str
    decision: str
    reason: str

    def to_payload(self) -> dict[str, Any]:
        return dict(vars(self))


def parse_decision(payload: Mapping[str, Any]) -> EliminationDecided:
    reasons: list[Reason] = []
    fields = typed(payload, (("submission_id", str), ("item_id", str), ("decision", str), ("reason", str)), "", reasons)
    if isinstance(fields.get("decision"), str) and fields["decision"] not in DECISIONS:
        reasons.append(Reason("malformed", "decision must be verified or rejected", "验收结论须为通过或不通过"))
    elif fields.get("decision") == "rejected" and isinstance(fields.get("reason"), str) and not fields["reason"].strip():
        reasons.append(Reason("malformed", "a rejection needs a reason", "不予通过须说明理由"))
    if reasons:
        raise Malformed(reasons)
    return EliminationDecided(**fields)


# -- tips ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TipFiled:
    submission_id: str  # the tip's id
    region: str
    enterprise: str
    uscc: str  # "" when the tipster does not know it
    location: str
    description: str

    def to_payload(self) -> dict[str, Any]:
        return dict(vars(self))


def parse_tip(payload: Mapping[str, Any]) -> TipFiled:
    reasons: list[Reason] = []
    fields = typed(payload, tuple((name, str) for name in ("submission_id", "region", "enterprise", "uscc", "location",
                                                             "description")), "", reasons)
    if reasons:
        raise Malformed(reasons)
    return TipFiled(**fields)


@dataclass(frozen=True)
class TipResolved:
    submission_id: str
    tip_id: str
    resolution: str
    explanation: str
    duplicate_of: str | None
    entry: Entry | None  # what a confirmed tip puts on the ledger

    def to_payload(self) -> dict[str, Any]:
        return {"submission_id": self.submission_id, "tip_id": self.tip_id, "resolution": self.resolution,
                "explanation": self.explanation, "duplicate_of": self.duplicate_of,
                "entry": dict(vars(self.entry)) if self.entry is not None else None}


def parse_tip_resolution(payload: Mapping[str, Any]) -> TipResolved:
    reasons: list[Reason] = []
    spec = (("submission_id", str), ("tip_id", str), ("resolution", str), ("explanation", str))
    fields = typed(payload, spec, "", reasons)
    resolution = fields.get("resolution")
    if isinstance(resolution, str) and resolution not in RESOLUTIONS:
        reasons.append(Reason("malformed", "resolution must be confirmed, unfounded or duplicate", "处理结果不在可选范围内"))
    if isinstance(fields.get("explanation"), str) and not fields["explanation"].strip():
        reasons.append(Reason("malformed", "a resolution needs a public explanation", "须公开说明处理理由"))
    raw = payload if isinstance(payload, Mapping) else {}
    duplicate_of = raw.get("duplicate_of")
    if duplicate_of is not None and (not isinstance(duplicate_of, str) or len(duplicate_of) > 64):
        reasons.append(Reason("malformed", "duplicate_of must be a tip id", "duplicate_of 格式错误"))
        duplicate_of = None
    if resolution == "duplicate" and (not isinstance(duplicate_of, str) or not duplicate_of):
        reasons.append(Reason("malformed", "a duplicate names the tip it repeats (duplicate_of)", "重复举报须注明原举报"))
    if resolution != "duplicate":
        duplicate_of = None
    entry = None
    if resolution == "confirmed":
        entry = _entry(raw.get("entry"), "entry.", reasons)
    if reasons:
        raise Malformed(reasons)
    return TipResolved(duplicate_of=duplicate_of, entry=entry, **fields)
