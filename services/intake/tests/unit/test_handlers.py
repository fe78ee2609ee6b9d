"""Intake's handlers on their ports — an in-memory store, an inline committer and the shared desk
on SQLite: a retried submission is answered the same and stored once, a batch answers each of
its requests on its own, and a remembered answer is reopened the way its intent says."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from services.intake.domain.submissions import Submission, submission
from services.intake.handlers import BatchWork, IntakeHandlers, Intent
from shared.clock import SettableClock
from shared.db import make_engine, write_tx
from shared.idempotency import IdempotencyConflict, IdempotencyDesk, Ticket, idempotency_table
from shared.keys import Principal

OFFICE = Principal("key-office", "office")
PATH = "/v1/things"


class ListStore:
    def __init__(self):
        self.added: list[Submission] = []

    def add(self, tx, batch: list[Submission]) -> None:
        self.added.extend(batch)


class InlineCommitter:
    """Commits each item at once in its own transaction (``batch`` puts several in one)."""

    def __init__(self, engine, work: BatchWork):
        self.engine, self.work = engine, work

    def batch(self, items: list[Intent]) -> list:
        with write_tx(self.engine) as conn:
            return self.work(conn, items)

    def submit(self, item: Intent):
        result = self.batch([item])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        pass


@pytest.fixture
def world(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    metadata = sa.MetaData()
    desk = IdempotencyDesk(idempotency_table(metadata))
    metadata.create_all(engine)
    store = ListStore()
    handlers = IntakeHandlers(store, desk, SettableClock(datetime(2016, 11, 1, tzinfo=timezone.utc)),
                              committer=lambda work: InlineCommitter(engine, work))
    yield handlers, store
    engine.dispose()


def _submit(handlers: IntakeHandlers, data: dict, key: str | None):
    return handlers.submit(OFFICE, "decision", "intake.thing_decided.v1", lambda sid: {"submission_id": sid, **data},
                           region="410100", year=None, data=data, path=PATH, idempotency_key=key)


def _intent(data: dict, key: str | None, **hooks) -> Intent:
    def build(submission_id: str, now: datetime) -> Submission:
        return submission("decision", "intake.thing_decided.v1", {"submission_id": submission_id, **data},
                          region="410100", year=None, actor=OFFICE.actor, key_id=OFFICE.key_id, now=now)
    return Intent(Ticket.of(OFFICE.key_id, key, PATH, data), build, **hooks)


def test_a_retried_submission_gets_its_first_answer_and_is_stored_once(world):
    handlers, store = world
    first = _submit(handlers, {"n": 1}, "once")
    assert _submit(handlers, {"n": 1}, "once") == first
    with pytest.raises(IdempotencyConflict):
        _submit(handlers, {"n": 2}, "once")
    status, answer = first
    assert status == 202 and answer["status_url"] == f"/v1/submissions/{answer['submission_id']}"
    assert [s.submission_id for s in store.added] == [answer["submission_id"]]


def test_a_batch_answers_each_request_on_its_own(world):
    handlers, store = world
    results = handlers.committer.batch([_intent({"n": 1}, "k"), _intent({"n": 1}, "k"), _intent({"n": 2}, "k"),
                                        _intent({"n": 3}, None), _intent({"n": 3}, None)])
    assert results[0] == results[1] and isinstance(results[2], IdempotencyConflict)
    fresh = [r[1]["submission_id"] for r in (results[0], results[3], results[4])]
    assert [s.submission_id for s in store.added] == fresh and len(set(fresh)) == 3


def test_a_remembered_answer_is_reopened_for_the_retry_as_its_intent_says(world):
    handlers, store = world
    written = []

    def extra(tx, filed: Submission, answer: dict):
        written.append(filed.submission_id)
        return {**answer, "secret": "shown once"}, {**answer, "sealed": "kept"}

    def reopen(stored: dict) -> dict:
        return {**stored, "reopened": True}

    first = handlers.file_tip(_intent({"n": 1}, "tip-key", extra=extra, reopen=reopen))
    again = handlers.file_tip(_intent({"n": 1}, "tip-key", extra=extra, reopen=reopen))
    assert first[1]["secret"] == "shown once" and "sealed" not in first[1]
    assert again[1] == {**{k: v for k, v in first[1].items() if k != "secret"}, "sealed": "kept", "reopened": True}
    assert len(written) == len(store.added) == 1
