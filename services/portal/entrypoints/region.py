"""A region's pages (省辖市 and 省直管县（市）): this year's duties at a glance, the registration form
and the zero report, the ledger's items and eliminations, the tips to resolve, the alerts.

Every call goes out with the signed-in person's own key, which the services hold to that person's
region: another region's item or tip simply does not exist for them (404)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _

from shared.clock import parse_instant

from ..adapters.http import ApiProblem
from ..domain.accounts import days_left
from ..domain.campaign import years
from .forms import EliminationForm, TipResolutionForm, UploadForm, ZeroReportForm, options
from .pages import (
    apply_errors, chosen_year, clients, english, form_summary, new_idempotency_key, requires, service, today,
)

STATUSES = ("overdue", "registered", "scheduled", "eliminated", "verified")
ENTRY_FIELDS = ("enterprise", "uscc", "county", "industry", "equipment", "equipment_count", "capacity",
                "target_source", "planned_date", "method", "workers_affected")


bp = Blueprint("region", __name__, url_prefix="/region")


def own_row(year: int) -> tuple[dict, dict | None]:
    registry = clients().ledger.registry(g.key, year)
    row = next((r for r in registry["regions"] if r["region"] == g.user.region), None)
    return registry, row


@bp.get("/")
@requires("region")
def home():
    year = chosen_year()
    registry, row = own_row(year)
    due = registry["report_due"]
    counts, overdue = clients().ledger.year_summary(g.key, region=g.user.region, year=year)
    tips = clients().ledger.tips(g.key, region=g.user.region, status="open", limit=10)
    alerts = clients().notify.alerts(g.key)[-5:][::-1]
    return render_template("region/home.html", year=year, years=_years(service()), registry=registry, report=row,
                           due=due, days_left=days_left(_date(due), today()), overdue=overdue, counts=counts,
                           tips=tips, alerts=alerts, tip_days_left=lambda tip: days_left(_date(tip["due_at"]), today()))


@bp.route("/registration", methods=["GET", "POST"])
@requires("region")
def registration():
    year = chosen_year()
    form = UploadForm()
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        return render_template("region/registration.html", form=form, year=year, years=_years(service()), errors=[],
                               cells=[])
    if not form.validate():
        return render_template("region/registration.html", form=form, year=year, years=_years(service()),
                               errors=form_summary(form), cells=[]), 422
    upload = form.file.data
    fields = {"region": g.user.region, "year": year, "document_no": form.document_no.data.strip(),
              "signed_by": form.signed_by.data.strip(), "amendment": "true" if form.amendment.data else "false",
              "reason": (form.reason.data or "").strip() or None}
    try:
        answer = clients().intake.upload_report(g.key, fields, upload.filename or "form.xlsx", upload.read(),
                                      form.idempotency_key.data or None)
    except ApiProblem as problem:
        cells = [e for e in problem.errors if e.get("row") is not None or e.get("column")]
        fields = ApiProblem(problem.status, problem.title, problem.detail, problem.kind,
                            [e for e in problem.errors if e not in cells])
        errors = apply_errors(form, fields, {"document_no": "document_no", "signed_by": "signed_by",
                                             "reason": "reason", "file": "file"}) if fields.errors or not cells else []
        if cells:  # the summary links to the table of cells
            errors.insert(0, {"field": "cell-errors", "message": _("The form has errors; nothing was recorded")})
        form.idempotency_key.data = new_idempotency_key()
        return render_template("region/registration.html", form=form, year=year, years=_years(service()),
                               errors=errors, cells=cells), 422
    return redirect(url_for("account.submission", submission_id=answer["submission_id"]), 303)


@bp.get("/registration.xlsx")
@requires("region")
def blank_form():
    year = chosen_year()
    upstream = clients().intake.blank_form(g.key, g.user.region, year)
    return Response(stream_with_context(upstream.iter_content(64 * 1024)), mimetype=upstream.headers["Content-Type"],
                    headers={"Content-Disposition": f'attachment; filename="registration-{g.user.region}-{year}.xlsx"'})


@bp.route("/zero-report", methods=["GET", "POST"])
@requires("region")
def zero_report():
    year = chosen_year()
    form = ZeroReportForm()
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        return render_template("region/zero_report.html", form=form, year=year, years=_years(service()), errors=[])
    if not form.validate():
        return render_template("region/zero_report.html", form=form, year=year, years=_years(service()),
                               errors=form_summary(form)), 422
    body = {"region": g.user.region, "year": year, "document_no": form.document_no.data.strip(),
            "signed_by": form.signed_by.data.strip(), "zero_report": True, "entries": []}
    try:
        answer = clients().intake.file_report(g.key, body, form.idempotency_key.data or None)
    except ApiProblem as problem:
        errors = apply_errors(form, problem, {"document_no": "document_no", "signed_by": "signed_by"})
        return render_template("region/zero_report.html", form=form, year=year, years=_years(service()),
                               errors=errors), 422
    return redirect(url_for("account.submission", submission_id=answer["submission_id"]), 303)


@bp.get("/items")
@requires("region")
def items():
    year = chosen_year()
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    industry = request.args.get("industry") if request.args.get("industry") in service().reference.industries else None
    page = clients().ledger.items(g.key, region=g.user.region, year=year, status=status, industry=industry,
                        cursor=request.args.get("cursor"), limit=25)
    return render_template("region/items.html", page=page, year=year, years=_years(service()), status=status,
                           industry=industry, statuses=STATUSES)


@bp.route("/items/<item_id>", methods=["GET", "POST"])
@requires("region")
def item(item_id: str):
    found = clients().ledger.item(g.key, item_id)
    if found is None:
        return _not_found()
    form = EliminationForm()
    form.method.choices = options(_methods(service()))
    errors, status = [], 200
    if request.method == "POST":
        if form.validate():
            body = {"item_id": item_id, "eliminated_on": form.eliminated_on.data.isoformat(),
                    "method": form.method.data, "evidence": form.evidence.data.strip(),
                    "workers_resettled": form.workers_resettled.data}
            try:
                answer = clients().intake.report_elimination(g.key, body, form.idempotency_key.data or None)
                return redirect(url_for("account.submission", submission_id=answer["submission_id"]), 303)
            except ApiProblem as problem:
                errors = apply_errors(form, problem)
        else:
            errors = form_summary(form)
        status = 422
    else:
        form.idempotency_key.data = new_idempotency_key()
        form.workers_resettled.data = found.get("workers_affected")
    history = clients().ledger.item_history(g.key, item_id)
    return render_template("region/item.html", item=found, history=history, form=form, errors=errors), status


@bp.get("/tips")
@requires("region")
def tips():
    status = request.args.get("status") if request.args.get("status") in ("open", "confirmed", "unfounded",
                                                                           "duplicate", "late") else None
    page = clients().ledger.tips(g.key, region=g.user.region, status=status, cursor=request.args.get("cursor"),
                                 limit=25)
    return render_template("region/tips.html", page=page, status=status,
                           tip_days_left=lambda tip: days_left(_date(tip["due_at"]), today()))


@bp.route("/tips/<tip_id>", methods=["GET", "POST"])
@requires("region")
def tip(tip_id: str):
    return resolution_page(tip_id, clients().ledger.tip(g.key, tip_id, region=g.user.region))


def resolution_page(tip_id: str, found: dict | None, **links: str):
    """A tip's page with its resolution form, and the resolution sent to intake (a region's, or
    the office's when it triages; ``links``: the form's action and the way back)."""
    if found is None:
        return _not_found()
    form = _resolution_form(service())
    errors, status = [], 200
    if request.method == "POST":
        errors = form_summary(form) if not form.validate() else []
        if not errors:
            try:
                answer = clients().intake.resolve_tip(g.key, tip_id, _resolution(form),
                                                      form.idempotency_key.data or None)
                return redirect(url_for("account.submission", submission_id=answer["submission_id"]), 303)
            except ApiProblem as problem:
                errors = apply_errors(form, problem, {**{f"entry.{n}": n for n in ENTRY_FIELDS},
                                                      "entry": "resolution"})
        status = 422
    else:
        form.idempotency_key.data = new_idempotency_key()
        form.enterprise.data, form.uscc.data = found.get("enterprise"), found.get("uscc")
    return render_template("region/tip.html", tip=found, form=form, errors=errors,
                           days_left=days_left(_date(found["due_at"]), today()), **links), status


@bp.get("/alerts")
@requires("region")
def alerts():
    return render_template("region/alerts.html", alerts=clients().notify.alerts(g.key)[::-1])



def _years(svc) -> list[int]:
    return years(svc.reference.calendar.first_year, today())


def _date(text: str) -> date:
    """A date, or an instant's business date."""
    if "T" in text:
        return service().reference.calendar.business_date(parse_instant(text))
    return date.fromisoformat(text[:10])


