"""Request and response schemas of the ledger's HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate

from shared.clock import parse_instant


def _instant(value: str) -> None:
    try:
        parse_instant(value)
    except ValueError:
        raise ValidationError("not an ISO 8601 time with a UTC offset, e.g. 2016-11-15T23:59:59+08:00") from None


class EventsQuery(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**53 - 1), metadata={"description": "return events with seq > after"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class RecordedEventSchema(Schema):
    seq = fields.Integer(required=True)
    id = fields.String(required=True)
    type = fields.String(required=True, metadata={"example": "intake.report_filed.v1"})
    schema_version = fields.Integer(required=True)
    stream = fields.String(required=True)
    stream_version = fields.Integer(required=True)
    occurred_at = fields.String(required=True)
    recorded_at = fields.String(required=True)
    actor = fields.String(required=True)
    causation_id = fields.String(allow_none=True)
    correlation_id = fields.String(required=True)
    region = fields.String(allow_none=True)
    payload = fields.Dict(required=True)
    payload_hash = fields.String(required=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class EventsPage(Schema):
    events = fields.List(fields.Nested(RecordedEventSchema), required=True)
    next_after = fields.Integer(required=True, metadata={"description": "pass as ?after= to read on"})
    head_seq = fields.Integer(required=True)


class VerdictSchema(Schema):
    ok = fields.Boolean(required=True)
    count = fields.Integer(required=True)
    head = fields.String(required=True)
    first_bad_seq = fields.Integer()
    reason = fields.String()


class StateSchema(Schema):
    seq = fields.Integer(required=True)
    head = fields.String(required=True)
    digest = fields.String(required=True, metadata={"description": "SHA-256 of the canonical projection"})


class RegistryQuery(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=1900, max=2999))
    as_of = fields.String(validate=_instant, metadata={"description": "judge 'missing' as of this time (default: now)"})


class RegistryRow(Schema):
    region = fields.String(required=True)
    name = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": ["on_time", "late", "missing", "awaiting"]})
    zero_report = fields.Boolean()
    filed_at = fields.String()
    seq = fields.Integer()
    submission_id = fields.String()
    document_no = fields.String()
    signed_by = fields.String()
    item_count = fields.Integer()
    amended_at = fields.String(allow_none=True, metadata={"description": "when the current version amended the report"})
    history = fields.List(fields.Dict(), metadata={"description": "every version filed, first to current"})


class RegistrySchema(Schema):
    year = fields.Integer(required=True)
    opened = fields.Boolean(required=True)
    report_due = fields.String(required=True)
    deadline = fields.String(required=True)
    as_of = fields.String(required=True)
    expected = fields.Integer(required=True)
    filed = fields.Integer(required=True)
    completeness = fields.Float(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    regions = fields.List(fields.Nested(RegistryRow), required=True)


class AsOfQuery(Schema):
    as_of = fields.String(metadata={"description": "a log position (seq) or an ISO time: the state as it was then "
                                                   "(replayed from the log and verified); default: now"})


class PageQuery(AsOfQuery):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))


class ItemsQuery(PageQuery):
    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))
    industry = fields.String(validate=validate.Length(max=32))
    year = fields.Integer(validate=validate.Range(min=1900, max=2999))
    status = fields.String(validate=validate.OneOf(["registered", "scheduled", "eliminated", "verified", "withdrawn",
                                                    "overdue"]))


class DiscrepanciesQuery(PageQuery):
    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))
    year = fields.Integer(validate=validate.Range(min=1900, max=2999))


class TipsQuery(PageQuery):
    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))
    status = fields.String(validate=validate.OneOf(["open", "confirmed", "unfounded", "duplicate", "late"]))


class PageSchema(Schema):
    total = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    next_offset = fields.Integer(allow_none=True, metadata={"description": "pass as ?offset= for the next page"})
    as_of = fields.String(required=True, metadata={"description": "the instant the statuses are judged at"})
    seq = fields.Integer(required=True, metadata={"description": "the log position the page reflects"})


class ItemsPage(PageSchema):
    items = fields.List(fields.Nested("ItemSchema"), required=True)


class ItemSchema(Schema):
    """A capacity item as readers see it at a moment (status judged then, ``overdue`` too)."""

    item_id = fields.String(required=True)
    region = fields.String(required=True)
    year = fields.Integer(required=True)
    report_seq = fields.Integer(required=True)
    enterprise = fields.String(required=True)
    uscc = fields.String(required=True)
    county = fields.String(required=True)
    industry = fields.String(required=True)
    equipment = fields.String(required=True)
    equipment_count = fields.Integer(required=True)
    capacity = fields.String(required=True)
    unit = fields.String(required=True)
    target_source = fields.String(required=True)
    planned_date = fields.String(required=True)
    method = fields.String(required=True)
    workers_affected = fields.Integer(required=True)
    remarks = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["registered", "scheduled", "eliminated", "verified", "withdrawn"]})
    recorded_status = fields.String(required=True, metadata={"description": "as the log left it, before the calendar's judgement"})
    overdue = fields.Boolean(required=True)
    source = fields.String(required=True, metadata={"enum": ["report", "tip"]})
    tip_id = fields.String(allow_none=True)
    eliminated_on = fields.String(allow_none=True)
    elimination_method = fields.String(allow_none=True)
    evidence = fields.String(allow_none=True)
    workers_resettled = fields.Integer(allow_none=True)
    elimination_seq = fields.Integer(allow_none=True)
    verified_seq = fields.Integer(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    event_seqs = fields.List(fields.Integer(), required=True)


class HistorySchema(Schema):
    item_id = fields.String(required=True)
    events = fields.List(fields.Nested(RecordedEventSchema), required=True)


class DiscrepanciesPage(PageSchema):
    discrepancies = fields.List(fields.Dict(), required=True)
    resurgences = fields.List(fields.Dict(), required=True)


class TipsPage(PageSchema):
    tips = fields.List(fields.Dict(), required=True)
