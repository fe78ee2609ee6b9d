"""Request and response schemas of intake's HTTP API.

Validation is field by field so a problem can name each bad field and entry index; the
schemas are built per app around the reference data (regions, industries and their units,
target sources, methods) and the clock (a report cannot be for a future year).
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as NumberError

from shared.clock import Clock
from shared.reference import Reference

from shared.schema_fields import Code, DocumentNumber, StrictBoolean, Text

MAX_ENTRIES = 5000
#: The dates a record may carry: no capacity was planned or eliminated under the campaign's targets
#: (the 11th five-year plan's on) before 2000, nor planned beyond 2099.
EARLIEST_DATE, LATEST_PLANNED_DATE = date(2000, 1, 1), date(2099, 12, 31)
MAX_CAPACITY = Decimal("1000000000")


def _check_uscc(value: str) -> str:
    try:
        return uscc_number.validate(value)
    except NumberError as exc:
        raise ValidationError(f"Not a valid unified social credit code (统一社会信用代码): {exc}") from None


class UsccField(Code):
    def _deserialize(self, value, attr, data, **kwargs):
        return _check_uscc(super()._deserialize(value, attr, data, **kwargs).upper())


def _positive_capacity(value: Decimal) -> None:
    if value <= 0:
        raise ValidationError("Must be greater than 0.")
    if value >= MAX_CAPACITY:
        raise ValidationError(f"Must be less than {MAX_CAPACITY}.")
    if value.adjusted() < -4 or value.normalize().as_tuple().exponent < -4:
        raise ValidationError("At most 4 decimal places.")


def entry_schema(reference: Reference) -> type[Schema]:
    """One row of the registration form, the same whether it came as JSON, from a spreadsheet or
    with a confirmed tip (one class per reference, so the OpenAPI document names it once)."""
    known = _ENTRY_SCHEMAS.get(id(reference))
    if known is not None and known[0] is reference:
        return known[1]
    industries = reference.industries

    class EntrySchema(Schema):
        enterprise = Text(required=True)
        uscc = UsccField(required=True, max_length=30, metadata={"description": "统一社会信用代码, 18 characters, check digit verified"})
        county = Text(required=True, max_length=100)
        industry = Code(required=True, validate=validate.OneOf(sorted(industries)), max_length=32)
        equipment = Text(required=True, multiline=True, metadata={"description": "outdated process or equipment"})
        equipment_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100000))
        capacity = fields.Decimal(required=True, validate=_positive_capacity,
                                  metadata={"description": "in the industry's unit; a number or a decimal string",
                                            "type": "string", "example": "12.5"})
        unit = Code(required=True, max_length=16, validate=validate.OneOf(sorted(reference.units)))
        target_source = Code(required=True, validate=validate.OneOf(reference.target_sources))
        planned_date = fields.Date(required=True, validate=validate.Range(min=EARLIEST_DATE, max=LATEST_PLANNED_DATE),
                                   metadata={"description": "planned elimination date"})
        method = Code(required=True, validate=validate.OneOf(reference.methods), max_length=16)
        workers_affected = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1000000))
        remarks = Text(load_default="", max_length=500, allow_empty=True, multiline=True)

        @validates_schema(skip_on_field_errors=False)
        def unit_of_industry(self, data, **kwargs):
            industry = industries.get(data.get("industry"))
            if industry and data.get("unit") and data["unit"] != industry.unit:
                raise ValidationError(f"{industry.name} capacity is registered in {industry.unit}, not {data['unit']}.", "unit")

    _ENTRY_SCHEMAS[id(reference)] = (reference, EntrySchema)
    return EntrySchema


_ENTRY_SCHEMAS: dict[int, tuple[Reference, type[Schema]]] = {}


PHONE = re.compile(r"^\+?[0-9][0-9()\- ]{4,30}([转#][0-9]{1,6})?$")


class FilerSchema(Schema):
    """The official form's filer lines (填报单位, 填报人, 联系电话, 填报日期), each optional,
    recorded with the report; a filled-in form carries them, a JSON filing may."""

    organisation = Text(max_length=100, metadata={"description": "填报单位 (as on its seal)", "example": "郑州市工业和信息化局"})
    person = Text(max_length=50, metadata={"description": "填报人", "example": "王五"})
    phone = Code(max_length=40, validate=validate.Regexp(PHONE, error="Not a telephone number."),
                 metadata={"description": "联系电话", "example": "0371-67188888"})
    date = fields.Date(validate=validate.Range(min=EARLIEST_DATE, max=LATEST_PLANNED_DATE),
                       metadata={"description": "填报日期"})


def report_schema(reference: Reference, clock: Clock) -> type[Schema]:
    first_year = reference.calendar.first_year
    EntrySchema = entry_schema(reference)

    class ReportSchema(Schema):
        region = Code(required=True, max_length=12, validate=validate.OneOf(sorted(reference.regions), error="Unknown region code (GB/T 2260)."),
                               metadata={"description": "GB/T 2260 code of the reporting region", "example": "410100"})
        year = fields.Integer(required=True, strict=True)
        document_no = DocumentNumber(required=True, max_length=100, metadata={"description": "文号 of the government document"})
        signed_by = Text(required=True, max_length=50)
        zero_report = StrictBoolean(required=True, metadata={"description": "零报告: no outdated capacity at all"})
        entries = fields.List(fields.Nested(EntrySchema), required=True, validate=validate.Length(max=MAX_ENTRIES))
        amendment = StrictBoolean(load_default=False, metadata={
            "description": "更正: supersedes the region's earlier report for the year (both stay on the log)"})
        reason = Text(load_default=None, max_length=500, multiline=True, metadata={"description": "why the report is amended (required for an amendment)"})
        filer = fields.Nested(FilerSchema, load_default=None, metadata={
            "description": "the form's filer lines: who filled it in and how to reach them"})

        @pre_load
        def not_a_list(self, data, **kwargs):
            if not isinstance(data, dict):
                raise ValidationError("The body must be a JSON object.", "_schema")
            return data

        @validates_schema(skip_on_field_errors=False)
        def coherent(self, data, **kwargs):
            errors = {}
            year = data.get("year")
            current = reference.calendar.business_date(clock.now()).year
            if isinstance(year, int) and not first_year <= year <= current:
                errors["year"] = [f"Must be between {first_year} and {current}."]
            if data.get("amendment") and not data.get("reason"):
                errors["reason"] = ["An amendment (更正) needs a reason."]
            entries = data.get("entries")
            if entries is not None and "zero_report" in data:
                if data["zero_report"] and entries:
                    errors["entries"] = ["A zero report (零报告) has no entries."]
                elif not data["zero_report"] and not entries:
                    errors["entries"] = ["A registration form needs at least one entry; file a zero report if there is none."]
            if errors:
                raise ValidationError(errors)

    return ReportSchema


class _Strict(Schema):
    @pre_load
    def not_a_list(self, data, **kwargs):
        if not isinstance(data, dict):
            raise ValidationError("The body must be a JSON object.", "_schema")
        return data


ITEM_ID = re.compile(r"^[0-9]{6}-[0-9]{4}-[0-9]{1,15}-[0-9]{1,5}$")


class ItemId(fields.String):
    """A ledger item id, ``<region>-<year>-<seq>-<n>`` (as ``GET /v1/items`` gives them)."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Regexp(ITEM_ID, error="Not a capacity item id (e.g. 410100-2016-12-1)."),
                         metadata={"example": "410100-2016-12-1"}, **kwargs)


