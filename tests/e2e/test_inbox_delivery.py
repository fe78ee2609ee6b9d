"""At-least-once delivery made exactly-once in effect, seen from outside the ledger: the same
proposal delivered twice is recorded once, and a message that can never be processed is
dead-lettered without stopping the queue — on the in-process broker and on RabbitMQ.

Two systems per backend, each shared by a group of tests sending proposals of regions of their
own: ``system`` by those after which no rejection is on the log (one of them says there is none)
and each dead letter has been read by its test; ``rejecting_system`` by those that end in a
rejection (and leave a dead letter unread)."""
from __future__ import annotations

import time

import orjson
import pytest

from shared.broker import Broker, Outgoing
from shared.clock import SettableClock, format_instant
from shared.envelope import new_envelope
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import CAMPAIGN_START, system_on
from shared.topology import INBOX_ROUTING_KEY

pytestmark = pytest.mark.e2e


@pytest.fixture
def system(module_system):
    return module_system


@pytest.fixture(scope="module", params=["embedded", "real"])
def rejecting_system(request, tmp_path_factory, reference):
    with system_on(request.param, tmp_path_factory.mktemp(f"rejecting-{request.param}"),
                   clock=SettableClock(CAMPAIGN_START), reference=reference) as running:
        yield running


@pytest.fixture
def rejecting_api(rejecting_system) -> Api:
    return Api(rejecting_system.urls)


@pytest.fixture
def rejecting_keys(rejecting_system):
    def make(role: str, **kwargs) -> str:
        return rejecting_system.keys.create(role, **kwargs)[0]
    return make


def _publish(system, *messages: Outgoing) -> None:
    publisher = Broker(system.services["ledger"].settings.broker_url, system.topology).publisher()
    try:
        publisher.publish(list(messages))
    finally:
        publisher.close()


def _proposal(system, region: str) -> Outgoing:
    from services.intake.domain.submissions import report_submission
    from services.intake.entrypoints.schemas import report_schema

    valid = report_schema(system.reference, system.clock)().load(data.report(region))
    submission = report_submission("f" * 8 + "-0000-4000-8000-" + region.ljust(12, "0"), valid,
                                   actor=f"region/{region}/ktest", key_id="ktest", now=system.clock.now())
    body = submission.message.to_bytes()
    return Outgoing(system.topology.inbox_exchange, INBOX_ROUTING_KEY, body, submission.message.id,
                    submission.message.type, mandatory=True)


def _events(api, keys) -> list[dict]:
    return api.as_key(keys("auditor")).get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]


def _wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_the_same_proposal_delivered_twice_is_recorded_once(system, api, keys):
    proposal = _proposal(system, "410500")
    _publish(system, proposal, proposal)
    _publish(system, proposal)
    _wait_for(lambda: any(e["id"] == proposal.message_id for e in _events(api, keys)))
    marker = _proposal(system, "410600")  # sent after the duplicates: once it is in, they have been seen
    _publish(system, marker)
    _wait_for(lambda: any(e["id"] == marker.message_id for e in _events(api, keys)))
    events = _events(api, keys)
    assert [e["id"] for e in events].count(proposal.message_id) == 1
    assert not [e for e in events if e["type"] == "ledger.submission_rejected.v1"]
    assert api.get("ledger", "/v1/verify").json()["ok"] is True


def test_a_message_that_can_never_be_processed_is_dead_lettered_and_the_queue_moves_on(system, api, keys):
    garbage = Outgoing(system.topology.inbox_exchange, INBOX_ROUTING_KEY, b"\x00 not json", "garbage-1",
                       "intake.report_filed.v1", mandatory=True)
    good = _proposal(system, "410700")
    _publish(system, garbage, good)
    _wait_for(lambda: any(e["id"] == good.message_id for e in _events(api, keys)))

    broker = Broker(system.services["ledger"].settings.broker_url, system.topology)
    conn = broker.connect()
    try:
        channel = conn.channel()
        dead = _wait_for(lambda: channel.basic_get(system.topology.inbox_queue.dead_letter_key, no_ack=True))
        assert bytes(dead.body) == b"\x00 not json"
    finally:
        conn.release()
    verdict = api.get("ledger", "/v1/verify").json()
    assert {k: verdict[k] for k in ("ok", "count", "head")} == {"ok": True, "count": len(_events(api, keys)),
                                                               "head": _events(api, keys)[-1]["hash"]}


