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
from .tables import alerts, circulars, ledger_events

ALERT_ISSUED = "notify.alert_issued.v1"
CIRCULAR_ISSUED = "notify.circular_issued.v1"


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
        issued = [{"cid": e.payload["circular_id"], "b_seq": e.seq} for e in events if e.type == CIRCULAR_ISSUED]
        if issued:
            conn.execute(circulars.update().where(circulars.c.circular_id == sa.bindparam("cid"),
                                                  circulars.c.seq.is_(None)).values(seq=sa.bindparam("b_seq")), issued)
        ours = [e.id for e in events if e.type in (ALERT_ISSUED, CIRCULAR_ISSUED)]
        if ours:
            self.outbox.settle(conn, ours)

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

    # -- circulars -----------------------------------------------------------------------------
    def add_circular(self, row: dict, message: Envelope) -> tuple[dict, bool]:
        """Store a circular and its message to the ledger; the one already issued at the same
        position is returned as it is (``False``: not new)."""
        with write_tx(self.engine) as conn:
            found = conn.execute(sa.select(circulars).where(circulars.c.circular_id == row["circular_id"])).mappings().first()
            if found is not None:
                return dict(found), False
            conn.execute(circulars.insert().values(**row))
            self.outbox.add(conn, [message])
        return {**row, "seq": None}, True

    def circular(self, circular_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(circulars).where(circulars.c.circular_id == circular_id)).mappings().first()
        return dict(row) if row else None

    def circulars(self, year: int | None = None, *, before: int | None = None) -> list[dict]:
        """The circulars issued, in order (of ``year``, pinned before position ``before``)."""
        query = sa.select(circulars).order_by(circulars.c.year, circulars.c.position)
        if year is not None:
            query = query.where(circulars.c.year == year)
        if before is not None:
            query = query.where(circulars.c.position < before)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]
