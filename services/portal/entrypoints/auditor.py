"""The auditors' pages (纪检监察, 审计), read-only: the chain's status and its walk now, a page per
segment showing how far it has gone; the event browser and an event's page (its payload, hashes,
the previous event, what it caused and its correlation); the ledger as of two positions, dates or
times; the whole log as a streamed download with the command that verifies it offline, and the
check of a tip's signed acknowledgement.

Nothing here changes anything: every page is a GET, except the acknowledgement check, which
posts the pasted text only to read it. The office may open these pages too (its assessment's
lost points link to events)."""
from __future__ import annotations

import json
from datetime import date, datetime, time

from flask import Blueprint, Response, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _

from ..adapters.acknowledgements import signed_by
from ..adapters.http import ApiProblem
from .forms import AcknowledgementCheckForm
from .pages import chosen_year, clients, form_summary, requires, service
from .region import _not_found, _years

READERS = ("auditor", "office")
FILTERS = ("type", "region", "stream", "since", "until", "caused_by", "correlation")
VERIFIER = "python3 verify_export.py ledger-export.jsonl"
GENESIS = "0" * 64  # the hash before the first event
HEX = frozenset("0123456789abcdef")
WALK_STEP = 25_000  # events verified per page of the walk (a fraction of a second on the ledger)


bp = Blueprint("auditor", __name__, url_prefix="/audit")


@bp.get("/")
@requires(*READERS)
def chain():
    """The chain's status, and the button that starts the walk (``?verify=1`` was its old address)."""
    if request.args.get("verify"):
        return redirect(url_for("auditor.verify"), 303)
    return render_template("auditor/chain.html", verdict=None, head=clients().ledger.head(g.key))


@bp.get("/verify")
@requires(*READERS)
def verify():
    """The whole chain walked now, ``step`` events a page: each page verifies the next segment from
    where the last one ended (``after``, ``hash``: the walk's state is in the address) and moves on
    to the next by itself (a meta refresh, or the link for a browser that follows none) until the
    ledger says the walk is done; then the verdict."""
    ledger = clients().ledger
    after = _number(request.args.get("after"), 0, 2**53 - 1, 0)
    step = _number(request.args.get("step"), 1, WALK_STEP, WALK_STEP)
    after_hash = request.args.get("hash", GENESIS).lower()
    if after == 0 or not (len(after_hash) == 64 and set(after_hash) <= HEX):
        after, after_hash = 0, GENESIS  # an address the walk did not write starts it over
    walked = ledger.verify_segment(g.key, after, after_hash, step)
    head = ledger.head(g.key)
    if walked["done"]:
        return render_template("auditor/chain.html", verdict=walked, head=head)
    onward = url_for("auditor.verify", after=walked["count"], hash=walked["head"], step=step)
    return render_template("auditor/walk.html", walked=walked, head=head, onward=onward)


@bp.get("/events")
@requires(*READERS)
def events():
    filters = {name: request.args.get(name, "").strip() for name in FILTERS}
    before = request.args.get("before", "")
    errors, page = [], {"events": [], "next_before": None}
    sent = {**filters, "since": _day_edge(filters["since"], start=True),
            "until": _day_edge(filters["until"], start=False)}
    try:
        page = clients().ledger.audit_events(g.key, **sent, before=before if before.isdigit() else None,
                                                     limit=50)
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        errors = _filter_errors(problem)
    older = url_for("auditor.events", **{k: v for k, v in filters.items() if v}, before=page["next_before"]) \
        if page.get("next_before") else None
    return render_template("auditor/events.html", page=page, filters=filters, errors=errors, older=older,
                           status=422 if errors else 200), 422 if errors else 200


def _filter_errors(problem: ApiProblem) -> list[dict]:
    """The ledger's words on a filter, beside the filter's field."""
    errors = []
    for error in problem.errors:
        name = str(error.get("field", "")).removeprefix("query:")
        errors.append({"field": f"f-{name}" if name in FILTERS else None,
                       "message": f"{_field_name(name)}: {error.get('message_zh') or error.get('message')}"})
    return errors


