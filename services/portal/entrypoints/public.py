"""The public pages (no sign-in): the campaign and its announcement, the tip form (举报) and
following a tip by its receipt. Built for a 390-pixel phone first, and whole without JavaScript.

A tip is sent on to intake with nothing that identifies its sender: the visitor's address goes
along only in X-Forwarded-For, for intake's rate limit, and neither service keeps it. The portal
limits tips per visitor too, by a keyed pseudonym of the address held in memory only."""
from __future__ import annotations

import math

import orjson
from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _

from ..adapters.http import ApiProblem, Unavailable
from .forms import TipForm, TipLookupForm, options
from .pages import apply_errors, client, clients, english, form_summary, new_idempotency_key, service

TIP_FIELDS = {"region": "region", "enterprise": "enterprise", "location": "location", "description": "description",
              "uscc": "uscc", "contact": "contact"}


bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    try:
        summary = clients().notify.announcement_summary()
    except (Unavailable, ApiProblem):
        summary = None
    return render_template("public/home.html", summary=summary)


@bp.get("/announcement")
def announcement():
    try:
        summary = clients().notify.announcement_summary()
    except (Unavailable, ApiProblem):
        summary = None
    return render_template("public/announcement.html", summary=summary)


@bp.get("/open-data/announcement.<fmt>")
def open_data(fmt: str):
    if fmt not in ("csv", "json"):
        abort(404)
    upstream = clients().notify.open_data(fmt)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    body = stream_with_context(upstream.iter_content(64 * 1024))
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="announcement.{fmt}"', "Cache-Control": "public, max-age=60"})


@bp.route("/report", methods=["GET", "POST"])
def report():
    form = _tip_form(service())
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        return render_template("public/report.html", form=form, errors=[])
    if not form.validate():
        return render_template("public/report.html", form=form, errors=form_summary(form)), 422
    allowed, wait = service().tip_limiter.allow(client())
    if not allowed:
        return _too_many(form, wait)
    try:
        answer = clients().intake.file_tip(_tip_body(form), client(), form.idempotency_key.data or None)
    except ApiProblem as problem:
        if problem.status == 429:
            return _too_many(form, problem.retry_after or 60)
        errors = apply_errors(form, problem, TIP_FIELDS)
        return render_template("public/report.html", form=form, errors=errors), 422
    return render_template("public/receipt.html", tip=answer,
                           acknowledgement=_ack_text(answer.get("acknowledgement")))


@bp.route("/report/status", methods=["GET", "POST"])
def follow():
    form = TipLookupForm()
    if request.method == "GET" or not form.validate():
        status = 422 if request.method == "POST" else 200
        return render_template("public/follow.html", form=form, errors=form_summary(form), tip=None), status
    allowed, wait = service().tip_limiter.allow(client())
    if not allowed:
        form.receipt.errors = [_wait_message(wait)]
        return render_template("public/follow.html", form=form, errors=form_summary(form), tip=None), 429
    try:
        tip = clients().intake.lookup_tip(form.receipt.data.strip(), client())
    except ApiProblem as problem:
        tip = None
        if problem.status == 429:
            form.receipt.errors = [_wait_message(problem.retry_after or 60)]
            return render_template("public/follow.html", form=form, errors=form_summary(form), tip=None), 429
    if tip is None:
        form.receipt.errors = [_("No tip has this receipt code. Check it and try again.")]
        return render_template("public/follow.html", form=form, errors=form_summary(form), tip=None), 404
    return render_template("public/follow.html", form=TipLookupForm(formdata=None), errors=[], tip=tip,
                           acknowledgement=_ack_text(tip.get("acknowledgement")))


@bp.post("/report/acknowledgement")
def acknowledgement():
    """The signed acknowledgement the page was showing, as a file to keep (nothing is stored)."""
    text = request.form.get("acknowledgement", "")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        abort(400)
    if not isinstance(value, dict) or "signature" not in value:
        abort(400)
    return Response(orjson.dumps(value, option=orjson.OPT_INDENT_2), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="tip-acknowledgement.json"'})



def _tip_form(svc) -> TipForm:
    form = TipForm()
    names = svc.reference.regions
    form.region.choices = options([("", _("Choose the region"))] + [(code, _name(r)) for code, r in names.items()])
    form.industry.choices = options([("", _("Not known"))] + [(name, _industry(i))
                                                              for name, i in svc.reference.industries.items()])
    return form


def _name(region) -> str:
    return region.name_en if english() else region.name


def _industry(industry) -> str:
    return industry.name_en if english() else industry.name


def _tip_body(form: TipForm) -> dict:
    """What intake takes; an industry the citizen chose is written into the description, as filed."""
    description = form.description.data.strip()
    if form.industry.data:
        description = f"行业：{form.industry.data}\n{description}"
    return {"region": form.region.data, "enterprise": form.enterprise.data.strip(), "location": form.location.data.strip(),
            "description": description, "uscc": (form.uscc.data or "").strip(), "contact": (form.contact.data or "").strip()}


def _wait_message(seconds: float) -> str:
    return _("Too many requests from your connection. Please try again in %(minutes)d minute(s).",
             minutes=max(1, math.ceil(seconds / 60)))


def _too_many(form: TipForm, wait: float):
    errors = [{"field": None, "message": _wait_message(wait)}]
    return render_template("public/report.html", form=form, errors=errors), 429


def _ack_text(ack) -> str | None:
    return orjson.dumps(ack, option=orjson.OPT_INDENT_2).decode() if ack else None
