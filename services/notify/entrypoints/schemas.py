"""Request and response schemas of notify's HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.clock import Clock
from shared.reference import Reference
from shared.schema_fields import Code, DocumentNumber, Text

from ..signing import standard_secret


class AlertsQuery(Schema):
    region = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"))
    rule = fields.String(validate=validate.OneOf(["report_missing", "elimination_overdue", "tip_unresolved"]))
    level = fields.Integer(validate=validate.OneOf([1, 2]), metadata={"description": "1: to the region; 2: to the office"})


class AlertSchema(Schema):
    alert_id = fields.String(required=True)
    subject = fields.String(required=True, metadata={"description": "the case: report/<region>/<year>, item/<id>, tip/<id>"})
    rule = fields.String(required=True)
    level = fields.Integer(required=True)
    region = fields.String(required=True)
    recipient = fields.String(required=True)
    deadline = fields.String(required=True)
    late_days = fields.Integer(required=True)
    case = fields.String(required=True)
    issued_at = fields.String(required=True, metadata={"description": "business time, as its ledger event says"})
    seq = fields.Integer(allow_none=True, metadata={"description": "its place on the ledger, once recorded"})


class AlertsSchema(Schema):
    alerts = fields.List(fields.Nested(AlertSchema), required=True)


class AnnouncementSchema(Schema):
    as_of = fields.String(required=True)
    position = fields.Integer(required=True)
    enterprises = fields.List(fields.Dict(), required=True)
    tips = fields.List(fields.Dict(), required=True)


class IndustryTotalSchema(Schema):
    industry = fields.String(required=True, metadata={"example": "炼钢"})
    unit = fields.String(required=True, metadata={"description": "the unit of this industry's capacity (never added "
                                                                 "to another's)", "example": "万吨"})
    count = fields.Integer(required=True, metadata={"description": "items (lines of capacity)"})
    capacity = fields.String(required=True, metadata={"description": "capacity announced, in `unit` (a decimal as "
                                                                     "text: exact)", "example": "25.0"})
    eliminated = fields.String(required=True, metadata={"description": "of it eliminated or verified, in `unit`",
                                                       "example": "12.5"})


class RegionTotalSchema(Schema):
    region = fields.String(required=True, metadata={"example": "410100"})
    region_name = fields.String(required=True, metadata={"example": "郑州市"})
    enterprises = fields.Integer(required=True, metadata={"description": "items announced in the region"})
    progress = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                           metadata={"description": "items by progress (the announcement's words)",
                                     "example": {"已验收": 3, "逾期未淘汰": 1}})


class AnnouncementSummarySchema(Schema):
    as_of = fields.String(required=True, metadata={"description": "the business date (Asia/Shanghai) that decides "
                                                                  "what is overdue", "example": "2016-11-20"})
    position = fields.Integer(required=True, metadata={"description": "the ledger seq the figures stand at"})
    enterprises = fields.Integer(required=True, metadata={"description": "items announced"})
    progress = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                           metadata={"description": "items by progress: 已登记, 列入淘汰计划, 已淘汰待验收, 已验收, 逾期未淘汰"})
    industries = fields.List(fields.Nested(IndustryTotalSchema), required=True)
    regions = fields.List(fields.Nested(RegionTotalSchema), required=True)
    tips = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                       metadata={"description": "resolved tips by outcome: 属实, 不属实, 重复举报"})
    latest_tips = fields.List(fields.Dict(), required=True, metadata={"description": "the 5 resolved last, newest first"})


class AnnouncementPageQuery(Schema):
    region = Code(max_length=6, validate=validate.Regexp(r"^[0-9]{6}$"),
                  metadata={"description": "only this region's enterprises (GB/T 2260 code)"})
    after = Code(max_length=64, metadata={"description": "the page after this item (the previous page's last)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500),
                           metadata={"description": "enterprises on the page (default 100, at most 500)"})


def circular_schemas(reference: Reference, clock: Clock) -> tuple[type[Schema], type[Schema]]:
    """The request to issue a circular and the query listing them, bounded by the reference data's
    first year and the business clock (built per app)."""

    def known_year(value: int) -> None:
        first, current = reference.calendar.first_year, reference.calendar.business_date(clock.now()).year
        if not first <= value <= current:
            raise ValidationError(f"Must be a campaign year, from {first} to {current}.")

    class CircularRequest(Schema):
        year = fields.Integer(required=True, strict=True, validate=known_year)
        position = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**53 - 1),
                                  metadata={"description": "the ledger position to pin it to (default: the latest "
                                                           "notify has followed; 409 beyond it)"})
        period = fields.String(validate=validate.Regexp(r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
                               metadata={"description": "the month it reports on, YYYY-MM, within the circular's "
                                                        "campaign (its year and the next) and not after this month "
                                                        "(default: the position's)"})
        document_no = DocumentNumber(max_length=60, metadata={
            "description": "its document number (文号), printed in its header, e.g. 豫淘汰办〔2016〕12号"})

        @validates_schema(skip_on_field_errors=True)
        def period_of_the_campaign(self, data, **kwargs):
            if "period" not in data:
                return
            today = reference.calendar.business_date(clock.now())
            month = (int(data["period"][:4]), int(data["period"][5:]))
            if not (data["year"], 1) <= month <= min((data["year"] + 1, 12), (today.year, today.month)):
                raise ValidationError(f"Must be a month of the {data['year']} campaign up to "
                                      f"{today.year}-{today.month:02d}.", "period")

    class CircularsQuery(Schema):
        year = fields.Integer(validate=known_year)

    return CircularRequest, CircularsQuery


class CircularSchema(Schema):
    circular_id = fields.String(required=True)
    year = fields.Integer(required=True)
    number = fields.Integer(required=True)
    period = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["monthly", "on_demand"]})
    position = fields.Integer(required=True)
    issued_at = fields.String(required=True)
    json_sha256 = fields.String(required=True)
    html_sha256 = fields.String(required=True)
    pdf_sha256 = fields.String(allow_none=True, metadata={"description": "null where PDF is unavailable"})
    seq = fields.Integer(allow_none=True, metadata={"description": "the ledger seq that recorded it"})


class CircularsSchema(Schema):
    circulars = fields.List(fields.Nested(CircularSchema), required=True)


class ScheduleRunSchema(Schema):
    alerts = fields.List(fields.Nested(AlertSchema), required=True)
    circular = fields.Nested(CircularSchema, allow_none=True)


class SubscriptionRequest(Schema):
    agency = Text(required=True, max_length=200)
    region = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9]{6}$"),
                           metadata={"description": "whose alerts; none: the office's (escalations)"})
    channel = fields.String(required=True, validate=validate.OneOf(["email", "webhook"]))
    address = Code(required=True, max_length=500, validate=validate.Length(min=3),
                   metadata={"description": "an e-mail address, or an http(s) URL for a webhook, which may not "
                                            "point inside (loopback, private, link-local, metadata… unless "
                                            "ZEROCLEAR_NOTIFY_WEBHOOK_ALLOW_NETWORKS allows its network)"})
    topics = fields.List(fields.String(validate=validate.OneOf(["alerts", "circulars"])), required=True,
                         validate=validate.Length(min=1, max=2))

    @validates_schema(skip_on_field_errors=True)
    def address_fits(self, data, **kwargs):
        address = data["address"]
        if data["channel"] == "webhook" and not address.startswith(("http://", "https://")):
            raise ValidationError("A webhook is an http(s) URL.", "address")
        if data["channel"] == "email" and ("@" not in address or any(c.isspace() for c in address)):
            raise ValidationError("Not an e-mail address.", "address")


class SubscriptionSchema(Schema):
    subscription_id = fields.String(required=True)
    agency = fields.String(required=True)
    region = fields.String(allow_none=True)
    channel = fields.String(required=True)
    address = fields.String(required=True)
    topics = fields.List(fields.String(), required=True)
    secret = fields.String(allow_none=True, metadata={"description": "a webhook's signing secret (hex), shown once"})
    webhook_secret = fields.Function(
        lambda row: standard_secret(row["secret"]) if row.get("secret") else None, allow_none=True,
        metadata={"type": "string", "nullable": True,
                  "description": "the same secret as Standard Webhooks libraries take it (whsec_…), shown once: "
                                 "verify webhook-id, webhook-timestamp and webhook-signature with it"})
    created_at = fields.String(required=True)
    active = fields.Boolean(required=True)


class SubscriptionsSchema(Schema):
    subscriptions = fields.List(fields.Nested(SubscriptionSchema), required=True)


class DeliveriesQuery(Schema):
    status = fields.String(validate=validate.OneOf(["pending", "queued", "retrying", "sent", "dead", "cancelled"]))


class DeliverySchema(Schema):
    delivery_id = fields.String(required=True)
    kind = fields.String(required=True)
    ref_id = fields.String(required=True)
    subscription_id = fields.String(required=True)
    channel = fields.String(required=True)
    address = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.String(required=True, metadata={
        "description": "when the next attempt is due on the server's own clock (retries are scheduled on it)"})
    created_at = fields.String(required=True, metadata={"description": "business time"})
    sent_at = fields.String(allow_none=True, metadata={"description": "business time"})


class DeliveriesSchema(Schema):
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)