@bp.get("/events/<int:seq>")
@requires(*READERS)
def event(seq: int):
    """An event with its payload and hashes, the previous event, the event that caused it, the
    events it caused and those of its correlation (indexed reads of the ledger's audit events)."""
    ledger = clients().ledger
    found = ledger.event(g.key, seq)
    if found is None:
        return _not_found()
    previous = ledger.event(g.key, seq - 1) if seq > 1 else None
    caused = ledger.audit_events(g.key, caused_by=found["id"], limit=50)["events"]
    related = ledger.audit_events(g.key, correlation=found["correlation_id"], limit=50)["events"]
    cause = ledger.audit_events(g.key, id=found["causation_id"], limit=1)["events"] if found.get("causation_id") else []
    return render_template("auditor/event.html", event=found, previous=previous, caused=caused,
                           related=[e for e in related if e["seq"] != seq], cause=cause[0] if cause else None,
                           payload=json.dumps(found["payload"], ensure_ascii=False, indent=2, sort_keys=True))


@bp.get("/as-of")
@requires(*READERS)
def as_of():
    """The ledger as of two positions side by side, each given as a position, a business date (its
    last position) or a time picked in Asia/Shanghai (the last position recorded by then): each
    one's digest, the items by status, the tips open and the year's reports filed, and the events
    recorded between them."""
    ledger, year = clients().ledger, chosen_year()
    head = ledger.head(g.key).get("seq") or 0
    asked = [request.args.get(name, "").strip() for name in ("from", "to")]
    times = [request.args.get(f"{name}_time", "").strip() for name in ("from", "to")]
    found, errors = [], []
    for name, text, moment in zip(("from", "to"), asked, times):
        seq, error = _side_position(ledger, text, moment, head)
        if error:
            errors.append({"field": f"f-{name}" if text or not moment else f"f-{name}-time", "message": error})
        found.append(seq)
    shown = dict(year=year, years=_years(service()), head=head, times=times)
    if errors or None in found:
        return render_template("auditor/as_of.html", errors=errors, asked=asked, sides=None, **shown), \
            422 if errors else 200
    first, second = sorted(found)
    sides = [_side(ledger, g.key, seq, year) for seq in (first, second)]
    between = [e for e in ledger.events_after(g.key, first, 100) if e["seq"] <= second]
    return render_template("auditor/as_of.html", errors=[], asked=[str(first), str(second)], sides=sides,
                           between=between, more=second - first > len(between), **shown)


@bp.get("/export")
@requires(*READERS)
def export():
    return render_template("auditor/export.html", command=VERIFIER, head=clients().ledger.head(g.key))


@bp.get("/export.jsonl")
@requires(*READERS)
def export_download():
    """The ledger's export streamed through as it comes (never held whole): each chunk the ledger
    sends (about a megabyte) is passed on as the same bytes, not decoded nor split (up to 4 MB; issue 15)."""
    upstream = clients().ledger.export(g.key)
    chunks = upstream.raw.stream(4 << 20, decode_content=False)  # asked unencoded (LedgerClient.export)
    return Response(stream_with_context(chunks), mimetype="application/x-ndjson",
                    headers={"Content-Disposition": upstream.headers.get(
                        "Content-Disposition", 'attachment; filename="ledger-export.jsonl"')})


@bp.route("/acknowledgement", methods=["GET", "POST"])
@requires(*READERS)
def acknowledgement():
    form = AcknowledgementCheckForm()
    if request.method == "GET" or not form.validate():
        errors = form_summary(form) if request.method == "POST" else []
        return render_template("auditor/acknowledgement.html", form=form, errors=errors, result=None), \
            422 if errors else 200
    result = check_acknowledgement(form.acknowledgement.data)
    return render_template("auditor/acknowledgement.html", form=form, errors=[], result=result)


