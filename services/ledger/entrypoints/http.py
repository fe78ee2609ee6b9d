"""The ledger's HTTP API: the feed, verification, the state digest and the report registry."""
from __future__ import annotations

from flask import Flask

from shared.clock import parse_instant
from shared.http import ApiBlueprint, create_app as create_base_app, current_principal, require

from ..bootstrap import LedgerService
from ..domain.registry import registry
from . import schemas

READERS = ("office", "auditor", "service", "region")


def create_app(service: LedgerService) -> Flask:
    def ready() -> dict:
        try:
            service.repo.head()
            return {"database": "ok"}
        except Exception as exc:  # reported, not raised: readiness is a question
            return {"database": f"unavailable: {exc.__class__.__name__}"}

    app, api = create_base_app("zeroclear.ledger", title="zeroclear ledger", ready=ready,
                               max_body_bytes=service.settings.max_body_bytes)
    app.extensions["zeroclear.keys"] = service.keys
    api.register_blueprint(_blueprint(service))
    return app


def _blueprint(service: LedgerService) -> ApiBlueprint:
    blp = ApiBlueprint("ledger", __name__, url_prefix="/v1", description="The event log (台账) and its projections")

    @blp.route("/events")
    @require(*READERS)
    @blp.arguments(schemas.EventsQuery, location="query")
    @blp.response(200, schemas.EventsPage)
    def events(args):
        """The feed: recorded events after a position (a region key sees its own region's)."""
        principal = current_principal()
        region = principal.region if principal.role == "region" else None
        page = service.repo.read(args["after"], args["limit"], region=region)
        head_seq, _ = service.repo.head()
        return {"events": [e.to_dict() for e in page], "next_after": page[-1].seq if page else args["after"],
                "head_seq": head_seq}

    @blp.route("/verify")
    @blp.response(200, schemas.VerdictSchema)
    def verify():
        """Recompute the whole hash chain; open to anyone, like a public checkpoint."""
        return service.repo.verify().to_dict()

    @blp.route("/state")
    @require("office", "auditor", "service")
    @blp.response(200, schemas.StateSchema)
    def state():
        """The live projection's position and digest (compare with `zeroclear ledger replay`)."""
        current = service.repo.load_state()
        return {"seq": current.seq, "head": current.head, "digest": current.digest()}

    @blp.route("/reports")
    @require(*READERS)
    @blp.arguments(schemas.RegistryQuery, location="query")
    @blp.response(200, schemas.RegistrySchema)
    def reports(args):
        """The report registry of a year: on time, late, missing or awaiting, and zero reports."""
        as_of = parse_instant(args["as_of"]) if args.get("as_of") else service.clock.now()
        principal = current_principal()
        only = {principal.region} if principal.role == "region" else None
        return registry(service.repo.load_state(with_items=False), args["year"], as_of, service.reference, only)

    @blp.route("/topology")
    @blp.response(200)
    def topology():
        """The broker topology: how an agency subscribes to recorded events with any AMQP client."""
        return service.broker.topology.describe()

    return blp
