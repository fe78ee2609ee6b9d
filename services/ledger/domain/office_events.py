"""The facts the office's services propose (assessment's scores and publications, notify's
alerts and circulars), as frozen dataclasses, and how the ledger reads their payloads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any

from shared import canonical

from .validation import DIGEST_TEXT, Malformed, Reason, typed

SCORE_TEXT = re.compile(r"^(100(\.0{1,2})?|[1-9]?[0-9](\.[0-9]{1,2})?)$")


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
    fields = typed(payload, (("submission_id", str), ("region", str), ("year", int), ("criterion", int),
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
    fields = typed(payload, (("submission_id", str), ("year", int), ("cut_off", str), ("position", int),
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
        correction = typed(payload, (("replaces", int), ("reason", str)), "", reasons)
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
    found = typed(value, (("size", int), ("root", str), ("note", str)), "checkpoint.", reasons) \
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
    fields = typed(payload, spec, "", reasons)
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
    fields = typed(payload, spec, "", reasons)
    pdf = payload.get("pdf_sha256") if isinstance(payload, Mapping) else None
    for name, value in (("json_sha256", fields.get("json_sha256")), ("html_sha256", fields.get("html_sha256")),
                        ("pdf_sha256", pdf)):
        if value is not None and not (isinstance(value, str) and DIGEST_TEXT.match(value)):
            reasons.append(Reason("malformed", f"{name} must be a SHA-256 hex digest", f"{name} 格式错误"))
    if reasons:
        raise Malformed(reasons)
    return CircularIssued(pdf_sha256=pdf, **fields)
