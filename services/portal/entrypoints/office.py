"""The provincial office's pages (省淘汰落后产能工作领导小组办公室): the province at a glance for a
year, as of now or of any log position, with its schematic map; a region as the office sees it;
the verification queue (检查验收); the tips, those past their period first.

Every read and every decision goes to the services with the signed-in person's own key, so the
ledger records each verification under that person. Auditors may open the read-only pages (the
dashboard and a region); only the office decides."""
from __future__ import annotations

import contextvars
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..adapters.http import ApiProblem
from ..domain import tilemap
from ..domain.accounts import days_left
from .forms import VerificationForm
from .pages import apply_errors, chosen_year, clients, form_summary, new_idempotency_key, requires, service, today
from .region import _date, _not_found, _years, resolution_page

READERS = ("office", "auditor")


bp = Blueprint("office", __name__, url_prefix="/office")


def position() -> tuple[int | None, str | None]:
    """``?as_of=`` as a log position (a whole number from 1), or None (now) — with the error to
    show when it is not one."""
    asked = request.args.get("as_of", "").strip()
    if not asked:
        return None, None
    if not (asked.isascii() and asked.isdigit() and 0 < int(asked) < 2**53):
        return None, _("Enter a ledger position as a whole number, e.g. 120")
    return int(asked), None


@bp.get("/")
@requires(*READERS)
def dashboard():
    year, chosen = chosen_year(), tilemap.measure(request.args.get("measure"))
    svc, ledger, key = service(), clients().ledger, g.key  # bound once: the reads below run in threads
    seq, error = position()
    registry = None
    if seq is not None:
        try:
            registry = ledger.registry_at(key, year, seq)
        except ApiProblem as problem:
            if problem.status not in (400, 409, 422):
                raise
            seq, error = None, _("Position %(seq)s is not on the ledger yet", seq=request.args.get("as_of"))

    def by_region(counted: dict) -> Counter:
        return Counter({group["key"]: group["count"] for group in counted["counts"]})

    (registry, (assessment, summary), overdue, late_items, tips, tips_late, discrepancies) = parallel(
        (lambda: registry) if registry else (lambda: ledger.registry_all(key, year)),
        lambda: _scores(svc, key, year, seq),
        lambda: ledger.item_counts(key, "region", year=year, status="overdue", as_of=seq),
        lambda: ledger.items(key, year=year, status="overdue", as_of=seq, limit=20, count=False).rows,
        lambda: ledger.tip_counts(key, "region", status="open", as_of=seq),
        lambda: ledger.count(key, "/v1/tips", status="late", as_of=seq),
        lambda: ledger.count(key, "/v1/discrepancies", year=year, as_of=seq))
    overdue, tips_open, tips_past = by_region(overdue), by_region(tips), tips["overdue"]
    when = registry["as_of"] if seq is not None else None
    scores = {row["region"]: row for row in assessment["regions"]}
    facts = {row["region"]: {**row, "overdue": overdue[row["region"]], "tips_open": tips_open[row["region"]],
                             **{k: scores.get(row["region"], {}).get(k) for k in ("total", "grade", "cleared")}}
             for row in registry["regions"]}
    totals = {"overdue": sum(overdue.values()), "tips_open": sum(tips_open.values()), "tips_past": tips_past,
              "tips_late": tips_late, "discrepancies": discrepancies}
    width, height = tilemap.size()
    return render_template("office/dashboard.html", year=year, years=_years(svc), seq=seq, when=when,
                           as_of_error=error, registry=registry, assessment=assessment, summary=summary,
                           facts=facts, totals=totals, late_items=late_items, measure=chosen,
                           measures=tilemap.MEASURES.values(), tiles=tilemap.tiles(facts, chosen),
                           map_width=width, map_height=height, tile_size=tilemap.TILE)