def _methods(svc) -> list[tuple[str, str]]:
    names = {"拆除": "dismantle", "关停": "shut down", "其他": "other"}
    return [(m, names.get(m, m) if english() else m) for m in svc.reference.methods]


def _resolution_form(svc) -> TipResolutionForm:
    form = TipResolutionForm()
    form.method.choices = options([("", "—")] + _methods(svc))
    form.industry.choices = options([("", "—")] + [(n, f"{i.name_en if english() else n} ({i.unit})")
                                                   for n, i in svc.reference.industries.items()])
    form.target_source.choices = options([("", "—")] + [(s, s) for s in svc.reference.target_sources])
    return form


def _resolution(form: TipResolutionForm) -> dict:
    body = {"resolution": form.resolution.data, "explanation": form.explanation.data.strip()}
    if form.resolution.data == "duplicate":
        body["duplicate_of"] = (form.duplicate_of.data or "").strip() or None
    if form.resolution.data == "confirmed":
        industry = service().reference.industries.get(form.industry.data or "")
        entry = {name: getattr(form, name).data for name in ENTRY_FIELDS}
        entry["planned_date"] = entry["planned_date"].isoformat() if entry["planned_date"] else None
        entry["unit"] = industry.unit if industry else None
        body["entry"] = {k: v for k, v in entry.items() if v not in (None, "")}
    return body


def _not_found():
    return render_template("error.html", status=404, title=_("Page not found"), detail=""), 404
