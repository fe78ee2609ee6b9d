"""The idempotent-submission desk keeps its invariants on SQLite and PostgreSQL: a retry gets the
first answer and writes nothing, another request under the same key is a conflict, a failed
transaction leaves no answer behind, and requests without a key are simply taken."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from shared.db import make_engine, write_tx
from shared.idempotency import CHUNK, IdempotencyConflict, IdempotencyDesk, Reply, Ticket, idempotency_table, request_fingerprint
from shared.testing.services import fresh_postgres_database, need

PATH = "/v1/things"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
        yield engine
        engine.dispose()
        return
    need("postgres")
    with fresh_postgres_database("zc_desk") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _desk(engine, *, dated: bool = True) -> IdempotencyDesk:
    metadata = sa.MetaData()
    table = idempotency_table(metadata, dated=dated)
    metadata.create_all(engine)
    return IdempotencyDesk(table)


class Writes:
    """A ``take`` that records what it wrote and answers with a numbered submission."""

    def __init__(self):
        self.taken: list[int] = []

    def __call__(self, index: int) -> tuple[int, dict, dict]:
        self.taken.append(index)
        number = len(self.taken)
        return 202, {"submission_id": f"s-{number}", "secret": "shown once"}, {"submission_id": f"s-{number}"}


def _serve(engine, desk, tickets, take):
    with write_tx(engine) as conn:
        return desk.serve(conn, tickets, take)


def _stored(engine, desk) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(desk.table)).scalar_one()


def test_a_retry_with_the_same_key_and_body_gets_the_stored_answer_and_writes_nothing(engine):
    desk, writes = _desk(engine), Writes()
    ticket = Ticket.of("key-1", "retry-me", PATH, {"region": "410100", "n": 1})
    first = _serve(engine, desk, [ticket], writes)
    again = _serve(engine, desk, [Ticket.of("key-1", "retry-me", PATH, {"n": 1, "region": "410100"})], writes)
    assert first == [Reply(202, {"submission_id": "s-1", "secret": "shown once"})]
    assert again == [Reply(202, {"submission_id": "s-1"}, replayed=True)]  # what was stored, not what was shown
    assert writes.taken == [0] and _stored(engine, desk) == 1


def test_the_same_key_with_another_body_or_path_is_a_conflict_and_nothing_is_written(engine):
    desk, writes = _desk(engine), Writes()
    _serve(engine, desk, [Ticket.of("key-1", "k", PATH, {"n": 1})], writes)
    other_body = _serve(engine, desk, [Ticket.of("key-1", "k", PATH, {"n": 2})], writes)
    other_path = _serve(engine, desk, [Ticket.of("key-1", "k", "/v1/other", {"n": 1})], writes)
    assert [type(r) for r in other_body + other_path] == [IdempotencyConflict, IdempotencyConflict]
    assert str(other_body[0]) == "this Idempotency-Key was used for a different request"
    assert writes.taken == [0] and _stored(engine, desk) == 1


def test_one_clients_key_never_meets_another_clients_same_key(engine):
    desk, writes = _desk(engine), Writes()
    mine = _serve(engine, desk, [Ticket.of("key-1", "k", PATH, {"n": 1})], writes)
    theirs = _serve(engine, desk, [Ticket.of("key-2", "k", PATH, {"n": 2})], writes)
    assert not mine[0].replayed and not theirs[0].replayed and writes.taken == [0, 0]


def test_requests_without_a_key_are_taken_every_time_and_remember_nothing(engine):
    desk, writes = _desk(engine), Writes()
    ticket = Ticket.of("key-1", None, PATH, {"n": 1})
    assert ticket.fingerprint == ""
    replies = _serve(engine, desk, [ticket, ticket], writes)
    assert [r.body["submission_id"] for r in replies] == ["s-1", "s-2"] and _stored(engine, desk) == 0


def test_within_one_batch_a_repeated_slot_is_replayed_and_another_body_under_it_conflicts(engine):
    desk, writes = _desk(engine), Writes()
    same = Ticket.of("key-1", "k", PATH, {"n": 1})
    replies = _serve(engine, desk, [same, same, Ticket.of("key-1", "k", PATH, {"n": 2})], writes)
    assert replies[0] == Reply(202, {"submission_id": "s-1", "secret": "shown once"})
    assert replies[1] == Reply(202, {"submission_id": "s-1"}, replayed=True)
    assert isinstance(replies[2], IdempotencyConflict)
    assert writes.taken == [0] and _stored(engine, desk) == 1


def test_a_transaction_that_failed_leaves_no_answer_so_its_retry_is_taken_afresh(engine):
    desk, writes = _desk(engine), Writes()
    ticket = Ticket.of("key-1", "k", PATH, {"n": 1})
    with pytest.raises(RuntimeError):
        with write_tx(engine) as conn:
            desk.serve(conn, [ticket], writes)
            raise RuntimeError("the database went away before the commit")
    retried = _serve(engine, desk, [ticket], writes)
    assert retried == [Reply(202, {"submission_id": "s-2", "secret": "shown once"})] and _stored(engine, desk) == 1


def test_serving_one_request_raises_the_conflict_instead_of_returning_it(engine):
    desk, writes = _desk(engine, dated=False), Writes()  # assessment's table: no created_at
    with write_tx(engine) as conn:
        desk.serve_one(conn, Ticket.of("key-1", "k", PATH, {"n": 1}), lambda: writes(0))
    with pytest.raises(IdempotencyConflict), write_tx(engine) as conn:
        desk.serve_one(conn, Ticket.of("key-1", "k", PATH, {"n": 2}), lambda: writes(0))
    with write_tx(engine) as conn:
        again = desk.serve_one(conn, Ticket.of("key-1", "k", PATH, {"n": 1}), lambda: writes(0))
    assert again == Reply(202, {"submission_id": "s-1"}, replayed=True) and len(writes.taken) == 1


def test_a_batch_larger_than_one_lookup_finds_every_earlier_answer(engine):
    desk, writes = _desk(engine), Writes()
    tickets = [Ticket.of("key-1", f"k-{i}", PATH, {"n": i}) for i in range(CHUNK + 5)]
    _serve(engine, desk, tickets, writes)
    replies = _serve(engine, desk, tickets, writes)
    assert all(r.replayed for r in replies) and len(writes.taken) == CHUNK + 5


def test_the_fingerprint_reads_the_validated_body_not_its_spelling():
    body = {"region": "410100", "capacity": Decimal("1.50"), "items": [{"a": 1, "b": 2}]}
    same = {"items": [{"b": 2, "a": 1}], "capacity": Decimal("1.5"), "region": "410100"}
    assert request_fingerprint(PATH, body) == request_fingerprint(PATH, same)
    assert request_fingerprint(PATH, body) != request_fingerprint("/v1/other", body)
    assert len(request_fingerprint(PATH, body)) == 64
