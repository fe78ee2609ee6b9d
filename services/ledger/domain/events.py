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

from shared import canonical

REPORT_FILED = "intake.report_filed.v1"
REPORT_AMENDED = "intake.report_amended.v1"
DEPARTMENT_LIST_FILED = "intake.department_list_filed.v1"
ELIMINATION_REPORTED = "intake.elimination_reported.v1"
ELIMINATION_DECIDED = "intake.elimination_decided.v1"
TIP_FILED = "intake.tip_filed.v1"
TIP_RESOLVED = "intake.tip_resolved.v1"
ASSESSMENT_INPUT_FILED = "assessment.input_filed.v1"
ASSESSMENT_PUBLISHED = "assessment.published.v1"
ALERT_ISSUED = "notify.alert_issued.v1"
CIRCULAR_ISSUED = "notify.circular_issued.v1"
SUBMISSION_REJECTED = "ledger.submission_rejected.v1"
YEAR_OPENED = "ledger.year_opened.v1"

BASES = ("emissions", "energy", "quality", "safety")
DECISIONS = ("verified", "rejected")
RESOLUTIONS = ("confirmed", "unfounded", "duplicate")

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
    fields = _typed(payload, _REPORT_SPEC + ((("reason", str),) if amendment else ()), "", reasons)
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
    values = _typed(raw, tuple((name, str) for name in FILER_FIELDS if name in raw), "filer.", reasons)
    return {name: value for name, value in values.items() if value} or None


