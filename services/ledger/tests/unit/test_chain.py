"""The hash chain on in-memory records: sealing numbers and links events, and verification
names the first bad seq whatever was changed, removed or reordered."""
from __future__ import annotations

import hashlib

import pytest

from shared import canonical
from shared.canonical import NotCanonicalisable

from services.ledger.domain.chain import (
    EVENT_TAG, GENESIS, HEADER_FIELDS, PAYLOAD_TAG, ChainVerifier, event_hash, payload_hash, verify,
)
from services.ledger.domain.rules import NewEvent
from services.ledger.domain.sealing import seal
from services.ledger.domain.state import LedgerState

THING = "test.thing_happened.v3"  # a type no fold knows: sealing and chaining only


def new_event(n: int, **overrides) -> NewEvent:
    values = dict(id=f"event-{n}", type=THING, stream=f"thing/{n % 3}", occurred_at="2016-11-01T00:00:00.000000Z",
                  actor="office/k1", causation_id=None, correlation_id=f"event-{n}", region="410100" if n % 2 else None,
                  payload={"n": n, "name": f"第{n}号", "items": [n, str(n), None, True]})
    values.update(overrides)
    return NewEvent(**values)


def sealed_log(count: int = 6):
    state, sealed = LedgerState(), []
    for n in range(1, count + 1):
        item = seal(new_event(n), state, f"2016-11-01T00:00:{n:02d}.000000Z")
        state.apply(item.event)
        sealed.append(item)
    return sealed


def records(sealed) -> list[tuple[dict, bytes]]:
    """What a store hands the verifier: the stored fields and the stored payload bytes."""
    return [(s.event.to_dict(), s.payload_bytes) for s in sealed]


def test_sealing_numbers_events_from_one_and_links_each_to_the_previous_hash():
    log = sealed_log(6)
    assert [s.event.seq for s in log] == [1, 2, 3, 4, 5, 6]
    assert log[0].event.prev_hash == GENESIS
    assert [s.event.prev_hash for s in log[1:]] == [s.event.hash for s in log[:-1]]
    assert len({s.event.hash for s in log}) == 6


def test_sealing_counts_versions_per_stream_and_takes_the_schema_version_from_the_type():
    log = sealed_log(6)
    assert [(s.event.stream, s.event.stream_version) for s in log] == [
        ("thing/1", 1), ("thing/2", 1), ("thing/0", 1), ("thing/1", 2), ("thing/2", 2), ("thing/0", 2)]
    assert {s.event.schema_version for s in log} == {3}


def test_the_event_hash_covers_the_header_and_the_payload_only_through_its_hash():
    event = sealed_log(1)[0]
    body = canonical.reference_dumps(event.event.payload)
    assert event.payload_bytes == body
    assert event.event.payload_hash == hashlib.sha256(PAYLOAD_TAG + body).hexdigest()
    header = {name: event.event.to_dict()[name] for name in HEADER_FIELDS}
    assert event.event.hash == hashlib.sha256(EVENT_TAG + canonical.reference_dumps(header)).hexdigest()
    assert "payload" not in HEADER_FIELDS and "hash" not in HEADER_FIELDS


def test_a_payload_with_a_float_cannot_be_sealed():
    with pytest.raises(NotCanonicalisable):
        seal(new_event(1, payload={"capacity": 12.5}), LedgerState(), "2016-11-01T00:00:00.000000Z")


def test_an_intact_log_verifies_with_its_count_and_head():
    log = sealed_log(6)
    verdict = verify(records(log), expected_count=6, expected_head=log[-1].event.hash)
    assert (verdict.ok, verdict.count, verdict.head) == (True, 6, log[-1].event.hash)
    assert verdict.to_dict() == {"ok": True, "count": 6, "head": log[-1].event.hash}


def test_an_empty_log_verifies_at_the_genesis_hash():
    assert verify([], expected_count=0, expected_head=GENESIS).to_dict() == {"ok": True, "count": 0, "head": GENESIS}


def changed_payload(rows, k):
    record, _ = rows[k - 1]
    rows[k - 1] = (record, canonical.dumps({**record["payload"], "n": 999}))


def changed_field(rows, k):
    rows[k - 1] = ({**rows[k - 1][0], "actor": "office/someone-else"}, rows[k - 1][1])


