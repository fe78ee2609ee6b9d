"""Notify's repository: the journal of the ledger's events (written by the follower), and the
alerts it issues — stored with their outbox message to the ledger in one transaction, each
(subject, rule, level) at most once however many workers run the scheduler."""
from __future__ import annotations

from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.clock import format_instant
from shared.db import write_tx
from shared.envelope import Envelope, RecordedEvent, new_id
from shared.journal import EventJournal
from shared.messages.notify import ALERT_ISSUED, CIRCULAR_ISSUED
from shared.outbox import Outbox

from ..domain.alerts import Alert
from ..domain.routing import alert_recipients, circular_recipients
from .tables import alerts, circulars, deliveries, ledger_events, subscriptions

KEY_CHUNK = 500  # subjects looked up per query (well under SQLite's bound parameters)
LOOKUP_AT_MOST = 20 * KEY_CHUNK  # due alerts beyond which the table's keys are read whole


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

    def issue(self, due: list[Alert], message: Callable[[Alert], Envelope], now: str) -> list[dict]:
        """Store the alerts of ``due`` not issued before (by this process or another), with their
        messages to the ledger, as issued at ``now`` (business time, as their events say). A few
        are looked up by subject; many (a scheduler's first look) against the whole table."""
        issued: list[dict] = []
        if not due:
            return issued
        with write_tx(self.engine) as conn:
            if conn.dialect.name == "postgresql":  # scaled workers take turns
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('zeroclear.notify.alerts'))")
            known = self._stored_keys(conn, due if len(due) <= LOOKUP_AT_MOST else None)
            envelopes = []
            subscribed = self._subscriptions(conn)
            for alert in due:
                if alert.key in known:
                    continue
                envelope = message(alert)
                row = {"alert_id": envelope.id, "subject": alert.subject, "rule": alert.rule, "level": alert.level,
                       "region": alert.region, "recipient": alert.recipient, "deadline": alert.deadline,
                       "late_days": alert.late_days, "case": alert.case, "issued_at": now}
                conn.execute(alerts.insert().values(**row))
                self._deliver(conn, "alert", envelope.id, alert_recipients(alert.recipient, subscribed), now)
                envelopes.append(envelope)
                issued.append({**row, "seq": None})
                known.add(alert.key)
            self.outbox.add(conn, envelopes)
        return issued

    def _stored_keys(self, conn: Connection, due: list[Alert] | None) -> set[tuple[str, str, int]]:
        """The keys of ``due`` already in the table (issued by this process or another), looked up
        by subject; None: every key there (one scan beats many lookups, as after a start)."""
        key = (alerts.c.subject, alerts.c.rule, alerts.c.level)
        if due is None:
            return {tuple(row) for row in conn.execute(sa.select(*key))}
        subjects = sorted({alert.subject for alert in due})
        found = set()
        for start in range(0, len(subjects), KEY_CHUNK):
            found.update(tuple(row) for row in conn.execute(
                sa.select(*key).where(alerts.c.subject.in_(subjects[start:start + KEY_CHUNK]))))
        return found

    def alerts(self, *, region: str | None = None, rule: str | None = None, level: int | None = None) -> list[dict]:
        query = sa.select(alerts).order_by(alerts.c.issued_at, alerts.c.subject, alerts.c.level)
        for column, value in ((alerts.c.region, region), (alerts.c.rule, rule), (alerts.c.level, level)):
            if value is not None:
                query = query.where(column == value)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    # -- circulars -----------------------------------------------------------------------------
    def add_circular(self, row: dict, message: Envelope, now: str) -> tuple[dict, bool] | None:
        """Store a circular and its message to the ledger (its deliveries made at ``now``, business
        time); the one already issued at the same position is returned as it is (``False``: not new).
        None: another circular took its number meanwhile (the caller composes it again)."""
        try:
            with write_tx(self.engine) as conn:
                found = conn.execute(sa.select(circulars).where(
                    circulars.c.circular_id == row["circular_id"])).mappings().first()
                if found is not None:
                    return dict(found), False
                conn.execute(circulars.insert().values(**row))
                self._deliver(conn, "circular", row["circular_id"], circular_recipients(self._subscriptions(conn)), now)
                self.outbox.add(conn, [message])
        except sa.exc.IntegrityError:
            return None
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

    # -- subscriptions and deliveries -------------------------------------------------------------
    def add_subscription(self, row: dict) -> dict:
        with write_tx(self.engine) as conn:
            conn.execute(subscriptions.insert().values(**row))
        return row

    def subscriptions(self) -> list[dict]:
        with self.engine.connect() as conn:
            return self._subscriptions(conn)

    def _subscriptions(self, conn: Connection) -> list[dict]:
        return [dict(r) for r in conn.execute(sa.select(subscriptions).order_by(subscriptions.c.created_at)).mappings()]

    def end_subscription(self, subscription_id: str) -> bool:
        with write_tx(self.engine) as conn:
            done = conn.execute(subscriptions.update().where(subscriptions.c.subscription_id == subscription_id,
                                                             subscriptions.c.active.is_(True)).values(active=False))
        return done.rowcount == 1

    def _deliver(self, conn: Connection, kind: str, ref_id: str, recipients: list, now: str) -> None:
        """A delivery per recipient address, once: the same address subscribed twice gets one. It is
        made at ``now`` (business time); its first attempt is due at once on the machine's own
        clock, which schedules the attempts (a demo's business clock may stand anywhere)."""
        due = format_instant(self.outbox.clock.now())
        seen = set()
        for subscription in recipients:
            if subscription["address"] in seen:
                continue
            seen.add(subscription["address"])
            conn.execute(deliveries.insert().values(
                delivery_id=new_id(), kind=kind, ref_id=ref_id, subscription_id=subscription["subscription_id"],
                channel=subscription["channel"], address=subscription["address"], status="pending", attempts=0,
                next_attempt_at=due, created_at=now))

    def due_deliveries(self, now: str, limit: int = 100) -> list[str]:
        """Deliveries whose (next) attempt is due, marked queued: their tasks go on the queue now."""
        d = deliveries
        with write_tx(self.engine) as conn:
            ids = list(conn.execute(sa.select(d.c.delivery_id).where(
                d.c.status.in_(("pending", "retrying")), d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at).limit(limit)).scalars())
            if ids:
                conn.execute(d.update().where(d.c.delivery_id.in_(ids)).values(status="queued"))
        return ids

    def delivery(self, delivery_id: str) -> dict | None:
        """A delivery with what it delivers (the alert or circular row) and its subscription."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(deliveries).where(deliveries.c.delivery_id == delivery_id)).mappings().first()
            if row is None:
                return None
            row = dict(row)
            table, key = (alerts, alerts.c.alert_id) if row["kind"] == "alert" else (circulars, circulars.c.circular_id)
            row["subject"] = dict(conn.execute(sa.select(table).where(key == row["ref_id"])).mappings().first())
            row["subscription"] = dict(conn.execute(sa.select(subscriptions).where(
                subscriptions.c.subscription_id == row["subscription_id"])).mappings().first())
        return row

    def delivered(self, delivery_id: str, now: str) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(deliveries.update().where(deliveries.c.delivery_id == delivery_id).values(
                status="sent", sent_at=now, attempts=deliveries.c.attempts + 1, last_error=None))

    def cancelled(self, delivery_id: str, now: str) -> None:
        """Not sent: what it alerted about was done before it could go out."""
        with write_tx(self.engine) as conn:
            conn.execute(deliveries.update().where(deliveries.c.delivery_id == delivery_id).values(
                status="cancelled", sent_at=None, last_error=f"duty done before delivery ({now})"))

    def failed(self, delivery_id: str, error: str, *, next_attempt_at: str | None) -> None:
        """A failed attempt: retried at ``next_attempt_at``, or dead-lettered (None)."""
        status = "retrying" if next_attempt_at is not None else "dead"
        with write_tx(self.engine) as conn:
            conn.execute(deliveries.update().where(deliveries.c.delivery_id == delivery_id).values(
                status=status, attempts=deliveries.c.attempts + 1, last_error=error[:2000],
                next_attempt_at=next_attempt_at or deliveries.c.next_attempt_at))

    def redrive(self, delivery_id: str, now: str) -> bool:
        """A dead delivery tried again from the start (the office, once the receiver is fixed)."""
        with write_tx(self.engine) as conn:
            done = conn.execute(deliveries.update().where(deliveries.c.delivery_id == delivery_id,
                                                          deliveries.c.status == "dead")
                                .values(status="pending", attempts=0, next_attempt_at=now))
        return done.rowcount == 1

    def deliveries(self, *, status: str | None = None) -> list[dict]:
        query = sa.select(deliveries).order_by(deliveries.c.created_at, deliveries.c.delivery_id)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
