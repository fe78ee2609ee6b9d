"""The portal's forms (Flask-WTF: each carries its CSRF token). They check what a person can get
wrong before sending (a missing field, a number that is not one); the services judge the rest and
their field errors come back beside the same fields."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField, DateField, DecimalField, FieldList, FormField, HiddenField, IntegerField, PasswordField, RadioField, SelectField,
    StringField, TextAreaField,
)
from wtforms import Form
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

REQUIRED = _l("Required")
NUMBER = _l("Enter a whole number")
DATE = _l("Enter a date as yyyy-mm-dd, e.g. 2016-12-31")


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


def required():
    return DataRequired(message=REQUIRED)


class SignInForm(FlaskForm):
    username = StringField(_l("User name"), validators=[required(), Length(max=32)])
    password = PasswordField(_l("Password"), validators=[required(), Length(max=200)])


class TipForm(FlaskForm):
    region = SelectField(_l("Region"), validators=[required()], validate_choice=False)
    enterprise = StringField(_l("Enterprise"), validators=[required(), Length(max=200)])
    location = StringField(_l("Where is it"), validators=[required(), Length(max=500)])
    industry = SelectField(_l("Industry (optional)"), validators=[Optional()], validate_choice=False)
    description = TextAreaField(_l("What is happening"), validators=[required(), Length(max=4900)])
    uscc = StringField(_l("Unified social credit code (optional)"), validators=[Optional(), Length(max=30)])
    contact = StringField(_l("Contact (optional)"), validators=[Optional(), Length(max=200)])
    idempotency_key = HiddenField()


class TipLookupForm(FlaskForm):
    receipt = StringField(_l("Receipt code"), validators=[required(), Length(max=200)])


class ZeroReportForm(FlaskForm):
    document_no = StringField(_l("Document number (文号)"), validators=[required(), Length(max=100)])
    signed_by = StringField(_l("Signed by"), validators=[required(), Length(max=50)])
    confirm = BooleanField(_l("I confirm that this region has no outdated production capacity this year"),
                           validators=[DataRequired(message=_l("Confirm the zero report"))])
    idempotency_key = HiddenField()


class UploadForm(FlaskForm):
    document_no = StringField(_l("Document number (文号)"), validators=[required(), Length(max=100)])
    signed_by = StringField(_l("Signed by"), validators=[required(), Length(max=50)])
    file = FileField(_l("Filled-in registration form (.xlsx)"), validators=[FileRequired(message=REQUIRED)])
    amendment = BooleanField(_l("This amends the report already filed for the year"))
    reason = TextAreaField(_l("Reason for the amendment"), validators=[Optional(), Length(max=500)])
    idempotency_key = HiddenField()


class EliminationForm(FlaskForm):
    eliminated_on = DateField(_l("Date eliminated"), validators=[InputRequired(message=DATE)])
    method = SelectField(_l("Method"), validators=[required()], validate_choice=False)
    workers_resettled = IntegerField(_l("Workers resettled"), validators=[InputRequired(message=NUMBER),
                                                                          NumberRange(min=0)])
    evidence = TextAreaField(_l("Evidence"), validators=[required(), Length(max=2000)])
    idempotency_key = HiddenField()


class TipResolutionForm(FlaskForm):
    resolution = RadioField(_l("Outcome"), validators=[required()], validate_choice=False,
                            choices=options([("confirmed", _l("Confirmed")), ("unfounded", _l("Unfounded")),
                                             ("duplicate", _l("Duplicate"))]))
    explanation = TextAreaField(_l("Explanation (published)"), validators=[required(), Length(max=2000)])
    duplicate_of = StringField(_l("Duplicate of (tip number)"), validators=[Optional(), Length(max=64)])
    enterprise = StringField(_l("Enterprise"), validators=[Optional(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=30)])
    county = StringField(_l("County or district"), validators=[Optional(), Length(max=100)])
    industry = SelectField(_l("Industry"), validators=[Optional()], validate_choice=False)
    equipment = StringField(_l("Outdated process or equipment"), validators=[Optional(), Length(max=200)])
    equipment_count = IntegerField(_l("Number of units"), validators=[Optional()])
    capacity = StringField(_l("Capacity"), validators=[Optional(), Length(max=20)])
    target_source = SelectField(_l("Target source"), validators=[Optional()], validate_choice=False)
    planned_date = DateField(_l("Planned elimination date"), validators=[Optional()])
    method = SelectField(_l("Method"), validators=[Optional()], validate_choice=False)
    workers_affected = IntegerField(_l("Workers affected"), validators=[Optional()])
    idempotency_key = HiddenField()


class ListingForm(Form):
    """One enterprise of a department's list (no CSRF of its own: the list form carries it)."""

    enterprise = StringField(_l("Enterprise"), validators=[Optional(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=30)])
    region = SelectField(_l("Region"), validators=[Optional()], validate_choice=False)
    industry = SelectField(_l("Industry"), validators=[Optional()], validate_choice=False)
    basis = SelectField(_l("Basis"), validators=[Optional()], validate_choice=False)
    detail = StringField(_l("Detail"), validators=[Optional(), Length(max=1000)])