def test_a_proposal_whose_envelope_is_sound_but_payload_is_not_is_recorded_as_a_rejection(
        rejecting_system, rejecting_api, rejecting_keys):
    message = new_envelope("intake.report_filed.v1", {"submission_id": "x", "region": "410800", "year": "2016"},
                           actor="region/410800/ktest", occurred_at=rejecting_system.clock.now())
    _publish(rejecting_system, Outgoing(rejecting_system.topology.inbox_exchange, INBOX_ROUTING_KEY, message.to_bytes(),
                                        message.id, message.type, mandatory=True))
    rejection = _wait_for(lambda: [e for e in _events(rejecting_api, rejecting_keys) if e["causation_id"] == message.id])
    assert rejection[0]["type"] == "ledger.submission_rejected.v1"
    assert {r["code"] for r in rejection[0]["payload"]["reasons"]} == {"malformed"}
    assert rejection[0]["recorded_at"] >= format_instant(rejecting_system.clock.now())


def test_a_batch_message_is_recorded_envelope_by_envelope_and_a_bad_envelope_in_it_is_dead_lettered_alone(system, api, keys):
    from shared.envelope import BATCH_TYPE, batch_body

    good = [_proposal(system, region) for region in ("411000", "411100")]
    bad = b'{"id": "no-type-here", "payload": {}}'
    body = batch_body([good[0].body, bad, good[1].body, good[0].body])  # the last one a duplicate
    _publish(system, Outgoing(system.topology.inbox_exchange, INBOX_ROUTING_KEY, body, "batch-1", BATCH_TYPE,
                              mandatory=True))
    _wait_for(lambda: all(any(e["id"] == g.message_id for e in _events(api, keys)) for g in good))
    assert [e["id"] for e in _events(api, keys)].count(good[0].message_id) == 1

    broker = Broker(system.services["ledger"].settings.broker_url, system.topology)
    conn = broker.connect()
    try:
        channel = conn.channel()
        dead = _wait_for(lambda: channel.basic_get(system.topology.inbox_queue.dead_letter_key, no_ack=True))
        assert orjson.loads(dead.body) == orjson.loads(bad)
    finally:
        conn.release()


def _tip(system, enterprise: str) -> Outgoing:
    """A tip as a producer other than intake might send it (no intake check in front)."""
    message_id = new_envelope("intake.tip_filed.v1", {}, actor="public", occurred_at=system.clock.now()).id
    message = new_envelope("intake.tip_filed.v1", {
        "submission_id": message_id, "region": "410100", "enterprise": enterprise, "uscc": "",
        "location": "中牟县", "description": "夜间生产"}, actor="public", occurred_at=system.clock.now(), id=message_id)
    return Outgoing(system.topology.inbox_exchange, INBOX_ROUTING_KEY, message.to_bytes(), message.id, message.type,
                    mandatory=True)


def test_one_envelope_no_store_can_hold_is_rejected_alone_and_its_batch_is_recorded(
        rejecting_system, rejecting_api, rejecting_keys):
    """A NUL in a tip (PostgreSQL cannot store it in text) once dead-lettered every valid envelope
    batched with it; now the others are recorded, it is recorded as a rejection, the chain holds."""
    from shared.envelope import BATCH_TYPE, batch_body

    good = [_proposal(rejecting_system, region) for region in ("411200", "411300")] + \
        [_tip(rejecting_system, "郑州某焦化厂")]
    poison = _tip(rejecting_system, "毒\u0000厂")
    # a lone surrogate, as raw JSON carries it
    surrogate = _tip(rejecting_system, "x").body.replace(b'"x"', b'"\\ud800"')
    body = batch_body([good[0].body, poison.body, good[1].body, surrogate, good[2].body])
    _publish(rejecting_system, Outgoing(rejecting_system.topology.inbox_exchange, INBOX_ROUTING_KEY, body, "batch-poison",
                                        BATCH_TYPE, mandatory=True))
    events = _wait_for(lambda: (lambda found: found if all(any(e["id"] == g.message_id for e in found) for g in good)
                                and any(e["causation_id"] == poison.message_id for e in found) else None)(
        _events(rejecting_api, rejecting_keys)))
    rejection = next(e for e in events if e["causation_id"] == poison.message_id)
    assert rejection["type"] == "ledger.submission_rejected.v1"
    assert [r["code"] for r in rejection["payload"]["reasons"]] == ["unstorable_text"]
    assert "enterprise" in rejection["payload"]["reasons"][0]["message"]
    assert not any(e["id"] == poison.message_id for e in events)
    verdict = rejecting_api.get("ledger", "/v1/verify").json()
    assert verdict["ok"] is True and verdict["count"] == len(events)
