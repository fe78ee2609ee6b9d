"""Request and response schemas of notify's HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, fields, validate


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
    issued_at = fields.String(required=True)
    seq = fields.Integer(allow_none=True, metadata={"description": "its place on the ledger, once recorded"})


class AlertsSchema(Schema):
    alerts = fields.List(fields.Nested(AlertSchema), required=True)


class AnnouncementSchema(Schema):
    as_of = fields.String(required=True)
    position = fields.Integer(required=True)
    enterprises = fields.List(fields.Dict(), required=True)
    tips = fields.List(fields.Dict(), required=True)