def _not_future(clock: Clock, reference: Reference):
    def check(value):
        if value > reference.calendar.business_date(clock.now()):
            raise ValidationError("Must not be in the future.")
    return check


def department_list_schema(reference: Reference, clock: Clock) -> type[Schema]:
    first_year = reference.calendar.first_year

    class ListingSchema(Schema):
        enterprise = Text(required=True)
        uscc = UsccField(required=True, max_length=30)
        region = Code(required=True, max_length=12, validate=validate.OneOf(sorted(reference.regions), error="Unknown region code (GB/T 2260)."))
        industry = Code(required=True, validate=validate.OneOf(sorted(reference.industries)), max_length=32)
        basis = fields.String(required=True, validate=validate.OneOf(["emissions", "energy", "quality", "safety"]),
                              metadata={"description": "emissions (环保), energy (节能), quality (质量), safety (安全)"})
        detail = Text(load_default="", max_length=1000, allow_empty=True, multiline=True)

    class DepartmentListSchema(_Strict):
        year = fields.Integer(required=True, strict=True)
        entries = fields.List(fields.Nested(ListingSchema), required=True, validate=validate.Length(min=1, max=MAX_ENTRIES))
        department = fields.String(validate=validate.OneOf(["industry", "environment", "development", "quality", "safety"]),
                                   metadata={"description": "only an office key names it; a department key files its own"})

        @validates_schema(skip_on_field_errors=False)
        def year_in_campaign(self, data, **kwargs):
            year = data.get("year")
            current = reference.calendar.business_date(clock.now()).year
            if isinstance(year, int) and not first_year <= year <= current:
                raise ValidationError(f"Must be between {first_year} and {current}.", "year")

    return DepartmentListSchema


