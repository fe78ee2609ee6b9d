"""Notify's repository: the journal of the ledger's events (written by the follower), and the
alerts it issues — stored with their outbox message to the ledger in one transaction, each
(subject, rule, level) at most once however many workers run the scheduler."""
from __future__ import annotations

from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.clock import format_instant
from shared.db import write_tx
from shared.envelope import Envelope, RecordedEvent
from shared.journal import EventJournal
from shared.outbox import Outbox

from ..domain.alerts import Alert
from .tables import alerts, ledger_events

ALERT_ISSUED = "notify.alert_issued.v1"


class NotifyRepository:
    def __init__(self, engine: Engine, outbox: Outbox):
        self.engine = engine
        self.outbox = outbox
        self.journal = EventJournal(engine, ledger_events)

    def apply_ledger_events(self, conn: Connection, events: Iterable[RecordedEvent]) -> None:
        """Keep the events; note the ledger position of the alerts it has recorded."""
        events = list(events)
        self.journal.append(conn, events)
        recorded = [{"aid": e.id, "b_seq": e.seq} for e in events if e.type == ALERT_ISSUED]
        if recorded:
            conn.execute(alerts.update().where(alerts.c.alert_id == sa.bindparam("aid"), alerts.c.seq.is_(None))
                         .values(seq=sa.bindparam("b_seq")), recorded)
            self.outbox.settle(conn, [r["aid"] for r in recorded])

    def issue(self, due: list[Alert], message: Callable[[Alert], Envelope]) -> list[dict]:
        """Store the alerts of ``due`` not issued before, with their messages to the ledger."""
        issued = []
        with write_tx(self.engine) as conn:
            if conn.dialect.name == "postgresql":  # scaled workers take turns
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('zeroclear.notify.alerts'))")
            known = {(r.subject, r.rule, r.level) for r in conn.execute(
                sa.select(alerts.c.subject, alerts.c.rule, alerts.c.level))}
            envelopes = []
            now = format_instant(self.outbox.clock.now())
            for alert in due:
                if alert.key in known:
                    continue
                envelope = message(alert)
                row = {"alert_id": envelope.id, "subject": alert.subject, "rule": alert.rule, "level": alert.level,
                       "region": alert.region, "recipient": alert.recipient, "deadline": alert.deadline,
                       "late_days": alert.late_days, "case": alert.case, "issued_at": now}
                conn.execute(alerts.insert().values(**row))
                envelopes.append(envelope)
                issued.append({**row, "seq": None})
                known.add(alert.key)
            self.outbox.add(conn, envelopes)
        return issued

    def alerts(self, *, region: str | None = None, rule: str | None = None, level: int | None = None) -> list[dict]:
        query = sa.select(alerts).order_by(alerts.c.issued_at, alerts.c.subject, alerts.c.level)
        for column, value in ((alerts.c.region, region), (alerts.c.rule, rule), (alerts.c.level, level)):
            if value is not None:
                query = query.where(column == value)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]