def changed_payload_hash_to_match(rows, k):
    """A tamperer who also fixes the payload hash is caught by the event hash."""
    record, _ = rows[k - 1]
    body = canonical.dumps({**record["payload"], "n": 999})
    rows[k - 1] = ({**record, "payload_hash": payload_hash(body)}, body)


def deleted(rows, k):
    del rows[k - 1]


def swapped_with_next(rows, k):
    rows[k - 1], rows[k] = rows[k], rows[k - 1]


def swapped_and_renumbered(rows, k):
    """Two records trade places and their seq fields are rewritten to look in order."""
    (a, pa), (b, pb) = rows[k - 1], rows[k]
    rows[k - 1], rows[k] = ({**b, "seq": k}, pb), ({**a, "seq": k + 1}, pa)


@pytest.mark.parametrize("tamper, reason", [
    (changed_payload, "payload does not match its payload_hash"),
    (changed_field, "event fields do not match its hash"),
    (changed_payload_hash_to_match, "event fields do not match its hash"),
    (deleted, "expected seq 3, found 4 (an event is missing or out of order)"),
    (swapped_with_next, "expected seq 3, found 4 (an event is missing or out of order)"),
    (swapped_and_renumbered, "prev_hash does not match the previous event's hash"),
])
def test_tampering_with_a_record_fails_verification_at_that_seq(tamper, reason):
    log = sealed_log(6)
    rows = records(log)
    tamper(rows, 3)
    verdict = verify(rows, expected_count=6, expected_head=log[-1].event.hash)
    assert (verdict.ok, verdict.first_bad_seq, verdict.reason) == (False, 3, reason)
    assert (verdict.count, verdict.head) == (2, log[1].event.hash)  # the last good event
    assert verdict.to_dict()["first_bad_seq"] == 3


def test_a_rehashed_forgery_breaks_the_link_to_the_next_event():
    log = sealed_log(6)
    rows = records(log)
    forged = {**rows[2][0], "actor": "office/forger"}
    forged["hash"] = event_hash(forged)
    rows[2] = (forged, rows[2][1])
    verdict = verify(rows, expected_count=6, expected_head=log[-1].event.hash)
    assert (verdict.ok, verdict.first_bad_seq, verdict.reason) == (False, 4, "prev_hash does not match the previous event's hash")


def test_a_rehashed_forgery_of_the_last_event_is_caught_by_the_checkpoint_head():
    log = sealed_log(6)
    rows = records(log)
    forged = {**rows[5][0], "actor": "office/forger"}
    forged["hash"] = event_hash(forged)
    rows[5] = (forged, rows[5][1])
    verdict = verify(rows, expected_count=6, expected_head=log[-1].event.hash)
    assert (verdict.ok, verdict.count) == (False, 6)
    assert verdict.reason == "head hash differs from the checkpoint"


def test_a_deleted_last_event_is_caught_by_the_checkpoint_count():
    log = sealed_log(6)
    verdict = verify(records(log)[:-1], expected_count=6, expected_head=log[-1].event.hash)
    assert (verdict.ok, verdict.first_bad_seq) == (False, 6)
    assert verdict.reason == "checkpoint says 6 events, the log holds 5"


def test_an_event_beyond_the_checkpoint_fails_at_the_first_extra_seq():
    log = sealed_log(6)
    verdict = verify(records(log), expected_count=4, expected_head=log[3].event.hash)
    assert (verdict.ok, verdict.first_bad_seq) == (False, 5)
    assert verdict.reason == "checkpoint says 4 events, the log holds 6"


def test_a_checkpoint_with_another_head_fails_even_when_the_count_agrees():
    log = sealed_log(6)
    verdict = verify(records(log), expected_count=6, expected_head="f" * 64)
    assert (verdict.ok, verdict.count, verdict.head) == (False, 6, log[-1].event.hash)
    assert verdict.reason == "head hash differs from the checkpoint"


def test_the_verifier_stops_at_the_first_bad_record_and_keeps_that_verdict():
    log = sealed_log(6)
    rows = records(log)
    changed_field(rows, 2)
    changed_field(rows, 5)
    verifier = ChainVerifier()
    results = [verifier.check(record, body) for record, body in rows]
    assert results == [True, False, False, False, False, False]
    assert verifier.finish(expected_count=6).first_bad_seq == 2