def elimination_schema(reference: Reference, clock: Clock) -> type[Schema]:
    class EliminationSchema(_Strict):
        item_id = ItemId(required=True)
        eliminated_on = fields.Date(required=True, validate=[validate.Range(min=EARLIEST_DATE), _not_future(clock, reference)])
        method = Code(required=True, validate=validate.OneOf(reference.methods), max_length=16)
        evidence = Text(required=True, max_length=2000, multiline=True, metadata={"description": "what shows it was done (photos, acceptance records…)"})
        workers_resettled = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1000000))

    return EliminationSchema


class VerificationSchema(_Strict):
    item_id = ItemId(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(["verified", "rejected"]))
    reason = Text(load_default="", max_length=1000, allow_empty=True, multiline=True)

    @validates_schema(skip_on_field_errors=False)
    def reason_for_rejection(self, data, **kwargs):
        if data.get("decision") == "rejected" and not data.get("reason"):
            raise ValidationError("A rejection needs a reason.", "reason")


def tip_schema(reference: Reference) -> type[Schema]:
    class TipSchema(_Strict):
        region = Code(required=True, max_length=12, validate=validate.OneOf(sorted(reference.regions), error="Unknown region code (GB/T 2260)."))
        enterprise = Text(required=True)
        uscc = Code(load_default="", max_length=30, allow_empty=True,
                    metadata={"description": "统一社会信用代码, if known (check digit verified)"})
        location = Text(required=True, max_length=500)
        description = Text(required=True, max_length=5000, multiline=True)
        contact = Text(load_default="", max_length=200, allow_empty=True,
                       metadata={"description": "optional; kept encrypted, never published"})

        @validates_schema(skip_on_field_errors=False)
        def known_uscc(self, data, **kwargs):
            if data.get("uscc"):
                try:
                    data["uscc"] = _check_uscc(data["uscc"].upper())
                except ValidationError as exc:
                    raise ValidationError(exc.messages, "uscc") from None

    return TipSchema


def tip_resolution_schema(reference: Reference) -> type[Schema]:
    class TipResolutionSchema(_Strict):
        resolution = fields.String(required=True, validate=validate.OneOf(["confirmed", "unfounded", "duplicate"]))
        explanation = Text(required=True, max_length=2000, multiline=True, metadata={"description": "published with the outcome"})
        duplicate_of = Code(load_default=None, max_length=64)
        entry = fields.Nested(entry_schema(reference), load_default=None,
                              metadata={"description": "a confirmed tip's capacity, entered on the ledger (source: tip)"})

        @validates_schema(skip_on_field_errors=False)
        def coherent(self, data, **kwargs):
            if data.get("resolution") == "confirmed" and not data.get("entry"):
                raise ValidationError("A confirmed tip enters its capacity on the ledger: give the entry.", "entry")
            if data.get("resolution") == "duplicate" and not data.get("duplicate_of"):
                raise ValidationError("Name the tip this one repeats.", "duplicate_of")

    return TipResolutionSchema


