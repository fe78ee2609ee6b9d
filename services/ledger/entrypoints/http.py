"""The ledger's HTTP API: the feed, verification and the topology; the projections' reads are in
``reads.py``."""
from __future__ import annotations

from flask import Flask

from shared.http import ApiBlueprint, create_app as create_base_app, current_principal, require

from ..bootstrap import LedgerService
from . import audit_reads, reads, schemas

READERS = ("office", "auditor", "service", "region")


def create_app(service: LedgerService) -> Flask:
    app, api = create_base_app("zeroclear.ledger", title="zeroclear ledger", database=service.repo.head,
                               max_body_bytes=service.settings.max_body_bytes)
    app.extensions["zeroclear.keys"] = service.keys
    api.register_blueprint(_blueprint(service))
    api.register_blueprint(reads.blueprint(service))
    api.register_blueprint(audit_reads.blueprint(service))
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

    @blp.route("/topology")
    @blp.response(200)
    def topology():
        """The broker topology: how an agency subscribes to recorded events with any AMQP client."""
        return service.broker.topology.describe()

    return blp
