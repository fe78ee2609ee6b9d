"""Notify's HTTP API: the public announcement (open to anyone), the overdue alerts issued, and
circulars (通报) pinned to a ledger position, as JSON, HTML and PDF; their delivery to subscribed
agencies: e-mail and signed webhooks, as tasks on notify's queue.

Views are thin functions, registered a few at a time (a blueprint or a ``_register_*`` each); each
reaches what it needs through one object stored on the app (``current_app.extensions[DESK]``: the
service) and calls its use cases (``service.handlers``) or reads its repository."""
from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlencode

from flask import Flask, current_app

from shared.clock import SystemClock, format_instant
from shared.envelope import new_id
from shared.http import ApiBlueprint, Problem, create_app as create_base_app, current_principal, require

from ..adapters.webhooks import AddressRefused
from ..announcement_render import as_html, csv_stream, json_stream
from ..bootstrap import NotifyService
from ..domain.announcement import public_enterprise, public_tip
from ..domain.announcement_summary import summary
from ..domain.circular import ScoresUnavailable
from ..handlers import CircularRefused
from . import schemas
from .contract import OPERATIONS

DESK = "zeroclear.notify"

def create_app(service: NotifyService) -> Flask:
    app, api = create_base_app("zeroclear.notify", title="zeroclear notify", database=service.repo.journal.head,
                               max_body_bytes=service.settings.max_body_bytes, contract=OPERATIONS)
    app.extensions["zeroclear.keys"] = service.keys
    app.extensions[DESK] = service
    api.register_blueprint(_public())
    api.register_blueprint(_alerts())
    api.register_blueprint(_circulars(service))
    api.register_blueprint(_delivery())
    return app


def _desk() -> NotifyService:
    return current_app.extensions[DESK]


def _caught_up() -> tuple[NotifyService, str]:
    """The service, its announcement's rows written up to the head first, and the business day
    (which decides what is overdue). While the fold of a process just started is still behind the
    rows kept before (its keeper folds ten years in half a minute at a national campaign's size),
    the rows are read as they stand, at the position they say, instead of waiting for it."""
    service = _desk()
    if service.model.folded >= service.announcement.position():
        service.model.using(None, service.announcement.catch_up)
    return service, service.reference.calendar.business_date(service.clock.now()).isoformat()


def _rows(**page):
    service, today = _caught_up()
    return service.announcement.stream(**page), today, service.handlers.names()


def _summary() -> dict:
    service, today = _caught_up()
    names, latest = service.handlers.names(), service.announcement.latest_tips(SUMMARY_TIPS)
    return service.announcement.tally(lambda position, items, tips: summary(
        items, tips, latest, today=today, position=position, names=names))


def _streamed(chunks, mimetype: str):
    return current_app.response_class(chunks, mimetype=mimetype, headers={"Cache-Control": "public, max-age=60"})


def _public() -> ApiBlueprint:
    blp = ApiBlueprint("public", __name__, url_prefix="/public", description="定期向社会公告: open to anyone")

    @blp.route("/announcement")
    @blp.arguments(schemas.AnnouncementPageQuery, location="query")
    @blp.response(200, content_type="text/html")
    def page(args):
        """A page of the public announcement: enterprises with outdated capacity, their equipment,
        deadline and progress (``limit`` of them, after the item ``after``, of ``region``), and the
        outcomes of the latest resolved tips (never a tipster, never an open allegation)."""
        stream, today, names = _rows(region=args.get("region"), after=args.get("after"), limit=args["limit"] + 1)
        _, position = next(stream)
        found = [row for _, row in stream]
        more, shown = len(found) > args["limit"], found[:args["limit"]]
        following = None
        if more:
            following = "/public/announcement?" + urlencode(
                {k: v for k, v in {"region": args.get("region"), "after": shown[-1]["item_id"],
                                   "limit": args["limit"]}.items() if v})
        content = {"as_of": today, "position": position, "next": following,
                   "enterprises": [public_enterprise(row, today, names) for row in shown],
                   "tips": [public_tip(row, names) for row in _desk().announcement.latest_tips(LATEST_TIPS)]}
        return current_app.response_class(as_html(content), mimetype="text/html",
                                          headers={"Cache-Control": "public, max-age=60"})

    @blp.route("/announcement.json")
    @blp.response(200, schemas.AnnouncementSchema)
    def data_json():
        """The whole announcement as open data (canonical JSON), streamed."""
        return _streamed(json_stream(*_rows()), "application/json")

    @blp.route("/announcement/summary.json")
    @blp.response(200, schemas.AnnouncementSummarySchema)
    def summary_json():
        """The announcement in figures: enterprises by progress (in all and per region), per
        industry with capacity summed in that industry's own unit, resolved tips by outcome, the
        latest few — what a home page shows, without the whole announcement."""
        return _summary()

    @blp.route("/announcement.csv")
    @blp.response(200, content_type="text/csv")
    def data_csv():
        """The enterprises of the announcement as CSV (UTF-8 with a byte order mark), streamed."""
        return _streamed(csv_stream(*_rows(tips=False)), "text/csv")

    return blp