def check_acknowledgement(text: str) -> dict:
    """Whether the signature holds under one of intake's keys (the current or a retired one),
    and whether the ledger has the event it names, with that hash."""
    try:
        pasted = json.loads(text)
    except ValueError:
        return {"readable": False}
    signed = any(signed_by(pasted, key["public_key"]) for key in clients().intake.signing_keys())
    ack = pasted.get("ack") if isinstance(pasted, dict) else None
    ack = ack if isinstance(ack, dict) else {}
    seq = ack.get("seq")
    event = clients().ledger.event(g.key, seq) if isinstance(seq, int) and 0 < seq < 2**53 else None
    return {"readable": True, "signed": signed, "ack": ack, "event": event,
            "on_log": event is not None and event["hash"] == ack.get("hash")}


def _number(text: str | None, low: int, high: int, default: int) -> int:
    return min(max(int(text), low), high) if text and text.isascii() and text.isdigit() else default


def _side_position(ledger, text: str, moment: str, head: int) -> tuple[int | None, str | None]:
    """One side of the comparison as a position (None when nothing was asked), or why not."""
    if not text and moment:
        instant = _picked_instant(moment)
        if instant is None:
            return None, _("Pick a date and time")
        try:
            seq = ledger.position_at(g.key, instant)
        except ApiProblem as problem:
            if problem.status not in (400, 422):
                raise
            return None, _("Pick a date and time")
        return (seq, None) if seq > 0 else (None, _("No event had been recorded by then"))
    seq = _position(ledger, g.key, text)
    if text and not (seq is not None and 0 < seq <= head):
        return None, _("Enter a ledger position from 1 to %(head)s, or a date as yyyy-mm-dd", head=head)
    return seq, None


def _picked_instant(text: str) -> str | None:
    """A date-time picker's value (yyyy-mm-ddThh:mm[:ss], no zone) as an instant in Asia/Shanghai."""
    try:
        picked = datetime.fromisoformat(text)
    except ValueError:
        return None
    if picked.tzinfo is not None:
        return None
    return picked.replace(tzinfo=service().reference.calendar.time_zone).isoformat()


def _position(ledger, key: str, text: str) -> int | None:
    """A position as typed, or the last position recorded by the end of a business day (yyyy-mm-dd)."""
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        date.fromisoformat(text)
    except ValueError:
        return None
    try:
        return ledger.position_at(key, _day_edge(text, start=False))
    except ApiProblem:
        return None


def _side(ledger, key: str, seq: int, year: int) -> dict:
    """What the ledger held at position ``seq``: its digest and a few counts that say it in words."""
    counted = ledger.item_counts(key, "status", as_of=seq)  # one grouped count, each status judged as the list does
    by_status = {group["key"]: group["count"] for group in counted["counts"]}
    counts = {**{status: by_status.get(status, 0) for status in ("registered", "scheduled", "eliminated", "verified")},
              "overdue": counted["overdue"]}
    registry = ledger.registry_at(key, year, seq)
    return {"seq": seq, "state": ledger.state(key, seq), "items": counts, "recorded_at": registry["as_of"],
            "tips_open": ledger.count(key, "/v1/tips", status="open", as_of=seq), "reports": registry["counts"]}


def _day_edge(text: str, *, start: bool) -> str:
    """A business date (yyyy-mm-dd) as the first or last instant of that day in Asia/Shanghai; any
    other text goes to the ledger as it is, which names it if it is not a time."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    zone = service().reference.calendar.time_zone
    moment = datetime.combine(day, time.min if start else time.max, tzinfo=zone)
    return moment.isoformat()


def _field_name(name: str) -> str:
    names = {"type": _("Event type"), "region": _("Region"), "stream": _("Stream"), "since": _("Recorded from"),
             "until": _("Recorded until"), "caused_by": _("Caused by (event id)"),
             "correlation": _("Correlation id"), "before": _("Page"), "limit": _("Page")}
    return names.get(name, name)
