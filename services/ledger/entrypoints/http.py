"""The ledger's HTTP API: the feed, verification and the topology; the projections' reads are in
``reads.py``.

Views are thin functions, registered a few at a time by ``_register_*``; each reaches what it needs
through one object stored on the app (``current_app.extensions[DESK]``) and calls it."""
from __future__ import annotations

from flask import Flask, current_app

from shared.http import ApiBlueprint, Problem, authenticate, create_app as create_base_app, current_principal, require
from shared.text import with_article

from .. import asyncapi
from ..bootstrap import LedgerService
from ..verification import Verification, WalkBusy
from . import audit_reads, proofs, reads, schemas, verify_walk
from .contract import OPERATIONS

READERS = ("office", "auditor", "service", "region")
AUDITORS = ("office", "auditor")
RETRY_AFTER_SECONDS = 5


def create_app(service: LedgerService) -> Flask:
    app, api = create_base_app("zeroclear.ledger", title="zeroclear ledger", database=service.repo.head,
                               max_body_bytes=service.settings.max_body_bytes, contract=OPERATIONS)
    app.extensions["zeroclear.keys"] = service.keys
    app.config["ZEROCLEAR_DOC_LINKS"] = {"asyncapi": "/asyncapi.json"}
    events_document = asyncapi.document(service.broker.topology)
    app.add_url_rule("/asyncapi.json", "asyncapi", lambda: events_document)  # the event stream, beside the OpenAPI
    api.register_blueprint(_blueprint(service))
    api.register_blueprint(reads.blueprint(service))
    api.register_blueprint(proofs.blueprint(service))
    api.register_blueprint(audit_reads.blueprint(service))
    api.register_blueprint(verify_walk.blueprint(service))
    return app


DESK = "zeroclear.ledger"


class LedgerDesk:
    """What the log's views need: the service, and the verification that remembers the last verdict."""

    def __init__(self, service: LedgerService):
        self.service = service
        self.verification = Verification(service.repo, service.clock, service.settings.verify_every_seconds)


def _desk() -> LedgerDesk:
    return current_app.extensions[DESK]


def _blueprint(service: LedgerService) -> ApiBlueprint:
    blp = ApiBlueprint("ledger", __name__, url_prefix="/v1", description="The event log (台账) and its projections")
    desk = LedgerDesk(service)
    blp.record(lambda state: state.app.extensions.update({DESK: desk}))
    _register_log(blp)
    return blp


def _register_log(blp: ApiBlueprint) -> None:
    @blp.route("/events")
    @require(*READERS)
    @blp.arguments(schemas.EventsQuery, location="query")
    @blp.response(200, schemas.EventsPage)
    def events(args):
        """The feed: recorded events after a position (a region key sees its own region's)."""
        principal = current_principal()
        region = principal.region if principal.role == "region" else None
        repo = _desk().service.repo
        page = repo.read(args["after"], args["limit"], region=region)
        head_seq, _ = repo.head()
        return {"events": [e.to_dict() for e in page], "next_after": page[-1].seq if page else args["after"],
                "head_seq": head_seq}

    @blp.route("/verify")
    @blp.arguments(schemas.VerifyQuery, location="query")
    @blp.response(200, schemas.VerdictSchema)
    def verify(args):
        """The hash chain's verdict. Without a key (or with a region's, a department's, a
        service's): the last verified head, with when it was verified, moved on over the events
        appended since (scope ``incremental``). With an office or auditor key: the whole chain
        walked now (``full``), or with ``deep=true`` the projections rebuilt from the log and
        compared too (``deep``); one full walk at a time (429 with Retry-After meanwhile)."""
        return _verdict(args["deep"])

    @blp.route("/topology")
    @blp.response(200)
    def topology():
        """The broker topology: how an agency subscribes to recorded events with any AMQP client."""
        return _desk().service.broker.topology.describe()


def _verdict(deep: bool) -> dict:
    """The public verdict, or to an auditor the full (or deep) walk now."""
    principal = authenticate(optional=True)
    auditing = principal is not None and principal.role in AUDITORS
    if deep and not auditing:
        if principal is None:
            authenticate()  # 401
        raise Problem(403, "Not allowed", f"{with_article(principal.role)} key cannot verify deeply: "
                      "office and auditor keys only", kind="forbidden")
    verification = _desk().verification
    if not auditing:
        return verification.public().to_dict()
    try:
        return verification.deep() if deep else verification.full().to_dict()
    except WalkBusy:
        raise Problem(429, "Busy", "another full verification is running; ask again shortly (the public answer, "
                      "without a key, is the last verified head)", kind="busy",
                      headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
