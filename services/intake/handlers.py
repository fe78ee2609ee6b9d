"""Intake's command handlers: accept a submission (idempotently) and settle it from the ledger.

Accepting is group-committed: each request thread hands its submission to the committer, which
stores the submissions, their idempotent answers and their outbox rows of every waiting request
in one transaction, then wakes the outbox relay.
"""
from __future__ import annotations

import contextvars

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy.engine import Connection

from shared.clock import Clock, format_instant
from shared.envelope import new_id
from shared.group_commit import GroupCommitter
from shared.keys import Principal

from .adapters.repository import SubmissionRepository
from .domain.errors import IdempotencyConflict, NotAllowed
from .domain.submissions import PENDING, Submission, report_submission, request_fingerprint, submission

Answer = tuple[int, dict]


@dataclass(frozen=True)
class Intent:
    """One request's wish to submit, before it has an id or a time. ``extra`` writes what else
    belongs in the same transaction (a tip's row) and gives the answer to return and the one to
    remember for a retry, when they differ from the plain 202 answer."""

    key_id: str
    idempotency_key: str | None
    fingerprint: str
    build: Callable[[str, datetime], Submission]
    extra: Callable[[Connection, Submission, dict], tuple[dict, dict]] | None = None
    reopen: Callable[[dict], dict] | None = None  # a remembered answer as the retry gets it


class IntakeHandlers:
    def __init__(self, repo: SubmissionRepository, clock: Clock, on_commit: Callable[[], None] = lambda: None):
        self.repo = repo
        self.clock = clock
        self.committer: GroupCommitter[Intent, Answer] = GroupCommitter(
            repo.engine, self._accept_batch, on_commit=on_commit, name="intake-commit")

    def file_report(self, principal: Principal, data: Mapping[str, Any], *, path: str,
                    idempotency_key: str | None) -> Answer:
        """Accept a registration form or zero report; returns (status code, answer)."""
        if principal.role == "region" and data["region"] != principal.region:
            raise NotAllowed(f"a key of region {principal.region} may not file for region {data['region']}")

        in_request = contextvars.copy_context().run  # built in the committer's thread, with the request's ids

        def build(submission_id: str, now: datetime) -> Submission:
            return in_request(report_submission, submission_id, data, actor=principal.actor, key_id=principal.key_id,
                              now=now)

        fingerprint = request_fingerprint(path, data) if idempotency_key is not None else ""
        return self.committer.submit(Intent(principal.key_id, idempotency_key, fingerprint, build))

    def submit(self, principal: Principal, kind: str, message_type: str, payload: Callable[[str], dict], *,
               region: str | None, year: int | None, data: Mapping[str, Any], path: str,
               idempotency_key: str | None) -> Answer:
        """Accept any other submission: ``payload(submission_id)`` is what the ledger is asked to record."""
        in_request = contextvars.copy_context().run  # built in the committer's thread, with the request's ids

        def build(submission_id: str, now: datetime) -> Submission:
            return in_request(submission, kind, message_type, payload(submission_id), region=region, year=year,
                              actor=principal.actor, key_id=principal.key_id, now=now)

        fingerprint = request_fingerprint(path, data) if idempotency_key is not None else ""
        return self.committer.submit(Intent(principal.key_id, idempotency_key, fingerprint, build))

    def file_tip(self, intent: Intent) -> Answer:
        return self.committer.submit(intent)

    def _accept_batch(self, conn: Connection, intents: Sequence[Intent]) -> list:
        keys = [(i.key_id, i.idempotency_key) for i in intents if i.idempotency_key is not None]
        known = self.repo.stored_answers(conn, keys)  # (key_id, idempotency key) -> (fingerprint, status, answer)
        now = self.clock.now()
        submissions, remembered, results = [], [], []
        for intent in intents:
            slot = (intent.key_id, intent.idempotency_key)
            if intent.idempotency_key is not None and slot in known:
                fingerprint, status, answer = known[slot]
                if fingerprint != intent.fingerprint:
                    results.append(IdempotencyConflict("this Idempotency-Key was used for a different request"))
                else:
                    results.append((status, intent.reopen(answer) if intent.reopen else answer))
                continue
            submission = intent.build(new_id(), now)
            answer = {"submission_id": submission.submission_id, "status": PENDING,
                      "status_url": f"/v1/submissions/{submission.submission_id}"}
            submissions.append(submission)
            stored = answer
            if intent.extra is not None:
                answer, stored = intent.extra(conn, submission, answer)
            if intent.idempotency_key is not None:
                known[slot] = (intent.fingerprint, 202, stored)
                remembered.append({"key_id": intent.key_id, "idempotency_key": intent.idempotency_key,
                                   "fingerprint": intent.fingerprint, "status_code": 202,
                                   "body": json.dumps(stored), "created_at": format_instant(now)})
            results.append((202, answer))
        self.repo.add(conn, submissions, remembered)
        return results
