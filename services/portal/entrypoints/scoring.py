"""The office's assessment (考核评分) and circulars (通报): the scores of all 28 regions for a year
with their draft inputs, a form per region for criteria 2 and 3, publication (refused with the
missing inputs as a checklist), the official result and its digest once published; the circulars
issued, one issued now, each read as HTML or downloaded as PDF.

Every input, publication and circular goes to the assessment and notify services with the
signed-in person's own key, so the ledger records it under that person."""
from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _

from ..adapters.http import ApiProblem
from .forms import CircularForm, OfficeScoreForm, PublishForm
from .pages import apply_errors, chosen_year, clients, form_summary, new_idempotency_key, requires, service
from .region import _not_found, _years

CRITERIA = (2, 3)


bp = Blueprint("scoring", __name__, url_prefix="/office")


def assessment():
    return clients().assessment


def year_page(year: int, *, missing=None, publish_errors=None, publish_form=None, status: int = 200):
    scored = assessment().year(g.key, year)
    form = publish_form or PublishForm()
    if publish_form is None:
        form.idempotency_key.data = new_idempotency_key()
    return render_template("office/assessment.html", year=year, years=_years(service()), scored=scored,
                           missing=missing, errors=publish_errors or [], form=form), status


@bp.get("/assessment")
@requires("office", "auditor")
def assessment_year():
    return year_page(chosen_year())


@bp.post("/assessment/publish")
@requires("office")
def publish():
    year = chosen_year()
    form = PublishForm()
    if not form.validate():
        return year_page(year, publish_errors=form_summary(form), publish_form=form, status=422)
    try:
        answer = assessment().publish(g.key, year, {}, form.idempotency_key.data or None)
    except ApiProblem as problem:
        if problem.status != 409:
            raise
        form.idempotency_key.data = new_idempotency_key()
        missing = problem.body.get("missing")
        errors = [{"field": "missing-inputs" if missing else None,
                   "message": _("Not published: the office's scores are missing for %(count)d region(s)",
                                count=len(missing)) if missing else (problem.detail or problem.title)}]
        return year_page(year, missing=missing, publish_errors=errors, publish_form=form, status=409)
    return redirect(url_for("scoring.submission", submission_id=answer["submission_id"]), 303)


@bp.route("/assessment/<code>", methods=["GET", "POST"])
@requires("office")
def region_inputs(code: str):
    """Criteria 2 and 3 of one region's year: a form for each, each a separate input on the log."""
    if code not in service().reference.regions:
        return _not_found()
    year = chosen_year()
    forms = {c: OfficeScoreForm(prefix=f"c{c}") for c in CRITERIA}
    errors, status = [], 200
    if request.method == "POST":
        criterion = int(request.form.get("criterion", "0")) if request.form.get("criterion", "").isdigit() else 0
        form = forms.get(criterion)
        if form is None:
            return _not_found()
        errors = form_summary(form) if not form.validate() else []
        if not errors:
            body = {"region": code, "year": year, "criterion": criterion, "score": str(form.score.data),
                    "note": form.note.data.strip()}
            try:
                answer = assessment().file_input(g.key, body, form.idempotency_key.data or None)
                return redirect(url_for("scoring.submission", submission_id=answer["submission_id"]), 303)
            except ApiProblem as problem:
                errors = apply_errors(form, problem, {"score": "score", "note": "note"})
        status = 422
    for form in forms.values():
        if not form.idempotency_key.data:
            form.idempotency_key.data = new_idempotency_key()
    scored = assessment().year(g.key, year)
    row = next((r for r in scored["regions"] if r["region"] == code), None)
    return render_template("office/inputs.html", code=code, year=year, forms=forms, errors=errors, row=row,
                           criteria=CRITERIA), status


@bp.get("/assessment/submissions/<submission_id>")
@requires("office")
def submission(submission_id: str):
    found = assessment().submission(g.key, submission_id, wait=8)
    if found is None:
        return _not_found()
    return render_template("account/submission.html", submission=found)


@bp.route("/circulars", methods=["GET", "POST"])
@requires("office", "auditor")
def circulars():
    year = chosen_year()
    form = CircularForm()
    errors, status = [], 200
    if request.method == "POST":
        if g.user.role != "office":
            return render_template("error.html", status=403, title=_("You may not do this"), detail=""), 403
        errors = form_summary(form) if not form.validate() else []
        if not errors:
            body = {"year": year, **({"document_no": form.document_no.data.strip()}
                                     if (form.document_no.data or "").strip() else {})}
            try:
                issued = clients().notify.issue_circular(g.key, body)
                return redirect(url_for("scoring.circulars", year=year, issued=issued["circular_id"]), 303)
            except ApiProblem as problem:
                errors = apply_errors(form, problem, {"document_no": "document_no"})
        status = 422
    found = clients().notify.circulars(g.key, year)
    return render_template("office/circulars.html", year=year, years=_years(service()), circulars=found[::-1],
                           form=form, errors=errors, issued=request.args.get("issued")), status


@bp.get("/circulars/<circular_id>")
@requires("office", "auditor")
def circular(circular_id: str):
    """One circular at a glance: its figures and what changed since the previous one, as notify
    wrote them into the circular itself (the JSON whose hash is on the ledger)."""
    content = clients().notify.circular_document(g.key, circular_id, "json").json()
    return render_template("office/circular.html", circular=content)


@bp.get("/circulars/<circular_id>.<fmt>")
@requires("office", "auditor")
def circular_document(circular_id: str, fmt: str):
    """The circular as notify renders it, streamed through: HTML to read, PDF to download."""
    if fmt not in ("html", "pdf"):
        return _not_found()
    upstream = clients().notify.circular_document(g.key, circular_id, fmt)
    headers = {"X-Content-SHA256": upstream.headers.get("X-Content-SHA256", "")}
    if fmt == "pdf":
        headers["Content-Disposition"] = f'attachment; filename="{circular_id}.pdf"'
    return Response(stream_with_context(upstream.iter_content(64 * 1024)),
                    mimetype="application/pdf" if fmt == "pdf" else "text/html", headers=headers)

