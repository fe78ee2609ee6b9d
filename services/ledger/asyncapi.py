"""The event stream agencies may consume, as an AsyncAPI 2.6 document (issue 13), generated from
the payload types the ledger records (``domain/events.py``), the producers' published contract
(``shared/messages``: who publishes each type, its version and the fields promised) and the broker
topology; served by the ledger at ``/asyncapi.json`` beside its OpenAPI document.

Versioning: the document's ``info.version`` follows semver; each event type carries its own
version in its name (``….v1``): a change that breaks a consumer is a new type (``….v2``) published
beside the old one for a deprecation period, never a change to an existing one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from shared.contract import SEQ, compose
from shared.messages import parse_type
from shared.messages.catalog import PROMISES
from shared.topology import Topology

from .domain import events as ev, office_events as office

VERSION = "1.0.0"


@dataclass(frozen=True)
class SubmissionRejected:
    """A proposed fact the ledger refused, with every reason (the submission ends ``rejected``)."""

    submission_id: str | None
    message_id: str
    message_type: str
    region: str | None
    year: int | None
    reasons: tuple[ev.Reason, ...]


#: every event type on the ledger's exchange: its payload type and what it means (English, Chinese)
EVENT_TYPES: dict[str, tuple[type, str, str]] = {
    ev.YEAR_OPENED: (ev.YearOpened, "A campaign year opened: its due dates and the regions expected to report",
                     "年度排查启动"),
    ev.REPORT_FILED: (ev.ReportFiled, "A region's registration form or zero report recorded", "排查登记表（零报告）已记账"),
    ev.REPORT_AMENDED: (ev.ReportFiled, "An amendment replaced a region's report (with its reason)", "更正报告已记账"),
    ev.DEPARTMENT_LIST_FILED: (ev.DepartmentListFiled, "A department's list of enterprises recorded", "部门清单已记账"),
    ev.ELIMINATION_REPORTED: (ev.EliminationReported, "A region reported a capacity item eliminated", "淘汰完成已报告"),
    ev.ELIMINATION_DECIDED: (ev.EliminationDecided, "The office verified or rejected an elimination", "淘汰核查结果"),
    ev.TIP_FILED: (ev.TipFiled, "A citizen's tip recorded (never who sent it)", "群众举报已记账"),
    ev.TIP_RESOLVED: (ev.TipResolved, "A tip resolved: confirmed, unfounded or a duplicate", "举报已办结"),
    ev.ASSESSMENT_INPUT_FILED: (office.AssessmentInput, "The office scored criterion 2 or 3 of a region's year",
                                "省办考核评分已记账"),
    ev.ASSESSMENT_PUBLISHED: (office.AssessmentPublished, "A year's assessment published (or corrected)", "年度考核结果已发布"),
    ev.ALERT_ISSUED: (office.AlertIssued, "An overdue alert issued to a region or escalated to the office", "逾期预警已发出"),
    ev.CIRCULAR_ISSUED: (office.CircularIssued, "A circular issued, with its documents' SHA-256", "通报已发布"),
    ev.SUBMISSION_REJECTED: (SubmissionRejected, "A submission refused by the ledger, with its reasons",
                             "报送被退回（附理由）"),
}
GUARANTEES = """\
Delivery: every event the ledger records is published after its commit to the topic exchange
`{exchange}`, routing key = the event type (bind `#` for all, `intake.#` for intake's facts, or the
exact types you want). Declare your own durable queue and bind it; consume with manual acks.

- At least once: an event may arrive twice (a republish after a restart): de-duplicate by `seq`.
- In log order per queue: `seq` increases by exactly 1 along the log (1, 2, 3, …); a queue bound
  to some types sees an increasing subsequence.
- Published as transient messages (the fast path): a broker restart or an overflowing queue can
  lose some. Fill a gap — and catch up after your own restart — from the ledger's HTTP feed
  `GET /v1/events?after=<last seq you applied>&limit=1000` (bearer key), which answers every
  recorded event in order; ask again with `after=next_after` until it reaches `head_seq`.
- Keep the last `seq` you applied with what you applied it to, and resume from it.
- Every event is hash-chained: `prev_hash` is the `hash` of the event at `seq - 1`; verify the
  chain with `GET /v1/verify` or `zeroclear ledger verify`.
- An agency's broker user (`zeroclear agency add NAME`) may declare and read queues named
  `agency.NAME.*` and bind them to this exchange, and nothing else: it can never publish to the
  ledger's inbox.
