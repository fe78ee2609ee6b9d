"""Intake's command handlers: accept a submission (idempotently) and settle it from the ledger."""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from sqlalchemy import exc as sa_exc

from shared.clock import Clock, format_instant
from shared.db import write_tx
from shared.envelope import new_id
from shared.keys import Principal

from .adapters.repository import SubmissionRepository
from .domain.errors import IdempotencyConflict, NotAllowed
from .domain.submissions import PENDING, report_submission, request_fingerprint

FILERS = ("region", "office")


class IntakeHandlers:
    def __init__(self, repo: SubmissionRepository, clock: Clock, on_commit: Callable[[], None] = lambda: None):
        self.repo = repo
        self.clock = clock
        self.on_commit = on_commit

    def file_report(self, principal: Principal, data: Mapping[str, Any], *, path: str,
                    idempotency_key: str | None) -> tuple[int, dict]:
        """Accept a registration form or zero report; returns (status code, answer)."""
        if principal.role == "region" and data["region"] != principal.region:
            raise NotAllowed(f"a key of region {principal.region} may not file for region {data['region']}")

        def build(submission_id, now):
            return report_submission(submission_id, data, actor=principal.actor, key_id=principal.key_id, now=now)

        return self._accept(principal, build, fingerprint=request_fingerprint(path, data), idempotency_key=idempotency_key)

    def _accept(self, principal: Principal, build, *, fingerprint: str, idempotency_key: str | None) -> tuple[int, dict]:
        try:
            return self._accept_once(principal, build, fingerprint, idempotency_key)
        except sa_exc.IntegrityError:
            if idempotency_key is None:
                raise
            return self._accept_once(principal, build, fingerprint, idempotency_key)  # lost a race: replay the winner

    def _accept_once(self, principal, build, fingerprint, idempotency_key) -> tuple[int, dict]:
        with write_tx(self.repo.engine) as conn:
            if idempotency_key is not None:
                stored = self.repo.stored_answer(conn, principal.key_id, idempotency_key)
                if stored is not None:
                    if stored.fingerprint != fingerprint:
                        raise IdempotencyConflict("this Idempotency-Key was used for a different request")
                    return stored.status_code, json.loads(stored.body)
            now = self.clock.now()
            submission = build(new_id(), now)
            self.repo.add(conn, submission)
            answer = {"submission_id": submission.submission_id, "status": PENDING,
                      "status_url": f"/v1/submissions/{submission.submission_id}"}
            if idempotency_key is not None:
                self.repo.remember_answer(conn, principal.key_id, idempotency_key, fingerprint, 202,
                                          json.dumps(answer), format_instant(now))
        self.on_commit()
        return 202, answer