@bp.get("/regions/<code>")
@requires(*READERS)
def region(code: str):
    if code not in service().reference.regions:
        return _not_found()
    year = chosen_year()
    registry = clients().ledger.registry_all(g.key, year)
    report = next((r for r in registry["regions"] if r["region"] == code), None)
    counts, overdue = clients().ledger.year_summary(g.key, region=code, year=year)
    tips = clients().ledger.tips(g.key, region=code, status="open", limit=20)
    scored, _summary = _scores(service(), g.key, year, None, summary=False)
    row = next((r for r in scored["regions"] if r["region"] == code), None)
    return render_template("office/region.html", code=code, year=year, years=_years(service()), registry=registry,
                           report=report, counts=counts, overdue=overdue, tips=tips, scored=row,
                           tip_days_left=lambda tip: days_left(_date(tip["due_at"]), today()))


@bp.get("/verification")
@requires("office")
def verification_queue():
    """Eliminations awaiting verification, the longest-waiting first (by their place on the log)."""
    waiting = sorted(clients().ledger.every(g.key, "/v1/items", "items", status="eliminated"),
                     key=lambda item: (item.get("elimination_seq") or 0, item["item_id"]))
    return render_template("office/verification.html", items=waiting)


@bp.route("/verification/<item_id>", methods=["GET", "POST"])
@requires("office")
def verify(item_id: str):
    found = clients().ledger.item(g.key, item_id)
    if found is None:
        return _not_found()
    form = VerificationForm()
    errors, status = [], 200
    if request.method == "POST":
        errors = form_summary(form) if not form.validate() else []
        if not errors:
            body = {"item_id": item_id, "decision": form.decision.data, "reason": (form.reason.data or "").strip()}
            try:
                answer = clients().intake.decide_elimination(g.key, body, form.idempotency_key.data or None)
                return redirect(url_for("account.submission", submission_id=answer["submission_id"]), 303)
            except ApiProblem as problem:
                errors = apply_errors(form, problem)
        status = 422
    else:
        form.idempotency_key.data = new_idempotency_key()
    history = clients().ledger.item_history(g.key, item_id)
    return render_template("office/verify.html", item=found, history=history, form=form, errors=errors), status


@bp.get("/tips")
@requires("office")
def tips():
    """Every tip; the open ones past their period first, then the open ones by due date, then
    the rest a page at a time."""
    status = request.args.get("status") if request.args.get("status") in (
        "confirmed", "unfounded", "duplicate", "late") else None
    region = request.args.get("region") if request.args.get("region") in service().reference.regions else None
    open_tips = [] if status else sorted(
        islice(clients().ledger.every(g.key, "/v1/tips", "tips", status="open", region=region), 5000),
        key=lambda tip: (not tip.get("overdue"), tip["due_at"], tip["tip_id"]))
    page = clients().ledger.tips(g.key, status=status, region=region, cursor=request.args.get("cursor"),
                       limit=25) if status else None
    return render_template("office/tips.html", open_tips=open_tips, page=page, status=status, region=region,
                           tip_days_left=lambda tip: days_left(_date(tip["due_at"]), today()))


@bp.route("/tips/<tip_id>", methods=["GET", "POST"])
@requires("office")
def tip(tip_id: str):
    """Triage: the office may resolve a tip itself (confirmed, unfounded, duplicate), as a region does."""
    return resolution_page(tip_id, clients().ledger.tip(g.key, tip_id),
                           action=url_for("office.tip", tip_id=tip_id), back=url_for("office.tips"))



def _scores(svc, key: str, year: int, seq: int | None, *, summary: bool = True) -> tuple[dict, dict]:
    """The year's assessment and the province's summary as of ``seq``; empty ones for a year the
    assessment does not know (404)."""
    try:
        found = svc.clients.assessment.year(key, year, seq)
        return found, svc.clients.assessment.summary(key, year, seq) if summary else {}
    except ApiProblem as problem:
        if problem.status != 404:
            raise
        return {"regions": []}, {"cleared": {"count": 0, "regions": []}, "industries": []}


_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="portal-calls")


def parallel(*calls):
    """Each call's answer, in order, the calls made at once (the overview waits on the slowest
    service, not on their sum); each runs in a copy of the page's context, so its time is counted
    in the page's Server-Timing."""
    futures = [_POOL.submit(contextvars.copy_context().run, call) for call in calls]
    return [future.result() for future in futures]
