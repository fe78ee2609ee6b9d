"""Request and response schemas of the assessment's HTTP API (they also make its OpenAPI document)."""
from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from shared.clock import Clock, parse_instant
from shared.reference import Reference
from shared.schema_fields import Text



def _instant(value: str) -> None:
    try:
        parse_instant(value)
    except ValueError:
        raise ValidationError("not an ISO 8601 time with a UTC offset, e.g. 2017-01-03T23:59:59+08:00") from None


class AssessmentQuery(Schema):
    as_of = fields.String(validate=validate.Length(max=40), metadata={
        "description": "a log position (seq) or an ISO time: the scores as the log stood then (default: now)"})
    cut_off = fields.String(validate=_instant, metadata={
        "description": "what counts as done in time (default: the end of the year's acceptance stage)"})


class PublishSchema(Schema):
    cut_off = fields.String(validate=_instant, load_default=None)
    corrects = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=2**53 - 1), metadata={
        "description": "a correction: the ledger seq of the official publication it replaces (a year is published "
                       "once; a later publication corrects it, naming it and why)"})
    reason = Text(load_default=None, max_length=1000, multiline=True,
                  metadata={"description": "why the correction (required with corrects)"})

    @validates_schema(skip_on_field_errors=True)
    def a_correction_says_why(self, data, **kwargs):
        if data.get("corrects") is not None and not data.get("reason"):
            raise ValidationError("A correction needs a reason.", "reason")

    @pre_load
    def an_object(self, data, **kwargs):
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ValidationError("The body must be a JSON object.", "_schema")
        return data


def _score(value: Decimal) -> None:
    if value.is_signed() or not value <= Decimal(100):  # -0 is no score either
        raise ValidationError("Must be between 0 and 100.")
    if value.as_tuple().exponent < -2:
        raise ValidationError("At most 2 decimal places.")


def input_schema(reference: Reference, clock: Clock) -> type[Schema]:
    """Built per app: the regions and the campaign's years come from the reference data and the clock."""

    class InputSchema(Schema):
        region = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6}$"))
        year = fields.Integer(required=True, strict=True)
        criterion = fields.Integer(required=True, strict=True, validate=validate.OneOf([2, 3]), metadata={
            "description": "2: leadership and coordination (组织领导); 3: policy support to enterprises (政策支持)"})
        score = fields.Decimal(required=True, validate=_score, metadata={"type": "string", "example": "85.5"})
        note = Text(required=True, max_length=2000, multiline=True)

        @pre_load
        def an_object(self, data, **kwargs):
            if not isinstance(data, dict):
                raise ValidationError("The body must be a JSON object.", "_schema")
            return data

        @validates_schema(skip_on_field_errors=False)
        def known(self, data, **kwargs):
            errors = {}
            if data.get("region") and data["region"] not in reference.regions:
                errors["region"] = ["Unknown region code (GB/T 2260)."]
            year = data.get("year")
            first, current = reference.calendar.first_year, reference.calendar.business_date(clock.now()).year
            if isinstance(year, int) and not first <= year <= current:
                errors["year"] = [f"Must be between {first} and {current}."]
            if errors:
                raise ValidationError(errors)

        @post_load
        def score_text(self, data, **kwargs):
            data["score"] = format(data["score"].quantize(Decimal("0.01")), "f")
            return data

    return InputSchema


class AcceptedSchema(Schema):
    submission_id = fields.String(required=True)
    status = fields.String(required=True)
    status_url = fields.String(required=True)
    digest = fields.String(metadata={"description": "a publication: the digest of the result published"})
    position = fields.Integer(metadata={"description": "a publication: the log position it was computed at"})


class StatusQuery(Schema):
    wait = fields.Float(load_default=0, validate=validate.Range(min=0, max=30))


class SubmissionSchema(Schema):
    submission_id = fields.String(required=True)
    kind = fields.String(required=True)
    region = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    submitted_at = fields.String(required=True)
    decided_at = fields.String(allow_none=True)
    seq = fields.Integer(allow_none=True)
    hash = fields.String(allow_none=True)
    reasons = fields.List(fields.Dict(), allow_none=True)
    attempts = fields.Integer(metadata={"description": "times its message was sent to the ledger's inbox"})
    stalled = fields.Boolean(metadata={
        "description": "sent as often as the outbox allows without the ledger's answer: it stays pending until an "
                       "operator re-drives it (zeroclear outbox redrive)"})


class PublicationSchema(Schema):
    seq = fields.Integer(required=True, metadata={"description": "the ledger seq that recorded it"})
    recorded_at = fields.String(required=True, metadata={"description": "when (UTC)"})
    position = fields.Integer(required=True, metadata={"description": "the ledger seq the scores were computed at"})
    cut_off = fields.String(required=True)
    digest = fields.String(required=True)
    replaces = fields.Integer(metadata={"description": "a correction: the seq of the publication it replaced"})
    reason = fields.String(metadata={"description": "a correction: why"})
    checkpoint = fields.Dict(metadata={
        "description": "the ledger's signed checkpoint at its position ({size, root, note}: a C2SP signed note), "
                       "recorded with it: keep it to hold the log to the published result"})


class AssessmentSchema(Schema):
    year = fields.Integer(required=True)
    cut_off = fields.String(required=True)
    position = fields.Integer(required=True, metadata={"description": "the log position the scores reflect"})
    weights = fields.List(fields.String(), required=True)
    draft = fields.Boolean(required=True, metadata={"description": "some office input is missing"})
    ranking = fields.List(fields.String(), required=True)
    regions = fields.List(fields.Dict(), required=True, metadata={
        "description": "per region: criteria (1–5: score, lost points with their seqs), total, grade, cleared, draft"})
    digest = fields.String(required=True, metadata={"description": "SHA-256 of the result's canonical JSON"})
    status = fields.String(required=True, metadata={
        "enum": ["draft", "provisional", "final"],
        "description": "draft: an office input is missing; provisional: complete, not published; final: published"})
    published = fields.Nested(PublicationSchema, allow_none=True, metadata={
        "description": "the year's official publication on the log up to the position (the latest: a correction "
                       "replaces the one it names)"})


class RegionAssessmentSchema(Schema):
    year = fields.Integer(required=True)
    cut_off = fields.String(required=True)
    position = fields.Integer(required=True)
    region = fields.String(required=True)
    name = fields.String(allow_none=True)
    criteria = fields.Dict(required=True)
    total = fields.String(required=True)
    grade = fields.String(required=True)
    cleared = fields.Boolean(required=True)
    draft = fields.Boolean(required=True)
    missing_inputs = fields.List(fields.Integer(), required=True)
    rank = fields.Integer(required=True)


class SummarySchema(Schema):
    year = fields.Integer(required=True)
    cut_off = fields.String(required=True)
    position = fields.Integer(required=True)
    assessment_digest = fields.String(required=True)
    regions = fields.Integer(required=True, metadata={"description": "regions assessed"})
    cleared = fields.Dict(required=True, metadata={"description": "count and regions cleared (清零)"})
    industries = fields.List(fields.Dict(), required=True, metadata={
        "description": "per industry, in its unit: capacity registered, eliminated and verified by the cut-off"})
    ranking = fields.List(fields.String(), required=True)
