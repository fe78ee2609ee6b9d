"""Notify's HTTP API: the public announcement (open to anyone), and the overdue alerts issued.

Circulars and delivery to subscribers come with the rest of issue 5."""
from __future__ import annotations

from flask import Flask, current_app

from shared.http import ApiBlueprint, create_app as create_base_app, current_principal, require

from ..announcement_render import as_csv, as_html, as_json
from ..bootstrap import Service
from ..domain.announcement import announcement
from . import schemas


def create_app(service: Service) -> Flask:
    def ready() -> dict:
        try:
            service.repo.journal.head()
            return {"database": "ok"}
        except Exception as exc:  # reported, not raised: readiness is a question
            return {"database": f"unavailable: {exc.__class__.__name__}"}

    app, api = create_base_app("zeroclear.notify", title="zeroclear notify", ready=ready,
                               max_body_bytes=service.settings.max_body_bytes)
    app.extensions["zeroclear.keys"] = service.keys
    api.register_blueprint(_public(service))
    api.register_blueprint(_alerts(service))
    return app


def _public(service: Service) -> ApiBlueprint:
    blp = ApiBlueprint("public", __name__, url_prefix="/public", description="定期向社会公告: open to anyone")

    def content() -> dict:
        today = service.reference.calendar.business_date(service.clock.now()).isoformat()
        return service.model.using(None, lambda state: announcement(state, today, service.names()))

    def answer(body: bytes, mimetype: str):
        return current_app.response_class(body, mimetype=mimetype, headers={"Cache-Control": "public, max-age=60"})

    @blp.route("/announcement")
    @blp.response(200, content_type="text/html")
    def page():
        """The public announcement: enterprises with outdated capacity, their equipment, deadline
        and progress, and the outcomes of resolved tips (never a tipster, never an open allegation)."""
        return answer(as_html(content()), "text/html")

    @blp.route("/announcement.json")
    @blp.response(200, schemas.AnnouncementSchema)
    def data_json():
        """The announcement as open data (canonical JSON)."""
        return answer(as_json(content()), "application/json")

    @blp.route("/announcement.csv")
    @blp.response(200, content_type="text/csv")
    def data_csv():
        """The enterprises of the announcement as CSV (UTF-8 with a byte order mark)."""
        return answer(as_csv(content()), "text/csv")

    return blp


def _alerts(service: Service) -> ApiBlueprint:
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
        return {"alerts": service.repo.alerts(region=region, rule=args.get("rule"), level=args.get("level"))}

    @blp.route("/alerts/check", methods=["POST"])
    @require("office")
    @blp.response(200, schemas.AlertsSchema)
    def check_now():
        """Look for what is due now, at once, instead of at the scheduler's next wake-up; answers
        the alerts this issued (none for a duty already alerted at that level)."""
        return {"alerts": service.issue_due_alerts()}

    return blp
