"""The office's alerts (预警督办) and the agencies' subscriptions (订阅): every alert by rule, region
and level with what was sent to whom; the e-mail and webhook subscriptions, a new one, one ended
(after a confirmation page), and the deliveries with their failures, a dead-lettered one
re-driven. All through notify's API with the signed-in person's key; auditors read, only the
office acts."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..adapters.http import ApiProblem
from .forms import CHANNELS, TOPICS, EndSubscriptionForm, SubscriptionForm, options
from .pages import apply_errors, clients, form_summary, requires, service

RULES = ("report_missing", "elimination_overdue", "tip_unresolved")
DELIVERY_STATES = ("pending", "queued", "retrying", "sent", "dead", "cancelled")
SUBSCRIPTION_FIELDS = {"agency": "agency", "address": "address", "channel": "channel", "region": "region",
                       "topics": "alerts"}

bp = Blueprint("dispatch", __name__, url_prefix="/office")


@bp.get("/alerts")
@requires("office", "auditor")
def alerts():
    svc = service()
    rule = request.args.get("rule") if request.args.get("rule") in RULES else None
    region = request.args.get("region") if request.args.get("region") in svc.reference.regions else None
    level = request.args.get("level") if request.args.get("level") in ("1", "2") else None
    found = svc.clients.notify.alerts(g.key, rule=rule, region=region, level=level)[::-1]
    sent: dict[str, list[dict]] = {}
    for delivery in svc.clients.notify.deliveries(g.key):
        if delivery["kind"] == "alert":
            sent.setdefault(delivery["ref_id"], []).append(delivery)
    return render_template("office/alerts.html", alerts=found, sent=sent, rule=rule, region=region, level=level,
                           rules=RULES)


def subscription_form() -> SubscriptionForm:
    form = SubscriptionForm()
    form.region.choices = options([("", _("The office (escalations)"))] + [
        (code, r.name) for code, r in service().reference.regions.items()])
    return form


@bp.route("/subscriptions", methods=["GET", "POST"])
@requires("office", "auditor")
def subscriptions():
    form, errors, status, secret = subscription_form(), [], 200, None
    if request.method == "POST":
        if g.user.role != "office":
            return render_template("error.html", status=403, title=_("You may not do this"), detail=""), 403
        made, errors = _subscribe(form)
        if made is not None and made.get("secret") is None:
            return redirect(url_for("dispatch.subscriptions", added=made["subscription_id"]), 303)
        secret = made.get("secret") if made else None
        status = 422 if errors else 201
    notify = clients().notify
    state = request.args.get("status") if request.args.get("status") in DELIVERY_STATES else None
    return render_template("office/subscriptions.html", form=form, errors=errors, secret=secret, channels=CHANNELS,
                           topics=TOPICS,
                           subscriptions=notify.subscriptions(g.key),
                           deliveries=notify.deliveries(g.key, state)[::-1][:200], state=state,
                           states=DELIVERY_STATES, added=request.args.get("added"),
                           redriven=request.args.get("redriven"), ended=request.args.get("ended")), status


def _subscribe(form: SubscriptionForm) -> tuple[dict | None, list[dict]]:
    """The new subscription notify made, or the errors to show beside the form's fields."""
    errors = form_summary(form) if not form.validate() else []
    topics = [t for t in ("alerts", "circulars") if getattr(form, t).data]
    if not errors and not topics:
        errors = [{"field": form.alerts.id, "message": _("Choose at least one topic")}]
    if errors:
        return None, errors
    body = {"agency": form.agency.data.strip(), "region": form.region.data or None,
            "channel": form.channel.data, "address": form.address.data.strip(), "topics": topics}
    try:
        return clients().notify.subscribe(g.key, body), []
    except ApiProblem as problem:
        return None, apply_errors(form, problem, SUBSCRIPTION_FIELDS)


@bp.route("/subscriptions/<subscription_id>/end", methods=["GET", "POST"])
@requires("office")
def end_subscription(subscription_id: str):
    """End an agency's subscription: a page that says which one and asks to confirm, then notify's
    DELETE (what is already under way is still delivered)."""
    notify = clients().notify
    found = [s for s in notify.subscriptions(g.key) if s["subscription_id"] == subscription_id and s["active"]]
    if not found:
        abort(404)
    form, errors = EndSubscriptionForm(), []
    if request.method == "POST":
        errors = form_summary(form) if not form.validate() else []
        if not errors:
            notify.end_subscription(g.key, subscription_id)
            return redirect(url_for("dispatch.subscriptions", ended=subscription_id), 303)
    return render_template("office/end_subscription.html", subscription=found[0], form=form, errors=errors,
                           channels=CHANNELS, topics=TOPICS), \
        422 if errors else 200


@bp.post("/deliveries/<delivery_id>/redrive")
@requires("office")
def redrive(delivery_id: str):
    clients().notify.redrive(g.key, delivery_id)
    return redirect(url_for("dispatch.subscriptions", redriven=delivery_id), 303)
