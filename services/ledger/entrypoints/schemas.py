"""Request and response schemas of the ledger's HTTP API (they also make its OpenAPI document)."""
import base64
import binascii

import orjson
from marshmallow import Schema, ValidationError, fields, validate

from shared.clock import POSITION_YEARS, parse_instant


def _instant(value: str) -> None:
    try:
        when = parse_instant(value)
    except (ValueError, OverflowError):
        when = None
    if when is None or not POSITION_YEARS[0] <= when.year <= POSITION_YEARS[1]:
        raise ValidationError(f"an ISO 8601 time with its UTC offset in the years {POSITION_YEARS[0]} to "
                              f"{POSITION_YEARS[1]}, e.g. 2016-11-15T23:59:59+08:00")


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
    verified_at = fields.String(metadata={"description": "when this verdict was reached (business time)"})
    scope = fields.String(validate=validate.OneOf(["incremental", "full", "deep"]), metadata={
        "description": "incremental: the last verified head, moved on over the events appended since (everyone); "
                       "full: the whole chain walked now (office, auditor); deep: and every projection row compared "
                       "with a rebuild from the log"})
    chain = fields.Dict(metadata={"description": "deep: the chain's verdict"})
    projections = fields.Dict(metadata={"description": "deep: {ok, tables: {name: {rows, differing}}, differences: "
                                                       "[{table, key, valid_from, live, columns | missing | extra}]}"})


class VerifyQuery(Schema):
    deep = fields.Boolean(load_default=False, metadata={
        "description": "office and auditor keys: also rebuild the projections from the log and compare every stored "
                       "row version with it, naming those that differ"})


class StateSchema(Schema):
    seq = fields.Integer(required=True)
    head = fields.String(required=True)
    digest = fields.String(required=True, metadata={"description": "SHA-256 of the canonical projection"})


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


class BuiltRows(fields.List):
    """A list of rows sent as built (documented as the list of its schema): ``registry.rows`` makes
    each row with this schema's keys and JSON types already, and dumping 1,000 of them through
    marshmallow cost a third of the registry page's time (bench/reads.py)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value


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
    regions = BuiltRows(fields.Nested(RegistryRow), required=True)
    next = fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next regions; null: none"})


class AsOfQuery(Schema):
    as_of = fields.String(validate=validate.Length(max=40), metadata={
        "description": "a ledger seq or an ISO 8601 time with its offset: the projections as they stood then (the row "
                       "versions valid at that position, by index: no replay); default: now"})


class Cursor(fields.String):
    """A page's ``next``, given back as ``?cursor=`` to read on: opaque to the client, checked here
    to hold the key parts of this list's order (their types in ``shape``)."""

    def __init__(self, shape: tuple[type, ...], **kwargs):
        super().__init__(metadata={"description": "the previous page's `next`; absent: the first page"}, **kwargs)
        self.shape = shape

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parts = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, binascii.Error):
            parts = None
        if not (isinstance(parts, list) and len(parts) == len(self.shape)
                and all(type(p) is kind for p, kind in zip(parts, self.shape))):
            raise ValidationError("Not a cursor of this list (pass a page's next as it came).")
        return tuple(parts)


class PageQuery(AsOfQuery):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000), metadata={
        "description": "rows per page"})
    count = fields.Boolean(load_default=False, metadata={
        "description": "also count every row matching the filters (`total`): costs a scan, ask only when shown"})


class RegistryQuery(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=1900, max=2999))
    as_of = fields.String(validate=_instant, metadata={"description": "judge 'missing' as of this time (default: now)"})
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=5000), metadata={
        "description": "regions per page (a province's fit in the default 200; a country's 2,850 take 3 pages of 1,000)"})
    cursor = Cursor((str,))


class ItemFilters(Schema):
    """The filters of the items' list and of their counts."""

    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))
    industry = fields.String(validate=validate.Length(max=32))
    year = fields.Integer(validate=validate.Range(min=1900, max=2999))
    status = fields.String(validate=validate.OneOf(["registered", "scheduled", "eliminated", "verified", "withdrawn",
                                                    "overdue"]), metadata={
        "description": "scheduled: registered, its year's plan fixed by the report deadline; overdue: registered or "
                       "scheduled, its planned date passed — both judged as of the read's instant"})
    source = fields.String(validate=validate.OneOf(["report", "tip"]), metadata={
        "description": "report: filed by its region; tip: entered by a confirmed tip"})


class ItemsQuery(PageQuery, ItemFilters):
    cursor = Cursor((str,))


class ItemCountsQuery(AsOfQuery, ItemFilters):
    group_by = fields.String(required=True, validate=validate.OneOf(["region", "industry", "year", "status"]),
                             metadata={"description": "count per region, industry, year, or status as judged at the "
                                                      "read's instant (registered, scheduled, eliminated, ...)"})