"""


def document(topology: Topology) -> dict[str, Any]:
    """The AsyncAPI document of the ledger's exchange under ``topology``."""
    payload_types = sorted({kind for kind, _, _ in EVENT_TYPES.values()}, key=lambda kind: kind.__name__)
    _, schemas = msgspec.json.schema_components(payload_types, ref_template="#/components/schemas/{name}")
    schemas["RecordedEvent"] = _recorded_event()
    exchange = {"name": topology.ledger_exchange, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}
    channels, messages = {}, {}
    for event_type, (kind, meaning, meaning_zh) in EVENT_TYPES.items():
        name = event_type
        envelope = {"allOf": [{"$ref": "#/components/schemas/RecordedEvent"}, {
            "type": "object", "properties": {"type": {"const": event_type},
                                             "payload": {"$ref": f"#/components/schemas/{kind.__name__}"}}}]}
        example = _example(event_type, kind, schemas)
        messages[name] = {
            "name": name, "title": f"{meaning} · {meaning_zh}", "summary": meaning_zh, "contentType": "application/json",
            "payload": envelope, "examples": [{"name": f"{name} example", "payload": example}],
            "bindings": {"amqp": {"messageType": event_type, "bindingVersion": "0.3.0"}},
            **_published(event_type),
        }
        channels[event_type] = {
            "description": f"{meaning} ({meaning_zh}). Routing key `{event_type}` on `{topology.ledger_exchange}`.",
            "subscribe": {"operationId": "on_" + event_type.replace(".", "_"), "summary": f"{meaning} · {meaning_zh}",
                          "message": {"$ref": f"#/components/messages/{name}"},
                          "bindings": {"amqp": {"ack": True, "deliveryMode": 1, "bindingVersion": "0.3.0"}}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": "0.3.0"}},
        }
    return {
        "asyncapi": "2.6.0",
        "id": "urn:zeroclear:ledger-events",
        "info": {"title": "zeroclear ledger events", "version": VERSION,
                 "description": GUARANTEES.format(exchange=topology.ledger_exchange)},
        "servers": {"broker": {"url": "{host}:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
                               "description": "the campaign's RabbitMQ; ask the operator for the host and your user",
                               "variables": {"host": {"default": "localhost"}}}},
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages, "schemas": schemas},
    }


def _published(event_type: str) -> dict[str, Any]:
    """Who publishes ``event_type``, its version, and the payload fields its producer promises."""
    producer, _, version = parse_type(event_type)
    promised = PROMISES[event_type]
    return {"x-producer": producer, "x-version": version,
            "x-promised-fields": {"required": sorted(promised.required), "optional": sorted(promised.optional)}}


def _recorded_event() -> dict[str, Any]:
    text = {"type": "string"}
    return {"type": "object", "description": "An event as the ledger recorded it (the same in /v1/events and exports)",
            "required": ["seq", "id", "type", "schema_version", "stream", "stream_version", "occurred_at", "recorded_at",
                         "actor", "causation_id", "correlation_id", "region", "payload", "payload_hash", "prev_hash",
                         "hash"],
            "properties": {
                "seq": {"type": "integer", "minimum": 1, "description": SEQ}, "id": text, "type": text,
                "schema_version": {"type": "integer"},
                "stream": {"type": "string", "description": "the aggregate it belongs to, e.g. report:410100:2016"},
                "stream_version": {"type": "integer", "description": "its position within the stream (1, 2, …)"},
                "occurred_at": {"type": "string", "description": "when it happened: RFC 3339, UTC (Z)"},
                "recorded_at": {"type": "string", "description": "when the ledger recorded it: RFC 3339, UTC (Z)"},
                "actor": text, "causation_id": {"type": ["string", "null"]}, "correlation_id": text,
                "region": {"type": ["string", "null"], "description": "6-digit region code (GB/T 2260), e.g. 410100"},
                "payload": {"type": "object"},
                "payload_hash": {"type": "string", "description": "SHA-256 (hex) of the canonical payload"},
                "prev_hash": {"type": "string", "description": "the hash of the event at seq - 1"},
                "hash": {"type": "string", "description": "SHA-256 (hex) chaining this event"},
            }}


def _example(event_type: str, kind: type, schemas: dict) -> dict[str, Any]:
    payload = compose({"$ref": f"#/components/schemas/{kind.__name__}"}, schemas)
    payload = {key: value for key, value in payload.items() if value is not None}
    return {"seq": 1024, "id": "evt_4c2a9e7b1d5f3a8c", "type": event_type, "schema_version": 1,
            "stream": "report:410100:2016", "stream_version": 1, "occurred_at": "2016-11-15T02:30:00.000000Z",
            "recorded_at": "2016-11-15T02:30:00.120000Z", "actor": "region:410100", "causation_id": None,
            "correlation_id": "sub_5f3c2a9e7b1d4c08a6e2f41b9d7c3e10", "region": "410100", "payload": payload,
            "payload_hash": "1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d9f2c6d0e4b7a1c3e5d8f0a2b4c6d8e0f",
            "prev_hash": "5d8f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d9f2c6d0e4b7a1c3e",
            "hash": "9f2c6d0e4b7a1c3e5d8f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d"}