class TipLookupSchema(_Strict):
    receipt = fields.String(required=True, validate=validate.Length(max=200))


class AcceptedSchema(Schema):
    submission_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["pending", "recorded", "rejected"]})
    status_url = fields.String(required=True)


class StatusQuery(Schema):
    wait = fields.Float(load_default=0, validate=validate.Range(min=0, max=30),
                        metadata={"description": "seconds to wait for the ledger's answer while pending"})


class ReasonSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    message_zh = fields.String()


class SubmissionSchema(Schema):
    submission_id = fields.String(required=True)
    kind = fields.String(required=True)
    region = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    status = fields.String(required=True, metadata={"enum": ["pending", "recorded", "rejected"]})
    submitted_at = fields.String(required=True)
    decided_at = fields.String(allow_none=True)
    seq = fields.Integer(allow_none=True, metadata={"description": "position on the ledger, once recorded"})
    hash = fields.String(allow_none=True)
    stream = fields.String(allow_none=True)
    reasons = fields.List(fields.Nested(ReasonSchema), allow_none=True)
    attempts = fields.Integer(metadata={"description": "times its message was sent to the ledger's inbox"})
    stalled = fields.Boolean(metadata={
        "description": "sent as often as the outbox allows without the ledger's answer: it stays pending until an "
                       "operator re-drives it (zeroclear outbox redrive)"})



def form_query_schema(reference: Reference, clock: Clock) -> type[Schema]:
    """The blank form is for a year of the campaign: from its first to the next business year."""

    class FormQuery(Schema):
        region = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6}$"))
        year = fields.Integer(required=True)

        @validates_schema(skip_on_field_errors=True)
        def year_of_the_campaign(self, data, **kwargs):
            first, current = reference.calendar.first_year, reference.calendar.business_date(clock.now()).year
            if not first <= data["year"] <= current + 1:
                raise ValidationError(f"Must be between {first} and {current + 1}.", "year")

    return FormQuery


class UploadFields(Schema):
    """The multipart fields beside ``file`` (the spreadsheet)."""

    region = fields.String(required=True)
    year = fields.Integer(required=True)
    document_no = fields.String(required=True)
    signed_by = fields.String(required=True)
    amendment = fields.Boolean(load_default=False)
    reason = fields.String(load_default=None)


class AcknowledgementSchema(Schema):
    ack = fields.Dict(required=True)
    signature = fields.String(required=True)
    alg = fields.String(required=True)


class TipStatusSchema(Schema):
    tip_id = fields.String(required=True)
    region = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["pending", "open", "confirmed", "unfounded", "duplicate", "rejected"]})
    explanation = fields.String(allow_none=True)
    resolved_at = fields.String(allow_none=True)
    acknowledgement = fields.Nested(AcknowledgementSchema)
    inclusion = fields.Dict(metadata={
        "description": "that the tip is on the log, checkable without trusting intake: the event's header "
                       "(its hash is the acknowledgement's), the Merkle leaf of that header, the ledger's "
                       "inclusion proof and its signed checkpoint (a C2SP note; key at the ledger's "
                       "/v1/checkpoints/keys). Left out while the ledger cannot be asked"})


class TipReceiptSchema(TipStatusSchema):
    receipt = fields.String(required=True, metadata={"description": "shown once: keep it to follow the tip"})
    region = fields.String()


class SigningKeySchema(Schema):
    alg = fields.String(required=True)
    key_id = fields.String(required=True)
    public_key = fields.String(required=True)
    previous = fields.List(fields.Dict(), metadata={
        "description": "keys that signed acknowledgements before a rotation ({alg, key_id, public_key} each): "
                       "an acknowledgement names its key_id"})
