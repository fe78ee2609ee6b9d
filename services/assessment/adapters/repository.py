"""The assessment's repository: its copy of the ledger's events (written by the follower, in
``seq`` order, with the position in the same transaction), and the office's submissions it
forwards to the ledger through its outbox, settled from what the ledger then records."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.clock import format_instant
from shared.db import existing, write_tx
from shared.envelope import Envelope, RecordedEvent
from shared.idempotency import IdempotencyDesk, Reply, Ticket
from shared.journal import EventJournal
from shared.messages.assessment import PUBLISHED
from shared.messages.ledger import SUBMISSION_REJECTED
from shared.outbox import Outbox

from .tables import idempotency_keys, ledger_events, submissions

LEDGER_REJECTED = SUBMISSION_REJECTED
PENDING, RECORDED, REJECTED = "pending", "recorded", "rejected"


class AssessmentRepository:
    def __init__(self, engine: Engine, outbox: Outbox, desk: IdempotencyDesk | None = None):
        self.engine = engine
        self.outbox = outbox
        self.desk = desk or IdempotencyDesk(idempotency_keys)
        self.journal = EventJournal(engine, ledger_events)

    # -- the ledger's events -----------------------------------------------------------------
    def apply_ledger_events(self, conn: Connection, events: Iterable[RecordedEvent]) -> None:
        """Keep the events and settle the submissions the ledger has just decided."""
        events = list(events)
        self.journal.append(conn, events)
        decided = []
        for event in events:
            if event.type == LEDGER_REJECTED and event.causation_id:
                decided.append({"sid": event.causation_id, "b_status": REJECTED, "b_seq": event.seq, "b_hash": event.hash,
                                "b_at": event.recorded_at, "b_reasons": event.payload.get("reasons", [])})
            else:
                decided.append({"sid": event.id, "b_status": RECORDED, "b_seq": event.seq, "b_hash": event.hash,
                                "b_at": event.recorded_at, "b_reasons": None})
        ours = existing(conn, submissions.c.submission_id, [d["sid"] for d in decided])
        rows = [d for d in decided if d["sid"] in ours]
        if rows:
            conn.execute(submissions.update().where(
                submissions.c.submission_id == sa.bindparam("sid"), submissions.c.status == PENDING).values(
                status=sa.bindparam("b_status"), seq=sa.bindparam("b_seq"), hash=sa.bindparam("b_hash"),
                decided_at=sa.bindparam("b_at"), reasons=sa.bindparam("b_reasons")), rows)
            self.outbox.settle(conn, [r["sid"] for r in rows])

    def publication(self, year: int, upto: int | None = None) -> dict | None:
        """The latest publication of ``year``'s assessment on the log (up to ``upto``): its ledger
        seq and time, and the position, cut-off and digest it published."""
        for event in self.journal.events(upto=upto, types=(PUBLISHED,), newest_first=True):
            payload = event["payload"]
            if payload.get("year") == year:
                found = {"seq": event["seq"], "recorded_at": event["recorded_at"], "position": payload["position"],
                         "cut_off": payload["cut_off"], "digest": payload["digest"]}
                if "replaces" in payload:  # a correction: the official one now, and what it replaced and why
                    found.update(replaces=payload["replaces"], reason=payload["reason"])
                if "checkpoint" in payload:  # the ledger's signed checkpoint at its position
                    found["checkpoint"] = payload["checkpoint"]
                return found
        return None

    # -- the office's submissions ------------------------------------------------------------
    def submit(self, message: Envelope, *, kind: str, region: str | None, year: int | None, ticket: Ticket,
               answer: dict) -> Reply:
        """Store a submission with its outbox message (and its answer, for a retry) in one
        transaction; a retry of the same request gets the first answer, another body raises
        ``IdempotencyConflict`` (the idempotent desk's rules, ``shared.idempotency``)."""
        with write_tx(self.engine) as conn:
            def take() -> tuple[int, dict, dict]:
                conn.execute(submissions.insert().values(
                    submission_id=message.id, kind=kind, region=region, year=year, actor=message.actor,
                    key_id=ticket.owner, status=PENDING, submitted_at=format_instant(self.outbox.clock.now())))
                self.outbox.add(conn, [message])
                return 202, answer, answer

            return self.desk.serve_one(conn, ticket, take)

    def submission(self, submission_id: str) -> dict | None:
        """A submission with how often its message was sent and whether it is stalled (see intake's)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(submissions).where(submissions.c.submission_id == submission_id)).mappings().first()
            if row is None:
                return None
            attempts, stalled = self.outbox.attempts(conn, submission_id) or (0, False)
        return {**row, "attempts": attempts, "stalled": stalled}
