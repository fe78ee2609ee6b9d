"""A department's pages (工信, 环保, 发改, 质监, 安监): file its list of non-compliant enterprises on
its own basis, and see the discrepancies and resurgences its lists revealed."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..adapters.http import ApiProblem
from .forms import DepartmentListForm, options
from ..domain.campaign import years
from .pages import (
    apply_errors, chosen_year, clients, english, form_summary, new_idempotency_key, requires, service, today,
)

#: The basis a department files on by default (a department may name another).
BASIS = {"industry": "energy", "environment": "emissions", "development": "energy", "quality": "quality",
         "safety": "safety"}
LISTING_FIELDS = ("enterprise", "uscc", "region", "industry", "basis", "detail")


bp = Blueprint("department", __name__, url_prefix="/department")


@bp.get("/")
@requires("department")
def home():
    year = chosen_year()
    findings = clients().ledger.discrepancies(g.key, year=year, limit=5)
    return render_template("department/home.html", year=year, years=_years(service()), findings=findings)


@bp.route("/list", methods=["GET", "POST"])
@requires("department")
def file_list():
    year = chosen_year()
    rows = min(50, max(3, request.args.get("rows", type=int) or 3))
    form = DepartmentListForm()
    while len(form.entries) < rows:
        form.entries.append_entry()
    _choices(service(), form)
    if request.method == "GET":
        form.idempotency_key.data = new_idempotency_key()
        for entry in form.entries:
            entry.basis.data = BASIS.get(g.user.department, "emissions")
        return render_template("department/list.html", form=form, year=year, years=_years(service()), errors=[],
                               rows=rows)
    entries = [{name: (getattr(e, name).data or "").strip() for name in LISTING_FIELDS} for e in form.entries]
    filled = [(i, e) for i, e in enumerate(entries) if e["enterprise"] or e["uscc"]]
    errors = form_summary(form) if not form.validate() else []
    if not errors and not filled:
        form.entries[0].enterprise.errors = [_required()]
        errors = [{"field": form.entries[0].enterprise.id, "message": _required()}]
    if not errors:
        body = {"year": year, "entries": [entry for _row, entry in filled]}
        try:
            answer = clients().intake.file_department_list(g.key, body, form.idempotency_key.data or None)
            return redirect(url_for("account.submission", submission_id=answer["submission_id"]), 303)
        except ApiProblem as problem:
            errors = _listing_errors(form, problem, [row for row, _entry in filled])
    return render_template("department/list.html", form=form, year=year, years=_years(service()), errors=errors,
                           rows=rows), 422


@bp.get("/findings")
@requires("department")
def findings():
    year = chosen_year()
    page = clients().ledger.discrepancies(g.key, year=year, cursor=request.args.get("cursor"), limit=25)
    return render_template("department/findings.html", page=page, year=year, years=_years(service()))



def _years(svc) -> list[int]:
    return years(svc.reference.calendar.first_year, today())


def _required() -> str:
    return _("Required")


def _choices(svc, form: DepartmentListForm) -> None:
    regions = options([("", "—")] + [(c, r.name_en if english() else r.name) for c, r in svc.reference.regions.items()])
    industries = options([("", "—")] + [(n, i.name_en if english() else n) for n, i in svc.reference.industries.items()])
    bases = options([("emissions", _("Emissions")), ("energy", _("Energy use")), ("quality", _("Quality")),
                     ("safety", _("Safety"))])
    for entry in form.entries:
        entry.region.choices, entry.industry.choices, entry.basis.choices = regions, industries, bases


def _listing_errors(form: DepartmentListForm, problem: ApiProblem, rows: list[int]) -> list[dict]:
    """``entries[2].uscc`` of the body is the form's row ``rows[2]``."""
    mapping = {}
    for sent, row in enumerate(rows):
        for name in LISTING_FIELDS:
            mapping[f"entries[{sent}].{name}"] = (row, name)
    summary = []
    for error in problem.errors or []:
        message = error.get("message") if english() else error.get("message_zh") or error.get("message")
        target = mapping.get(str(error.get("field")))
        if target is not None:
            field = getattr(form.entries[target[0]].form, target[1])
            field.errors = [*list(field.errors or []), message]
            summary.append({"field": field.id, "message": message})
        else:
            summary.append({"field": None, "message": message})
    return summary or apply_errors(form, problem)