def _entry(raw: Any, where: str, reasons: list[Reason]) -> Entry:
    values = _typed(raw, _ENTRY_SPEC, where, reasons)
    if isinstance(raw, Mapping):
        values["capacity"] = _capacity(raw, where, reasons)
        values["planned_date"] = _date(raw, where, reasons)
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
    fields = _typed(payload, _LIST_SPEC, "", reasons)
    raw_entries = payload.get("entries") if isinstance(payload, Mapping) else None
    if type(raw_entries) is not list or not raw_entries:
        reasons.append(Reason("malformed", "entries must be a non-empty list", "名单不得为空"))
        raw_entries = []
    entries = []
    for index, raw in enumerate(raw_entries):
        values = _typed(raw, _LISTING_SPEC, f"entries[{index}].", reasons)
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
    fields = _typed(payload, _ELIMINATION_SPEC, "", reasons)
    fields["eliminated_on"] = _date(payload, "", reasons, "eliminated_on") if isinstance(payload, Mapping) else None
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
    fields = _typed(payload, (("submission_id", str), ("item_id", str), ("decision", str), ("reason", str)), "", reasons)
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
    fields = _typed(payload, tuple((name, str) for name in ("submission_id", "region", "enterprise", "uscc", "location",
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
    fields = _typed(payload, spec, "", reasons)
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


#: The longest text each field may hold (the projection columns' sizes); any other text field 5000.
MAX_LENGTH = {"organisation": 100, "person": 50, "phone": 40, "date": 10, "submission_id": 64, "region": 6, "uscc": 18, "industry": 32, "unit": 16, "method": 16, "item_id": 64,
              "tip_id": 64, "duplicate_of": 64, "department": 16, "basis": 16, "resolution": 16, "decision": 16,
              "subject": 80, "rule": 32, "recipient": 16, "deadline": 27,
              "circular_id": 40, "period": 16}
DEFAULT_MAX_LENGTH = 5000


def _typed(mapping: Any, spec: tuple[tuple[str, type], ...], where: str, reasons: list[Reason]) -> dict[str, Any]:
    """The fields of ``spec`` from ``mapping``, each of exactly its type (a bool is no int), a text
    no longer than its column holds (whoever sent it: intake validates more, other producers may not)."""
    if not isinstance(mapping, Mapping):
        name = where.rstrip(".") or "the payload"
        reasons.append(Reason("malformed", f"{name} must be an object", f"{name} 格式错误"))
        return {name: None for name, _ in spec}
    values = {}
    for name, kind in spec:
        value = values[name] = mapping.get(name)
        if type(value) is not kind:
            reasons.append(Reason("malformed", f"{where}{name} must be a {kind.__name__}", f"{where}{name} 格式错误"))
        elif kind is str and len(value) > MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH):
            limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
            reasons.append(Reason("malformed", f"{where}{name} is longer than {limit} characters", f"{where}{name} 过长"))
        elif kind is int and not -2**31 < value < 2**31:
            reasons.append(Reason("malformed", f"{where}{name} is out of range", f"{where}{name} 超出范围"))
    return values


def _capacity(raw, where, reasons) -> str | None:
    value = raw.get("capacity")
    if not isinstance(value, str) or not DECIMAL_TEXT.match(value) or Decimal(value) <= 0:
        reasons.append(Reason("malformed", f"{where}capacity must be a positive decimal string", f"{where}capacity 须为正数"))
        return None
    return value


def _date(raw, where, reasons, name: str = "planned_date") -> str | None:
    value = raw.get(name)
    try:
        if len(value) != 10:
            raise ValueError(value)
        date.fromisoformat(value)
        return value
    except (TypeError, ValueError):
        reasons.append(Reason("malformed", f"{where}{name} must be an ISO date", f"{where}{name} 日期格式错误"))
        return None



# -- assessment -----------------------------------------------------------------------------------
SCORE_TEXT = re.compile(r"^(100(\.0{1,2})?|[1-9]?[0-9](\.[0-9]{1,2})?)$")
DIGEST_TEXT = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class AssessmentInput:
    """The office's score (0–100) for criterion 2 or 3 of a region's year (SPEC §6)."""

    submission_id: str
    region: str
    year: int
    criterion: int
    score: str
    note: str

    def to_payload(self) -> dict[str, Any]:
        return dict(vars(self))


def parse_assessment_input(payload: Mapping[str, Any]) -> AssessmentInput:
    reasons: list[Reason] = []
    fields = _typed(payload, (("submission_id", str), ("region", str), ("year", int), ("criterion", int),
                              ("score", str), ("note", str)), "", reasons)
    if isinstance(fields.get("criterion"), int) and fields["criterion"] not in (2, 3):
        reasons.append(Reason("malformed", "criterion must be 2 or 3", "评分项须为2或3"))
    if isinstance(fields.get("score"), str) and not SCORE_TEXT.match(fields["score"]):
        reasons.append(Reason("malformed", "score must be a decimal from 0 to 100 with at most 2 places",
                              "分数须为0至100，最多两位小数"))
    if reasons:
        raise Malformed(reasons)
    return AssessmentInput(**fields)


@dataclass(frozen=True)
class AssessmentPublished:
    """A year's published assessment: the result's digest, the log position and cut-off it was
    computed at, and the result itself, so anyone can recompute and compare."""

    submission_id: str
    year: int
    cut_off: str
    position: int
    digest: str
    result: Mapping[str, Any]
    replaces: int | None = None  # a correction: the seq of the publication it replaces
    reason: str | None = None  # and why
    #: the ledger's signed checkpoint of the tree at ``position`` ({size, root, note}: a C2SP note),
    #: carried so that whoever keeps the publication can hold the log to it
    checkpoint: Mapping[str, Any] | None = None

    def to_payload(self) -> dict[str, Any]:
        payload = {"submission_id": self.submission_id, "year": self.year, "cut_off": self.cut_off,
                   "position": self.position, "digest": self.digest, "result": dict(self.result)}
        if self.replaces is not None:
            payload.update(replaces=self.replaces, reason=self.reason)
        if self.checkpoint is not None:
            payload["checkpoint"] = dict(self.checkpoint)
        return payload


def parse_publication(payload: Mapping[str, Any]) -> AssessmentPublished:
    reasons: list[Reason] = []
    fields = _typed(payload, (("submission_id", str), ("year", int), ("cut_off", str), ("position", int),
                              ("digest", str)), "", reasons)
    result = payload.get("result") if isinstance(payload, Mapping) else None
    if not isinstance(result, Mapping):
        reasons.append(Reason("malformed", "result must be an object", "result 格式错误"))
    else:
        try:
            canonical.dumps_checked(result)
        except canonical.NotCanonicalisable as exc:
            reasons.append(Reason("malformed", f"result: {exc}", "result 格式错误"))
    if isinstance(fields.get("digest"), str) and not DIGEST_TEXT.match(fields["digest"]):
        reasons.append(Reason("malformed", "digest must be a SHA-256 hex digest", "digest 格式错误"))
    correction = {}
    if isinstance(payload, Mapping) and "replaces" in payload:
        correction = _typed(payload, (("replaces", int), ("reason", str)), "", reasons)
        if isinstance(correction.get("reason"), str) and not correction["reason"].strip():
            reasons.append(Reason("malformed", "a correction needs a reason", "更正须说明理由"))
    witness = {}
    if isinstance(payload, Mapping) and payload.get("checkpoint") is not None:
        witness = {"checkpoint": _checkpoint(payload["checkpoint"], fields.get("position"), reasons)}
    if reasons:
        raise Malformed(reasons)
    return AssessmentPublished(result=result, **fields, **correction, **witness)


def _checkpoint(value: Any, position: Any, reasons: list[Reason]) -> dict[str, Any] | None:
    """A signed checkpoint carried by a publication: its size is the publication's position."""
    found = _typed(value, (("size", int), ("root", str), ("note", str)), "checkpoint.", reasons) \
        if isinstance(value, Mapping) else None
    if found is None:
        reasons.append(Reason("malformed", "checkpoint must be an object", "checkpoint 格式错误"))
        return None
    if set(value) != {"size", "root", "note"} or not DIGEST_TEXT.match(str(found.get("root", ""))) \
            or found.get("size") != position or not 0 < len(found.get("note", "")) <= 2000:
        reasons.append(Reason("malformed", "checkpoint is {size: the position, root: a SHA-256 hex digest, note}",
                              "checkpoint 格式错误"))
    return found


# -- notify ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertIssued:
    """An overdue alert notify issued (SPEC §7): the case, the rule, the level, to whom, the
    deadline and how late; recorded so that every alert is on the log."""

    submission_id: str
    subject: str
    rule: str
    level: int
    region: str
    recipient: str
    deadline: str
    late_days: int
    case: str
    case_en: str
    reason: str
    reason_en: str

    def to_payload(self) -> dict[str, Any]:
        return dict(vars(self))


def parse_alert(payload: Mapping[str, Any]) -> AlertIssued:
    reasons: list[Reason] = []
    spec = (("submission_id", str), ("subject", str), ("rule", str), ("level", int), ("region", str), ("recipient", str),
            ("deadline", str), ("late_days", int), ("case", str), ("case_en", str), ("reason", str), ("reason_en", str))
    fields = _typed(payload, spec, "", reasons)
    if isinstance(fields.get("rule"), str) and fields["rule"] not in ("report_missing", "elimination_overdue",
                                                                       "tip_unresolved"):
        reasons.append(Reason("malformed", "rule must be report_missing, elimination_overdue or tip_unresolved",
                              "规则不在可选范围内"))
    if isinstance(fields.get("level"), int) and fields["level"] not in (1, 2):
        reasons.append(Reason("malformed", "level must be 1 or 2", "级别须为1或2"))
    if reasons:
        raise Malformed(reasons)
    return AlertIssued(**fields)


@dataclass(frozen=True)
class CircularIssued:
    """A circular (通报) issued: pinned to a log position, with the SHA-256 of each of its
    documents, so that anyone holding one can check it is the one issued."""

    submission_id: str
    circular_id: str
    year: int
    number: int
    period: str
    position: int
    json_sha256: str
    html_sha256: str
    pdf_sha256: str | None

    def to_payload(self) -> dict[str, Any]:
        return dict(vars(self))


def parse_circular(payload: Mapping[str, Any]) -> CircularIssued:
    reasons: list[Reason] = []
    spec = (("submission_id", str), ("circular_id", str), ("year", int), ("number", int), ("period", str),
            ("position", int), ("json_sha256", str), ("html_sha256", str))
    fields = _typed(payload, spec, "", reasons)
    pdf = payload.get("pdf_sha256") if isinstance(payload, Mapping) else None
    for name, value in (("json_sha256", fields.get("json_sha256")), ("html_sha256", fields.get("html_sha256")),
                        ("pdf_sha256", pdf)):
        if value is not None and not (isinstance(value, str) and DIGEST_TEXT.match(value)):
            reasons.append(Reason("malformed", f"{name} must be a SHA-256 hex digest", f"{name} 格式错误"))
    if reasons:
        raise Malformed(reasons)
    return CircularIssued(pdf_sha256=pdf, **fields)
