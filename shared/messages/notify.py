"""Notify's messages: the alerts and circulars it issues, recorded on the ledger.

Owned by the notify service (services/notify).
"""
from __future__ import annotations

from . import promise, type_name

PRODUCER = "notify"

ALERT_ISSUED = type_name(PRODUCER, "alert_issued", 1)
CIRCULAR_ISSUED = type_name(PRODUCER, "circular_issued", 1)

PROMISES = {p.type: p for p in (
    promise(ALERT_ISSUED, "submission_id subject rule level region recipient deadline late_days case case_en reason "
            "reason_en", "", "An overdue alert issued to a region or escalated to the office"),
    promise(CIRCULAR_ISSUED, "submission_id circular_id year number period position json_sha256 html_sha256",
            "pdf_sha256", "A circular issued, with its documents' SHA-256"),
)}
