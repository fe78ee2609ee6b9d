"""What notify sends to the ledger: an overdue alert issued, a circular issued (its documents'
hashes). Their names and promised fields are published in ``shared/messages/notify.py`` (the
contract every consumer reads); here they are built."""
from __future__ import annotations

from datetime import datetime

from shared.envelope import Envelope, new_envelope, new_id
from shared.messages.notify import ALERT_ISSUED, CIRCULAR_ISSUED

from .domain.alerts import Alert

ACTOR = "system/notify"


def alert_issued(alert: Alert, now: datetime) -> Envelope:
    alert_id = new_id()
    return new_envelope(ALERT_ISSUED, {"submission_id": alert_id, **alert.to_payload()}, actor=ACTOR, occurred_at=now,
                        id=alert_id)


def circular_issued(row: dict, now: datetime) -> Envelope:
    """The circular's row as stored (its number, position and documents' hashes), for the ledger."""
    message_id = new_id()
    fields = ("circular_id", "year", "number", "period", "position", "json_sha256", "html_sha256", "pdf_sha256")
    return new_envelope(CIRCULAR_ISSUED, {"submission_id": message_id, **{name: row[name] for name in fields}},
                        actor=ACTOR, occurred_at=now, id=message_id)
