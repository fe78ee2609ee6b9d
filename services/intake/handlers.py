"""Intake's command handlers: accept a submission (idempotently) and settle it from the ledger.

Accepting is group-committed: each request thread hands its submission to the committer, which
stores the submissions, their idempotent answers and their outbox rows of every waiting request
in one transaction, then wakes the outbox relay. The handlers see the transaction, the store,
the desk and the committer only through the ports below; ``bootstrap`` names what fills them.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Protocol, Sequence

from shared.clock import Clock
from shared.envelope import new_id
from shared.idempotency import IdempotencyConflict, Reply, Ticket
from shared.keys import Principal

from .domain.errors import NotAllowed
from .domain.submissions import PENDING, Submission, report_submission, submission

Answer = tuple[int, dict]


class Tx(Protocol):
    """The open transaction a batch is written in: the handlers only hand it on to the ports."""


@dataclass(frozen=True)
class Intent:
    """One request's wish to submit, before it has an id or a time. ``extra`` writes what else
    belongs in the same transaction (a tip's row) and gives the answer to return and the one to
    remember for a retry, when they differ from the plain 202 answer."""

    ticket: Ticket
    build: Callable[[str, datetime], Submission]
    extra: Callable[[Tx, Submission, dict], tuple[dict, dict]] | None = None
    reopen: Callable[[dict], dict] | None = None  # a remembered answer as the retry gets it


class SubmissionStore(Protocol):
    """Where accepted submissions go, with their outbox messages (``SubmissionRepository``)."""

    def add(self, tx: Tx, batch: list[Submission]) -> None: ...


class AnswerDesk(Protocol):
    """The idempotent answers (``shared.idempotency.IdempotencyDesk``)."""

    def serve(self, tx: Tx, tickets: Sequence[Ticket],
              take: Callable[[int], tuple[int, dict, dict]]) -> list[Reply | IdempotencyConflict]: ...


class Committer(Protocol):
    """Commits the intents of many threads in one transaction (``shared.group_commit``)."""

    def submit(self, item: Intent) -> Answer: ...

    def close(self) -> None: ...


#: Writes a batch of intents in one transaction: one answer (or error) per intent.
BatchWork = Callable[[Tx, Sequence[Intent]], list]


class IntakeHandlers:
    def __init__(self, store: SubmissionStore, desk: AnswerDesk, clock: Clock,
                 committer: Callable[[BatchWork], Committer]):
        self.store = store
        self.desk = desk
        self.clock = clock
        self.committer = committer(self._accept_batch)

    def file_report(self, principal: Principal, data: Mapping[str, Any], *, path: str,
                    idempotency_key: str | None) -> Answer:
        """Accept a registration form or zero report; returns (status code, answer)."""
        if principal.role == "region" and data["region"] != principal.region:
            raise NotAllowed(f"a key of region {principal.region} may not file for region {data['region']}")

        in_request = contextvars.copy_context().run  # built in the committer's thread, with the request's ids

        def build(submission_id: str, now: datetime) -> Submission:
            return in_request(report_submission, submission_id, data, actor=principal.actor, key_id=principal.key_id,
                              now=now)

        return self.committer.submit(Intent(Ticket.of(principal.key_id, idempotency_key, path, data), build))

    def submit(self, principal: Principal, kind: str, message_type: str, payload: Callable[[str], dict], *,
               region: str | None, year: int | None, data: Mapping[str, Any], path: str,
               idempotency_key: str | None) -> Answer:
        """Accept any other submission: ``payload(submission_id)`` is what the ledger is asked to record."""
        in_request = contextvars.copy_context().run  # built in the committer's thread, with the request's ids

        def build(submission_id: str, now: datetime) -> Submission:
            return in_request(submission, kind, message_type, payload(submission_id), region=region, year=year,
                              actor=principal.actor, key_id=principal.key_id, now=now)

        return self.committer.submit(Intent(Ticket.of(principal.key_id, idempotency_key, path, data), build))

    def file_tip(self, intent: Intent) -> Answer:
        return self.committer.submit(intent)

    def _accept_batch(self, tx: Tx, intents: Sequence[Intent]) -> list:
        now = self.clock.now()
        accepted: list[Submission] = []

        def take(index: int) -> tuple[int, dict, dict]:
            intent = intents[index]
            filed = intent.build(new_id(), now)
            accepted.append(filed)
            answer = {"submission_id": filed.submission_id, "status": PENDING,
                      "status_url": f"/v1/submissions/{filed.submission_id}"}
            answer, stored = intent.extra(tx, filed, answer) if intent.extra is not None else (answer, answer)
            return 202, answer, stored

        replies = self.desk.serve(tx, [intent.ticket for intent in intents], take)
        self.store.add(tx, accepted)
        return [_answer(intent, reply) for intent, reply in zip(intents, replies)]


def _answer(intent: Intent, reply: Reply | IdempotencyConflict) -> Answer | IdempotencyConflict:
    if isinstance(reply, IdempotencyConflict):
        return reply
    if reply.replayed and intent.reopen is not None:
        return reply.status, intent.reopen(reply.body)
    return reply.status, reply.body
