"""Intake's repository: submissions with their outbox rows, written in one transaction (with
their idempotent answers, which ``shared.idempotency`` keeps), and status updates from the
ledger's recorded events."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.clock import format_instant
from shared.db import bulk_insert, existing
from shared.envelope import RecordedEvent
from shared.outbox import Outbox

from ..domain.submissions import LEDGER_REJECTED, PENDING, RECORDED, REJECTED, TIP_FILED, TIP_RESOLVED, Submission
from .tables import submissions, tips


_POSITION = {name: sa.bindparam(f"b_{name}") for name in ("decided_at", "seq", "hash", "stream")}


def _outcome(submission_id: str, event: RecordedEvent, **extra) -> dict:
    return {"sid": submission_id, "b_decided_at": event.recorded_at, "b_seq": event.seq, "b_hash": event.hash,
            "b_stream": event.stream, **extra}


class SubmissionRepository:
    def __init__(self, engine: Engine, outbox: Outbox):
        self.engine = engine
        self.outbox = outbox

    def add(self, conn: Connection, batch: list[Submission]) -> None:
        """Store submissions and their outbox messages (in the caller's transaction)."""
        bulk_insert(conn, submissions, [{
            "submission_id": s.submission_id, "kind": s.kind, "region": s.region, "year": s.year,
            "actor": s.actor, "key_id": s.key_id, "status": PENDING, "submitted_at": format_instant(s.submitted_at),
        } for s in batch])
        self.outbox.add(conn, [s.message for s in batch])

    def add_tip(self, conn: Connection, tip_id: str, receipt_hash: str, region: str, contact: str | None) -> None:
        conn.execute(tips.insert().values(tip_id=tip_id, receipt_hash=receipt_hash, region=region, contact=contact,
                                          status=PENDING))

    def tip(self, *, tip_id: str | None = None, receipt_hash: str | None = None) -> dict | None:
        where = tips.c.tip_id == tip_id if tip_id is not None else tips.c.receipt_hash == receipt_hash
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(tips).where(where)).mappings().first()
        return dict(row) if row else None

    def get(self, submission_id: str) -> dict | None:
        """A submission with how often its message was sent and whether it is stalled (sent as often
        as the outbox allows without an answer: it waits for an operator to re-drive it)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(submissions).where(submissions.c.submission_id == submission_id)).mappings().first()
            if row is None:
                return None
            attempts, stalled = self.outbox.attempts(conn, submission_id) or (0, False)
        return {**row, "attempts": attempts, "stalled": stalled}

    def apply_ledger_events(self, conn: Connection, events: Iterable[RecordedEvent]) -> None:
        """Settle submissions from what the ledger recorded: the fact itself, or its rejection."""
        recorded, rejected, filed_tips, resolved_tips = [], [], [], []
        for event in events:
            if event.type == LEDGER_REJECTED and event.causation_id:
                rejected.append(_outcome(event.causation_id, event, b_reasons=event.payload.get("reasons", [])))
            else:
                recorded.append(_outcome(event.id, event))
                if event.type == TIP_FILED:
                    filed_tips.append({"tid": event.id, "b_seq": event.seq, "b_hash": event.hash,
                                       "b_recorded_at": event.recorded_at})
                elif event.type == TIP_RESOLVED:
                    resolved_tips.append({"tid": event.payload["tip_id"], "b_status": event.payload["resolution"],
                                          "b_explanation": event.payload["explanation"], "b_resolved_at": event.recorded_at})
        tip = tips.c.tip_id == sa.bindparam("tid")
        if filed_tips:
            conn.execute(tips.update().where(tip, tips.c.status == PENDING).values(
                status="open", seq=sa.bindparam("b_seq"), hash=sa.bindparam("b_hash"),
                recorded_at=sa.bindparam("b_recorded_at")), filed_tips)
        if resolved_tips:
            conn.execute(tips.update().where(tip).values(
                status=sa.bindparam("b_status"), explanation=sa.bindparam("b_explanation"),
                resolved_at=sa.bindparam("b_resolved_at")), resolved_tips)
        refused_tips = [{"tid": r["sid"]} for r in rejected]
        if refused_tips:
            conn.execute(tips.update().where(tip, tips.c.status == PENDING).values(status=REJECTED), refused_tips)
        pending = submissions.c.status == PENDING
        match = submissions.c.submission_id == sa.bindparam("sid")
        if recorded:
            ids = existing(conn, submissions.c.submission_id, [r["sid"] for r in recorded])
            rows = [r for r in recorded if r["sid"] in ids]
            if rows:
                conn.execute(submissions.update().where(match, pending).values(status=RECORDED, **_POSITION), rows)
        if rejected:
            conn.execute(submissions.update().where(match, pending).values(
                status=REJECTED, reasons=sa.bindparam("b_reasons"), **_POSITION), rejected)
        self.outbox.settle(conn, [r["sid"] for r in recorded] + [r["sid"] for r in rejected])
