"""Submissions and the messages they propose to the ledger."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from shared.envelope import Envelope, new_envelope
# intake's own messages, published (shared/messages) for the ledger and the readers of its log
from shared.messages.intake import DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED, ELIMINATION_REPORTED  # noqa: F401
from shared.messages.intake import REPORT_AMENDED, REPORT_FILED, TIP_FILED, TIP_RESOLVED  # noqa: F401
from shared.messages.ledger import SUBMISSION_REJECTED
#: The actor a tip is filed as: nobody in particular (no key, no address, no identity).
PUBLIC_ACTOR = "public"
#: The ledger's answer when it refuses a proposal (its wire contract, see the contract tests).
LEDGER_REJECTED = SUBMISSION_REJECTED
PENDING, RECORDED, REJECTED = "pending", "recorded", "rejected"


@dataclass(frozen=True)
class Submission:
    submission_id: str
    kind: str
    region: str | None
    year: int | None
    actor: str
    key_id: str
    submitted_at: datetime
    message: Envelope


def decimal_text(value: Decimal) -> str:
    """The one textual form of a quantity: plain notation, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text


def report_payload(submission_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``intake.report_filed.v1`` (or ``report_amended``) payload from a validated report body."""
    payload = {
        "submission_id": submission_id,
        "region": data["region"],
        "year": data["year"],
        "document_no": data["document_no"],
        "signed_by": data["signed_by"],
        "zero_report": data["zero_report"],
        "entries": [entry_payload(e) for e in data["entries"]],
    }
    if data.get("amendment"):
        payload["reason"] = data["reason"]
    filer = {name: value.isoformat() if isinstance(value, date) else value
             for name, value in (data.get("filer") or {}).items() if value}
    if filer:
        payload["filer"] = filer
    return payload


def entry_payload(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "enterprise": entry["enterprise"],
        "uscc": entry["uscc"],
        "county": entry["county"],
        "industry": entry["industry"],
        "equipment": entry["equipment"],
        "equipment_count": entry["equipment_count"],
        "capacity": decimal_text(entry["capacity"]),
        "unit": entry["unit"],
        "target_source": entry["target_source"],
        "planned_date": entry["planned_date"].isoformat() if isinstance(entry["planned_date"], date) else entry["planned_date"],
        "method": entry["method"],
        "workers_affected": entry["workers_affected"],
        "remarks": entry.get("remarks", ""),
    }


def report_submission(submission_id: str, data: Mapping[str, Any], *, actor: str, key_id: str,
                      now: datetime) -> Submission:
    kind, message_type = ("amendment", REPORT_AMENDED) if data.get("amendment") else ("report", REPORT_FILED)
    message = new_envelope(message_type, report_payload(submission_id, data), actor=actor, occurred_at=now,
                           id=submission_id)
    return Submission(submission_id, kind, data["region"], data["year"], actor, key_id, now, message)


def submission(kind: str, message_type: str, payload: dict[str, Any], *, region: str | None, year: int | None,
               actor: str, key_id: str, now: datetime) -> Submission:
    """Any other submission: ``payload`` already holds its ``submission_id``, the message's id."""
    submission_id = payload["submission_id"]
    message = new_envelope(message_type, payload, actor=actor, occurred_at=now, id=submission_id)
    return Submission(submission_id, kind, region, year, actor, key_id, now, message)
