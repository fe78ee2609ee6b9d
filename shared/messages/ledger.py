"""The ledger's own messages: what it records of its own accord (a year opened, a rejection).

Owned by the ledger (services/ledger). Every fact another service proposes is recorded under
the proposer's type (``intake``, ``assessment``, ``notify`` here).
"""
from __future__ import annotations

from . import promise, type_name

PRODUCER = "ledger"

YEAR_OPENED = type_name(PRODUCER, "year_opened", 1)
SUBMISSION_REJECTED = type_name(PRODUCER, "submission_rejected", 1)

PROMISES = {p.type: p for p in (
    promise(YEAR_OPENED, "year report_due deadline time_zone regions", "",
            "A campaign year opened: its due dates and the regions expected to report"),
    promise(SUBMISSION_REJECTED, "submission_id message_id message_type region year reasons", "",
            "A submission refused by the ledger, with its reasons"),
)}