LATEST_TIPS = 50
SUMMARY_TIPS = 5


def _alerts() -> ApiBlueprint:
    blp = ApiBlueprint("alerts", __name__, url_prefix="/v1", description="Overdue alerts (SPEC §7)")

    @blp.route("/alerts")
    @require("office", "auditor", "service", "region")
    @blp.arguments(schemas.AlertsQuery, location="query")
    @blp.response(200, schemas.AlertsSchema)
    def list_alerts(args):
        """The alerts issued, each once: to the region, and to the office 7 days later if still open.
        A region key sees the alerts about its own region."""
        principal = current_principal()
        region = principal.region if principal.role == "region" else args.get("region")
        return {"alerts": _desk().repo.alerts(region=region, rule=args.get("rule"), level=args.get("level"))}

    @blp.route("/alerts/check", methods=["POST"])
    @require("office")
    @blp.response(200, schemas.AlertsSchema)
    def check_now():
        """Look for what is due now, at once, instead of at the scheduler's next wake-up; answers
        the alerts this issued (none for a duty already alerted at that level)."""
        return {"alerts": _desk().handlers.issue_due_alerts()}

    @blp.route("/schedule/run", methods=["POST"])
    @require("office")
    @blp.response(200, schemas.ScheduleRunSchema)
    def run_schedule():
        """Do now what the scheduler does at each wake-up (a demo or a test moves the clock, then
        asks): issue the alerts due, and the monthly circular if its day has come."""
        return _desk().handlers.run_schedule()

    return blp


SCORES_WAIT_SECONDS = 5.0  # the assessment follows the same log: it is usually there within moments
RETRY_AFTER_SECONDS = 5
FORMATS = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
CIRCULAR_READERS = ("office", "auditor", "service", "region", "department")


