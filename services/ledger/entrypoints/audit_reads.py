"""The auditors' reads of the log itself (纪检监察, 审计), for the office and auditor keys: the events
filtered by type, region, stream, recording time, causation or correlation, newest first a page at
a time; the report registry at a log position; and the whole log with its checkpoint as one streamed download (the same lines as
``zeroclear ledger export``, so ``verify_export.py`` checks it offline).

Views are thin functions, registered a few at a time by ``_register_*``; each reaches what it needs
through one object stored on the app (``current_app.extensions[DESK]``) and calls it."""
from __future__ import annotations

from contextlib import closing

import orjson
import sqlalchemy as sa
from flask import Response, current_app, stream_with_context
from marshmallow import Schema, fields, validate

from shared.clock import format_instant, parse_instant
from shared.db import read_tx
from shared.http import ApiBlueprint, Problem, require
from shared.schema_fields import Code

from ..adapters import reads
from ..adapters.log_rows import stream_rows
from ..adapters.repository import _EVENT_COLUMNS, row_to_event
from ..adapters.tables import events
from ..bootstrap import LedgerService
from ..domain import registry
from ..export import FORMAT, line_blocks, signed_tree
from .schemas import RecordedEventSchema

AUDITORS = ("office", "auditor")
EXPORT_CHUNK_LINES = 1000
MAX_SEQ = 2**53 - 1


def _instant(value: str) -> None:
    try:
        parse_instant(value)
    except ValueError as exc:
        raise validate.ValidationError(str(exc)) from None


class AuditEventsQuery(Schema):
    type = Code(max_length=80, metadata={"example": "intake.report_filed.v1"})
    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))
    stream = Code(max_length=120)
    since = fields.String(validate=_instant, metadata={"description": "recorded at or after this ISO time"})
    until = fields.String(validate=_instant, metadata={"description": "recorded at or before this ISO time"})
    id = Code(max_length=64, metadata={"description": "the event with this id"})
    caused_by = Code(max_length=64, metadata={"description": "events whose causation_id is this (what it caused)"})
    correlation = Code(max_length=64, metadata={"description": "events of this correlation_id"})
    before = fields.Integer(validate=validate.Range(min=1, max=MAX_SEQ),
                            metadata={"description": "events with seq < before (a page's next_before)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PositionRegistryQuery(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=1900, max=2999))
    position = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_SEQ),
                              metadata={"description": "the log position the registry is read at"})


class AuditEventsPage(Schema):
    events = fields.List(fields.Nested(RecordedEventSchema), required=True)
    next_before = fields.Integer(allow_none=True, metadata={"description": "pass as ?before= for the next page"})
    head_seq = fields.Integer(required=True)


DESK = "zeroclear.ledger.audit"


class AuditDesk:
    """What the auditors' views need: the log's engine and head, the reference, the signing key."""

    def __init__(self, service: LedgerService):
        self.service = service

    def events(self, args: dict) -> dict:
        query = sa.select(*_EVENT_COLUMNS)
        for name, column in (("type", "type"), ("region", "region"), ("stream", "stream"), ("id", "id"),
                             ("caused_by", "causation_id"), ("correlation", "correlation_id")):
            if args.get(name):
                query = query.where(events.c[column] == args[name])
        if args.get("since"):
            query = query.where(events.c.recorded_at >= format_instant(parse_instant(args["since"])))
        if args.get("until"):
            query = query.where(events.c.recorded_at <= format_instant(parse_instant(args["until"])))
        if args.get("before"):
            query = query.where(events.c.seq < args["before"])
        limit = args["limit"]
        with self.service.repo.engine.connect() as conn:
            rows = conn.execute(query.order_by(events.c.seq.desc()).limit(limit + 1)).all()
        found = [row_to_event(row).to_dict() for row in rows[:limit]]
        head_seq, _ = self.service.repo.head()
        return {"events": found, "next_before": found[-1]["seq"] if len(rows) > limit else None, "head_seq": head_seq}

    def registry_at(self, args: dict) -> dict:
        year, seq, reference = args["year"], args["position"], self.service.reference
        with read_tx(self.service.repo.engine) as conn:
            head, _ = reads.head(conn)
            if seq > head:
                raise Problem(409, "Not on the log", f"position: {seq} is past the head of the log ({head})",
                              kind="not-yet", errors=[{"field": "query:position", "message": f"at most {head}"}])
            now = reads.recorded_at(conn, seq)
            record = reads.year_at(conn, year, seq)
            expected, deadline, due = registry.schedule(record, year, reference)
            found = reads.reports_of(conn, year, expected, seq)
            filed = reads.report_counts(conn, year, seq, None)
        return {**registry.summary(year, record, len(expected), filed, deadline, due, now), "position": seq,
                "regions": registry.rows(expected, found, year, deadline, now, reference), "next": None}

    def export(self) -> Response:
        head_seq, head_hash = self.service.repo.head()
        lines = _export_lines(self.service, head_seq, head_hash)
        return Response(stream_with_context(lines), mimetype="application/x-ndjson", headers={
            "Content-Disposition": f'attachment; filename="ledger-export-{head_seq}.jsonl"', "Cache-Control": "no-store"})


def _export_lines(service: LedgerService, head_seq: int, head_hash: str):
    """The export's lines up to ``head_seq``, a chunk of ``EXPORT_CHUNK_LINES`` events at a time
    (about a megabyte: few enough writes that the server's per-write work stays small next to
    making the lines), then the checkpoint."""
    with service.repo.engine.connect() as conn, closing(stream_rows(conn, upto_seq=head_seq)) as rows:
        yield from line_blocks(rows, EXPORT_CHUNK_LINES)
    checkpoint = {"format": FORMAT, "count": head_seq, "head": head_hash,
                  "exported_at": format_instant(service.clock.now()),
                  **signed_tree(service.repo.engine, service.signing_key, head_seq, service.clock)}
    yield orjson.dumps({"checkpoint": checkpoint}) + b"\n"


def _desk() -> AuditDesk:
    return current_app.extensions[DESK]


def blueprint(service: LedgerService) -> ApiBlueprint:
    blp = ApiBlueprint("ledger-audit", __name__, url_prefix="/v1/audit",
                       description="The log for auditors: filtered events and the streamed export")
    desk = AuditDesk(service)
    blp.record(lambda state: state.app.extensions.update({DESK: desk}))
    _register_audit(blp)
    return blp


def _register_audit(blp: ApiBlueprint) -> None:
    @blp.route("/events")
    @require(*AUDITORS)
    @blp.arguments(AuditEventsQuery, location="query")
    @blp.response(200, AuditEventsPage)
    def audit_events(args):
        """Recorded events matching every filter given, newest first (``next_before``: the next page)."""
        return _desk().events(args)

    @blp.route("/reports")
    @require(*AUDITORS)
    @blp.arguments(PositionRegistryQuery, location="query")
    @blp.response(200)
    def registry_at_position(args):
        """The year's report registry exactly as the log stood at ``position`` (every region, in code
        order), judged at that event's recording time. ``/v1/reports?as_of=`` takes a time, which
        names the last of the events recorded in the same instant; an auditor replaying the log
        names a position."""
        return _desk().registry_at(args)

    @blp.route("/export")
    @require(*AUDITORS)
    @blp.response(200, {"format": "binary", "type": "string"}, content_type="application/x-ndjson")
    def audit_export():
        """The whole log up to its head as JSON Lines with the checkpoint as the last line, streamed
        as it is read (any size; one read transaction). Verify it offline with
        ``python3 verify_export.py <file>`` (``zeroclear ledger verifier`` prints that file)."""
        return _desk().export()
