"""The message envelope: what goes out comes back equal, and a malformed message is refused
with ``EnvelopeError`` (which the consumers dead-letter) rather than anything else."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest

from shared.envelope import Envelope, EnvelopeError, RecordedEvent, new_envelope, schema_version_of

WHEN = datetime(2016, 11, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def envelope(**overrides) -> Envelope:
    values = dict(actor="region/410100/k1", occurred_at=WHEN, correlation_id="c-1", causation_id="a-0")
    values.update(overrides)
    return new_envelope("intake.report_filed.v1", {"region": "410100", "entries": [{"capacity": "12.5"}]}, **values)


def recorded(**overrides) -> RecordedEvent:
    values = dict(seq=7, id="m-7", type="intake.report_filed.v1", schema_version=1, stream="report/410100/2016",
                  stream_version=1, occurred_at="2016-11-01T00:00:00.000000Z", recorded_at="2016-11-01T00:00:01.000000Z",
                  actor="region/410100/k1", causation_id=None, correlation_id="m-7", region="410100",
                  payload={"zero_report": True, "名称": "郑州"}, payload_hash="a" * 64, prev_hash="b" * 64, hash="c" * 64)
    values.update(overrides)
    return RecordedEvent(**values)


def test_an_envelope_survives_a_round_trip_through_bytes():
    message = envelope()
    assert Envelope.from_bytes(message.to_bytes()) == message
    assert Envelope.from_bytes(message.to_bytes().decode()) == message
    assert Envelope.from_dict(message.to_dict()) == message


def test_a_new_envelope_records_the_instant_in_utc_and_correlates_with_itself_by_default():
    message = new_envelope("ledger.year_opened.v2", {}, actor="system/ledger", occurred_at=WHEN)
    assert message.occurred_at == "2016-11-01T00:00:00.000000Z"
    assert message.correlation_id == message.id and message.causation_id is None
    assert message.schema_version == 2
    assert len({new_envelope("a.b.v1", {}, actor="x", occurred_at=WHEN).id for _ in range(50)}) == 50


def test_a_recorded_event_survives_a_round_trip_through_bytes():
    event = recorded()
    assert RecordedEvent.from_bytes(event.to_bytes()) == event
    assert RecordedEvent.from_dict(orjson.loads(event.to_bytes())) == event


def test_an_envelope_with_a_missing_causation_id_reads_as_none():
    data = envelope().to_dict()
    del data["causation_id"]
    assert Envelope.from_dict(data).causation_id is None


@pytest.mark.parametrize("message_type", [
    "intake.report_filed", "intake.report_filed.v0", "intake.report_filed.v01", "Intake.report_filed.v1",
    "intake.report-filed.v1", "report_filed.v1", "intake.report_filed.v1.extra", "", "1ntake.x.v1",
])
def test_a_message_type_must_be_producer_dot_event_dot_version(message_type):
    with pytest.raises(EnvelopeError):
        schema_version_of(message_type)
    with pytest.raises(EnvelopeError):
        new_envelope(message_type, {}, actor="x", occurred_at=WHEN)
    data = envelope().to_dict() | {"type": message_type}
    with pytest.raises(EnvelopeError):
        Envelope.from_dict(data)


def _without(key):
    data = envelope().to_dict()
    del data[key]
    return orjson.dumps(data)


@pytest.mark.parametrize("body", [
    b"", b"\x00 not json", b"\xff\xfe", b"{", b"[]", b"null", b'"text"', b"42",
    _without("id"), _without("type"), _without("occurred_at"), _without("actor"), _without("correlation_id"),
    _without("payload"),
    orjson.dumps(envelope().to_dict() | {"payload": []}),
    orjson.dumps(envelope().to_dict() | {"payload": "x"}),
    orjson.dumps(envelope().to_dict() | {"type": 7}),
], ids=["empty", "binary", "bad utf-8", "truncated", "a list", "null", "a string", "a number", "no id", "no type",
        "no occurred_at", "no actor", "no correlation_id", "no payload", "list payload", "string payload", "number type"])
def test_a_malformed_envelope_is_refused_with_an_envelope_error(body):
    with pytest.raises(EnvelopeError):
        Envelope.from_bytes(body)


@pytest.mark.parametrize("body", [
    b"", b"{", b"[1]", b"null",
    orjson.dumps({k: v for k, v in recorded().to_dict().items() if k != "seq"}),
    orjson.dumps({k: v for k, v in recorded().to_dict().items() if k != "hash"}),
    envelope().to_bytes(),
], ids=["empty", "truncated", "a list", "null", "no seq", "no hash", "a proposal, not a recorded event"])
def test_a_malformed_recorded_event_is_refused_with_an_envelope_error(body):
    with pytest.raises(EnvelopeError):
        RecordedEvent.from_bytes(body)
