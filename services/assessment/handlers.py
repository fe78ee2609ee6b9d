"""The assessment's use cases: file an office input, publish a year's scores. Each is accepted
idempotently onto the service's outbox and answered at once; the ledger records it (or a rejection)
later, which the submission's status reports.

They take ports (``Protocol`` below), never Flask or SQLAlchemy: the views pass the caller and the
request's path, and map the refusals below to problem answers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from shared.clock import Clock
from shared.envelope import Envelope, new_envelope, new_id
from shared.idempotency import Reply, Ticket
from shared.messages.assessment import INPUT_FILED, PUBLISHED
from shared.keys import Principal
from shared.witness import WitnessUnavailable


Answer = tuple[dict, int]


class Submissions(Protocol):
    """Where submissions are kept with their outbox message (``adapters/repository.py``)."""

    def submit(self, message: Envelope, *, kind: str, region: str | None, year: int | None, ticket: Ticket,
               answer: dict) -> Reply:
        """Raises ``shared.idempotency.IdempotencyConflict`` for a key reused with another request."""

    def publication(self, year: int, upto: int | None = None) -> dict | None: ...


class Witness(Protocol):
    """The ledger signing a checkpoint of its log at a position (``shared/witness.py``)."""

    def checkpoint_at(self, size: int) -> dict[str, Any] | None: ...


class Scores(Protocol):
    """A year's assessment as the log stands now, cut off at ``cut_off`` (default: the year's)."""

    def result(self, year: int, args: Mapping[str, Any]) -> dict: ...


@dataclass(frozen=True)
class Caller:
    """Who submits, and how a retry of the same request is recognised."""

    principal: Principal
    path: str
    idempotency_key: str | None


class InputsMissing(Exception):
    def __init__(self, year: int, missing: list[dict]):
        super().__init__(year)
        self.year, self.missing = year, missing


class NothingToCorrect(Exception):
    """A correction named for a year not published yet."""


class AlreadyPublished(Exception):
    def __init__(self, year: int, official: dict):
        super().__init__(year)
        self.year, self.official = year, official


class WitnessDown(Exception):
    """The ledger cannot sign the checkpoint a publication carries."""


class AssessmentHandlers:
    def __init__(self, submissions: Submissions, clock: Clock, witness: Witness | None):
        self.submissions, self.clock, self.witness = submissions, clock, witness

    def file_input(self, caller: Caller, data: Mapping[str, Any]) -> Answer:
        """The office's score for criterion 2 or 3 of a region's year, onto the log."""
        payload = {"region": data["region"], "year": data["year"], "criterion": data["criterion"],
                   "score": data["score"], "note": data["note"]}
        return self._submit(caller, INPUT_FILED, "input", payload, region=data["region"], year=data["year"], body=data)

    def publish(self, caller: Caller, year: int, data: Mapping[str, Any], scores: Scores) -> Answer:
        """Publish the year as it stands now; refused while an office input is missing, and a
        second publication only as a correction naming the official one."""
        found = scores.result(year, {"cut_off": data.get("cut_off")})
        missing = [{"region": r["region"], "criteria": r["missing_inputs"]} for r in found["regions"] if r["missing_inputs"]]
        if missing or not found["regions"]:
            raise InputsMissing(year, missing)
        correction = self._correction(year, data)
        payload = {"year": year, "cut_off": found["cut_off"], "position": found["position"], "digest": found["digest"],
                   "result": found, **correction, **self._witnessed(found["position"])}
        answer, status = self._submit(caller, PUBLISHED, "publication", payload, region=None, year=year,
                                      body={"year": year, "position": found["position"], "digest": found["digest"],
                                            **correction})
        return {**answer, "digest": found["digest"], "position": found["position"]}, status

    def _witnessed(self, position: int) -> dict:
        """The ledger's signed checkpoint at the publication's position, carried on the log with it."""
        if self.witness is None:
            return {}
        try:
            checkpoint = self.witness.checkpoint_at(position)
        except WitnessUnavailable as exc:
            raise WitnessDown(str(exc)) from None
        return {} if checkpoint is None else {"checkpoint": checkpoint}

    def _correction(self, year: int, data: Mapping[str, Any]) -> dict:
        """What a publication must say when the year is published already: which one it replaces and why."""
        official = self.submissions.publication(year)
        if official is None:
            if data.get("corrects") is not None:
                raise NothingToCorrect(year)
            return {}
        if data.get("corrects") != official["seq"]:
            raise AlreadyPublished(year, official)
        return {"replaces": official["seq"], "reason": data["reason"]}

    def _submit(self, caller: Caller, message_type: str, kind: str, payload: dict, *, region: str | None,
                year: int | None, body: Mapping[str, Any]) -> Answer:
        """Keep the submission and its message in one transaction, idempotently (the one place
        that calls the repository's idempotent ``submit``)."""
        principal, key = caller.principal, caller.idempotency_key
        submission_id = new_id()
        message = new_envelope(message_type, {"submission_id": submission_id, **payload}, actor=principal.actor,
                               occurred_at=self.clock.now(), id=submission_id)
        answer = {"submission_id": submission_id, "status": "pending", "status_url": f"/v1/submissions/{submission_id}"}
        reply = self.submissions.submit(message, kind=kind, region=region, year=year, answer=answer,
                                        ticket=Ticket.of(principal.key_id, key, caller.path, body))
        return reply.body, reply.status