class DepartmentListForm(FlaskForm):
    entries = FieldList(FormField(ListingForm), min_entries=3, max_entries=50)
    idempotency_key = HiddenField()


class VerificationForm(FlaskForm):
    """The office's 检查验收 of a reported elimination: accept it, or reject it with a reason (intake
    refuses a rejection without one, and its message lands beside the field)."""

    decision = RadioField(_l("Decision"), validators=[required()], validate_choice=False,
                          choices=options([("verified", _l("Accept: verified eliminated")),
                                           ("rejected", _l("Reject"))]))
    reason = TextAreaField(_l("Reason (required to reject)"), validators=[Optional(), Length(max=1000)])
    idempotency_key = HiddenField()


class AcknowledgementCheckForm(FlaskForm):
    acknowledgement = TextAreaField(_l("The acknowledgement (the downloaded file's text)"),
                                    validators=[required(), Length(max=20000)])


class OfficeScoreForm(FlaskForm):
    """The office's score (0–100, with a note) for criterion 2 or 3 of a region's year."""

    score = DecimalField(_l("Score (0 to 100)"), places=None, validators=[
        InputRequired(message=_l("Enter a number from 0 to 100")),
        NumberRange(min=0, max=100, message=_l("Enter a number from 0 to 100"))])
    note = TextAreaField(_l("Note (the grounds for the score)"), validators=[required(), Length(max=2000)])
    idempotency_key = HiddenField()


class PublishForm(FlaskForm):
    confirm = BooleanField(_l("I confirm that the year's assessment is to be published as it stands"),
                           validators=[DataRequired(message=_l("Confirm the publication"))])
    idempotency_key = HiddenField()


class CircularForm(FlaskForm):
    document_no = StringField(_l("Document number (optional)"), validators=[Optional(), Length(max=60)])


class EndSubscriptionForm(FlaskForm):
    confirm = BooleanField(_l("I confirm that nothing more is to be delivered to this subscription"),
                           validators=[DataRequired(message=_l("Confirm the end of the subscription"))])


#: A subscription's channel and topics as people read them (notify's API says email, circulars, …).
CHANNELS = {"email": _l("E-mail"), "webhook": _l("Webhook")}
TOPICS = {"alerts": _l("Alerts"), "circulars": _l("Circulars")}


class SubscriptionForm(FlaskForm):
    agency = StringField(_l("Agency"), validators=[required(), Length(max=200)])
    region = SelectField(_l("Whose alerts"), validators=[Optional()], validate_choice=False)
    channel = RadioField(_l("Channel"), validators=[required()], validate_choice=False,
                         choices=options(list(CHANNELS.items())))
    address = StringField(_l("Address (an e-mail address or an https URL)"), validators=[required(), Length(max=500)])
    alerts = BooleanField(TOPICS["alerts"])
    circulars = BooleanField(TOPICS["circulars"])