class DiscrepanciesQuery(PageQuery):
    cursor = Cursor((int, int, str))
    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))
    year = fields.Integer(validate=validate.Range(min=1900, max=2999))


class ResurgencesQuery(AsOfQuery):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = Cursor((int,))
    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))


class TipFilters(Schema):
    """The filters of the tips' list and of their counts."""

    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))
    status = fields.String(validate=validate.OneOf(["open", "confirmed", "unfounded", "duplicate", "late"]), metadata={
        "description": "late: resolved after its period, or still open past it"})


class TipsQuery(PageQuery, TipFilters):
    cursor = Cursor((int,))


class TipCountsQuery(AsOfQuery, TipFilters):
    group_by = fields.String(required=True, validate=validate.OneOf(["region", "status"]), metadata={
        "description": "count per region, or per status (open, confirmed, unfounded, duplicate)"})


class GroupCount(Schema):
    key = fields.String(required=True, metadata={"description": "the group's value (a region code, an industry, "
                                                                "a year, a status), as text", "example": "410100"})
    count = fields.Integer(required=True, metadata={"description": "the rows of the group matching the filters"})
    overdue = fields.Integer(required=True, metadata={
        "description": "of those, overdue at the read's instant (items: planned date passed, not eliminated; "
                       "tips: open past their period)"})


class CountsSchema(Schema):
    group_by = fields.String(required=True)
    counts = fields.List(fields.Nested(GroupCount), required=True, metadata={
        "description": "one per group with at least one matching row, in key order (text)"})
    total = fields.Integer(required=True, metadata={"description": "every row matching the filters (the list's "
                                                                   "`total` with the same filters)"})
    overdue = fields.Integer(required=True, metadata={"description": "of those, overdue at the read's instant"})
    as_of = fields.String(required=True, metadata={"description": "the instant (UTC) statuses are judged at"})
    seq = fields.Integer(required=True, metadata={"description": "the ledger seq the counts reflect"})


class PageSchema(Schema):
    next = fields.String(allow_none=True, metadata={"description": "pass as ?cursor= (with the same filters) for "
                                                                   "the next page; null on the last page"})
    limit = fields.Integer(required=True)
    total = fields.Integer(metadata={"description": "every row matching the filters (only with ?count=true)"})
    as_of = fields.String(required=True, metadata={"description": "the instant (UTC) statuses are judged at"})
    seq = fields.Integer(required=True, metadata={"description": "the ledger seq the page reflects"})


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


class ResurgencesPage(PageSchema):
    resurgences = fields.List(fields.Dict(), required=True)


class TipSchema(Schema):
    """A tip (举报) on the ledger: what was alleged, when it is due, how it was resolved."""

    tip_id = fields.String(required=True)
    region = fields.String(required=True)
    enterprise = fields.String(required=True)
    uscc = fields.String(required=True, metadata={"description": "empty when the tipster did not know it"})
    location = fields.String(required=True)
    description = fields.String(required=True)
    seq = fields.Integer(required=True, metadata={"description": "the ledger seq that recorded it"})
    filed_at = fields.String(required=True, metadata={"description": "UTC"})
    due_at = fields.String(required=True, metadata={"description": "the end of its resolution period (UTC)"})
    status = fields.String(required=True, metadata={"enum": ["open", "confirmed", "unfounded", "duplicate"]})
    overdue = fields.Boolean(required=True, metadata={"description": "open past its period, at the read's instant"})
    explanation = fields.String(allow_none=True)
    duplicate_of = fields.String(allow_none=True)
    resolved_seq = fields.Integer(allow_none=True)
    resolved_at = fields.String(allow_none=True)
    late = fields.Boolean(allow_none=True, metadata={"description": "resolved after its period"})
    revealed = fields.String(allow_none=True, metadata={
        "enum": ["unreported", "zero_report", None],
        "description": "a confirmed tip: capacity the region had not reported, or under a zero report"})
    item_id = fields.String(allow_none=True, metadata={"description": "a confirmed tip: the item it entered"})


class TipsPage(PageSchema):
    tips = fields.List(fields.Nested(TipSchema), required=True)


class SnapshotsQuery(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**53 - 1),
                           metadata={"description": "snapshots at ledger seqs after this one"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class SnapshotSchema(Schema):
    seq = fields.Integer(required=True, metadata={"description": "the ledger seq it was taken at"})
    digest = fields.String(required=True, metadata={"description": "the projections' digest there (as /v1/state)"})
    taken_at = fields.String(required=True, metadata={"description": "when (UTC, the machine's clock)"})


class SnapshotsPage(Schema):
    snapshots = fields.List(fields.Nested(SnapshotSchema), required=True)
    next_after = fields.Integer(allow_none=True, metadata={"description": "pass as ?after= for more; null: no more"})