def _circulars(service: NotifyService) -> ApiBlueprint:
    blp = ApiBlueprint("circulars", __name__, url_prefix="/v1", description="Circulars (通报, SPEC §7)")
    request_schema, query_schema = schemas.circular_schemas(service.reference, service.clock)

    @blp.route("/circulars", methods=["POST"])
    @require("office")
    @blp.arguments(request_schema)
    @blp.response(201, schemas.CircularSchema)
    def issue(data):
        """Issue a circular now (on demand), pinned to ``position`` (default: the latest the service
        has followed). The same position gives the same circular, bytes and all (200, not issued twice).
        Regions are ranked by their SPEC §6 totals as the assessment service gives them for that same
        position: 503 (with Retry-After) while the assessment has not followed the log that far."""
        try:
            row, new = _desk().handlers.issue_circular(data["year"], data.get("position"), data.get("period"),
                                                       document_no=data.get("document_no"),
                                                       wait_seconds=SCORES_WAIT_SECONDS)
        except ScoresUnavailable as exc:
            raise Problem(503, "Scores not ready", f"{exc}: the circular ranks regions by the assessment's scores "
                          "as of its own position, so it is not issued yet; ask again shortly",
                          kind="scores-unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
        except CircularRefused as exc:
            raise Problem(409, "Cannot issue this circular", str(exc), kind="circular-refused",
                          errors=[{"field": exc.field, "message": str(exc)}]) from None
        return row, 201 if new else 200  # the schema shows what a reader needs, not the stored content

    @blp.route("/circulars")
    @require(*CIRCULAR_READERS)
    @blp.arguments(query_schema, location="query")
    @blp.response(200, schemas.CircularsSchema)
    def list_circulars(args):
        """The circulars issued, oldest first, with their documents' hashes and ledger positions."""
        return {"circulars": _desk().repo.circulars(args.get("year"))}

    @blp.route("/circulars/<circular_id>.<fmt>")
    @require(*CIRCULAR_READERS)
    @blp.response(200, content_type="application/octet-stream")
    def document(circular_id, fmt):
        """One circular as ``json``, ``html`` or ``pdf`` — rendered from its stored content, the same
        bytes whose SHA-256 is on the ledger."""
        service = _desk()
        row = service.repo.circular(circular_id)
        if row is None or fmt not in FORMATS:
            raise Problem(404, "Not found", f"no circular {circular_id}.{fmt}", kind="not-found")
        try:
            body = service.handlers.circular_document(row, fmt)
        except ValueError:
            raise Problem(410, "Layout no longer rendered", f"circular {circular_id} was issued by an earlier version "
                          "of notify whose HTML and PDF layout this one no longer renders; its JSON document, whose "
                          "SHA-256 is on the ledger, stands", kind="earlier-layout") from None
        if body is None:
            raise Problem(503, "PDF unavailable", "no CJK TrueType font is installed on this server: install "
                          "fonts-wqy-zenhei (python3 dev.py does) or set ZEROCLEAR_NOTIFY_FONT", kind="pdf-unavailable")
        return current_app.response_class(body, mimetype=FORMATS[fmt].split(";")[0], headers={
            "Content-Type": FORMATS[fmt], "X-Content-SHA256": hashlib.sha256(body).hexdigest()})

    return blp


def _delivery() -> ApiBlueprint:
    blp = ApiBlueprint("delivery", __name__, url_prefix="/v1", description="Subscriptions and deliveries")
    _register_subscriptions(blp)
    _register_deliveries(blp)
    return blp


def _register_subscriptions(blp: ApiBlueprint) -> None:
    @blp.route("/subscriptions", methods=["POST"])
    @require("office")
    @blp.arguments(schemas.SubscriptionRequest)
    @blp.response(201, schemas.SubscriptionSchema)
    def subscribe(data):
        """Subscribe an agency: an e-mail address or a webhook URL, for one region's alerts (or,
        without a region, the office's escalations) and/or the circulars. A webhook's secret is
        shown here once: ``webhook_secret`` verifies the Standard Webhooks headers (webhook-id,
        webhook-timestamp, webhook-signature; see examples/webhook_receiver.py), ``secret`` the
        deprecated ``X-Zeroclear-Signature`` HMAC-SHA256 of the body."""
        service = _desk()
        return service.repo.add_subscription(_new_subscription(service, data))

    @blp.route("/subscriptions")
    @require("office", "auditor")
    @blp.response(200, schemas.SubscriptionsSchema)
    def subscriptions():
        """The subscriptions (their secrets are never shown again)."""
        return {"subscriptions": [{**s, "secret": None} for s in _desk().repo.subscriptions()]}

    @blp.route("/subscriptions/<subscription_id>", methods=["DELETE"])
    @require("office")
    @blp.response(204)
    def unsubscribe(subscription_id):
        """End a subscription: nothing new is delivered to it (what is under way still is)."""
        if not _desk().repo.end_subscription(subscription_id):
            raise Problem(404, "Not found", f"no active subscription {subscription_id}", kind="not-found")
        return ""


def _new_subscription(service: NotifyService, data: dict) -> dict:
    """A subscription's row, its region and webhook address checked; a webhook gets its secret."""
    if data.get("region") and data["region"] not in service.reference.regions:
        raise Problem(422, "Invalid request", "unknown region", kind="validation",
                      errors=[{"field": "region", "message": "Unknown region code (GB/T 2260)."}])
    if data["channel"] == "webhook":
        try:
            service.webhooks.check(data["address"])
        except AddressRefused as exc:
            raise Problem(422, "Invalid request", str(exc), kind="validation",
                          errors=[{"field": "address", "message": str(exc)}]) from None
    return {"subscription_id": new_id(), "agency": data["agency"], "region": data.get("region"),
            "channel": data["channel"], "address": data["address"], "topics": sorted(set(data["topics"])),
            "secret": secrets.token_hex(32) if data["channel"] == "webhook" else None,
            "created_at": format_instant(service.clock.now()), "active": True}


def _register_deliveries(blp: ApiBlueprint) -> None:
    @blp.route("/deliveries")
    @require("office", "auditor")
    @blp.arguments(schemas.DeliveriesQuery, location="query")
    @blp.response(200, schemas.DeliveriesSchema)
    def deliveries(args):
        """Every delivery: status (pending, queued, retrying, sent, dead), attempts, last error."""
        return {"deliveries": _desk().repo.deliveries(status=args.get("status"))}

    @blp.route("/deliveries/<delivery_id>/redrive", methods=["POST"])
    @require("office")
    @blp.response(202, schemas.DeliveriesSchema)
    def redrive(delivery_id):
        """Try a dead-lettered delivery again, from its first attempt."""
        repo = _desk().repo
        if repo.delivery(delivery_id) is None:
            raise Problem(404, "Not found", f"no delivery {delivery_id}", kind="not-found")
        if not repo.redrive(delivery_id, format_instant(SystemClock().now())):
            raise Problem(409, "Not dead-lettered", f"delivery {delivery_id} is not dead-lettered", kind="not-dead")
        return {"deliveries": [d for d in repo.deliveries() if d["delivery_id"] == delivery_id]}
