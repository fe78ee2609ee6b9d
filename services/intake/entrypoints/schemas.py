"""Request and response schemas of intake's HTTP API.

Validation is field by field so a problem can name each bad field and entry index; the
schemas are built per app around the reference data (regions, industries and their units,
target sources, methods) and the clock (a report cannot be for a future year).
"""
from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as NumberError

from shared.clock import Clock
from shared.reference import Reference

from ..domain.submissions import normalise_text

MAX_ENTRIES = 5000
MAX_CAPACITY = Decimal("1000000000")


class StrictBoolean(fields.Boolean):
    """Only JSON true/false: "yes", 1 or "0" are mistakes worth naming."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean (true or false).")
        return value


class Text(fields.String):
    """A string folded with NFKC and trimmed; empty after trimming counts as missing."""

    def __init__(self, *, max_length: int = 200, allow_empty: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.allow_empty = allow_empty

    def _deserialize(self, value, attr, data, **kwargs):
        text = normalise_text(super()._deserialize(value, attr, data, **kwargs))
        if not text and not self.allow_empty:
            raise ValidationError("Must not be empty.")
        if len(text) > self.max_length:
            raise ValidationError(f"Longer than {self.max_length} characters.")
        return text


def _check_uscc(value: str) -> str:
    try:
        return uscc_number.validate(value)
    except NumberError as exc:
        raise ValidationError(f"Not a valid unified social credit code (统一社会信用代码): {exc}") from None


class UsccField(Text):
    def _deserialize(self, value, attr, data, **kwargs):
        return _check_uscc(super()._deserialize(value, attr, data, **kwargs).upper())


def _positive_capacity(value: Decimal) -> None:
    if value <= 0:
        raise ValidationError("Must be greater than 0.")
    if value >= MAX_CAPACITY:
        raise ValidationError(f"Must be less than {MAX_CAPACITY}.")
    if value.normalize().as_tuple().exponent < -4:
        raise ValidationError("At most 4 decimal places.")


def entry_schema(reference: Reference) -> type[Schema]:
    """One row of the registration form, the same whether it came as JSON or from a spreadsheet."""
    industries = reference.industries

    class EntrySchema(Schema):
        enterprise = Text(required=True)
        uscc = UsccField(required=True, max_length=30, metadata={"description": "统一社会信用代码, 18 characters, check digit verified"})
        county = Text(required=True, max_length=100)
        industry = Text(required=True, validate=validate.OneOf(sorted(industries)), max_length=32)
        equipment = Text(required=True, metadata={"description": "outdated process or equipment"})
        equipment_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100000))
        capacity = fields.Decimal(required=True, validate=_positive_capacity,
                                  metadata={"description": "in the industry's unit; a number or a decimal string",
                                            "type": "string", "example": "12.5"})
        unit = Text(required=True, max_length=16, validate=validate.OneOf(sorted(reference.units)))
        target_source = Text(required=True, validate=validate.OneOf(reference.target_sources))
        planned_date = fields.Date(required=True, metadata={"description": "planned elimination date"})
        method = Text(required=True, validate=validate.OneOf(reference.methods), max_length=16)
        workers_affected = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1000000))
        remarks = Text(load_default="", max_length=500, allow_empty=True)

        @validates_schema(skip_on_field_errors=False)
        def unit_of_industry(self, data, **kwargs):
            industry = industries.get(data.get("industry"))
            if industry and data.get("unit") and data["unit"] != industry.unit:
                raise ValidationError(f"{industry.name} capacity is registered in {industry.unit}, not {data['unit']}.", "unit")

    return EntrySchema


def report_schema(reference: Reference, clock: Clock) -> type[Schema]:
    first_year = reference.calendar.first_year
    EntrySchema = entry_schema(reference)

    class ReportSchema(Schema):
        region = Text(required=True, max_length=12, validate=validate.OneOf(sorted(reference.regions), error="Unknown region code (GB/T 2260)."),
                               metadata={"description": "GB/T 2260 code of the reporting region", "example": "410100"})
        year = fields.Integer(required=True, strict=True)
        document_no = Text(required=True, max_length=100, metadata={"description": "文号 of the government document"})
        signed_by = Text(required=True, max_length=50)
        zero_report = StrictBoolean(required=True, metadata={"description": "零报告: no outdated capacity at all"})
        entries = fields.List(fields.Nested(EntrySchema), required=True, validate=validate.Length(max=MAX_ENTRIES))

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
            entries = data.get("entries")
            if entries is not None and "zero_report" in data:
                if data["zero_report"] and entries:
                    errors["entries"] = ["A zero report (零报告) has no entries."]
                elif not data["zero_report"] and not entries:
                    errors["entries"] = ["A registration form needs at least one entry; file a zero report if there is none."]
            if errors:
                raise ValidationError(errors)

    return ReportSchema


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


IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
