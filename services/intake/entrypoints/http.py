"""Intake's HTTP API: file reports, follow a submission's status."""
from __future__ import annotations

import time

import orjson
from flask import Flask, current_app, request

from shared.http import ApiBlueprint, Problem, create_app as create_base_app, current_principal, problem_response, require

from ..bootstrap import IntakeService
from ..domain.errors import IdempotencyConflict, NotAllowed
from ..domain.submissions import PENDING
from . import schemas

IDEMPOTENCY_HEADER = "Idempotency-Key"


def create_app(service: IntakeService) -> Flask:
    def ready() -> dict:
        try:
            service.repo.get("-")
            return {"database": "ok"}
        except Exception as exc:
            return {"database": f"unavailable: {exc.__class__.__name__}"}

    app, api = create_base_app("zeroclear.intake", title="zeroclear intake", ready=ready,
                               max_body_bytes=service.settings.max_body_bytes)
    app.extensions["zeroclear.keys"] = service.keys

    @app.errorhandler(NotAllowed)
    def not_allowed(error):
        return problem_response(403, "Not allowed", str(error), kind="forbidden")

    @app.errorhandler(IdempotencyConflict)
    def conflict(error):
        return problem_response(422, "Idempotency-Key reused", str(error), kind="idempotency-conflict")

    api.register_blueprint(_blueprint(service))
    return app


def idempotency_key() -> str | None:
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    if not schemas.IDEMPOTENCY_KEY.match(value):
        raise Problem(400, "Bad Idempotency-Key", "1 to 200 visible ASCII characters", kind="validation",
                      errors=[{"field": f"header:{IDEMPOTENCY_HEADER}", "message": "1 to 200 visible ASCII characters"}])
    return value


def _blueprint(service: IntakeService) -> ApiBlueprint:
    blp = ApiBlueprint("intake", __name__, url_prefix="/v1", description="Submissions to the ledger")
    report_schema = schemas.report_schema(service.reference, service.clock)()  # one instance: built once, not per request

    @blp.route("/reports", methods=["POST"])
    @require("region", "office")
    @blp.arguments(report_schema)
    @blp.response(202, schemas.AcceptedSchema)
    def file_report(data):
        """File a region's annual registration form (排查登记表) or zero report (零报告) for a year.

        Answers 202 at once; the ledger then records it (or a rejection with reasons): follow
        ``status_url``. Send an ``Idempotency-Key`` header to retry safely.
        """
        key = idempotency_key()
        status, answer = service.handlers.file_report(current_principal(), data, path=request.path, idempotency_key=key)
        # The answer is built here rather than dumped through the schema: this is the hot path.
        return current_app.response_class(orjson.dumps(answer), status=status, mimetype="application/json",
                                          headers={"Location": answer["status_url"]})

    @blp.route("/submissions/<submission_id>")
    @require("region", "department", "office", "auditor", "service")
    @blp.arguments(schemas.StatusQuery, location="query")
    @blp.response(200, schemas.SubmissionSchema)
    def submission(args, submission_id):
        """A submission's status: pending, recorded (with its ledger seq and hash) or rejected.

        ``?wait=N`` holds the answer up to N seconds while the submission is still pending.
        """
        row = service.repo.get(submission_id)
        principal = current_principal()
        if row is None or not _may_read(principal, row):
            raise Problem(404, "Not found", "no such submission", kind="not-found")
        deadline = time.monotonic() + args["wait"]
        while row["status"] == PENDING and time.monotonic() < deadline:
            time.sleep(0.05)
            row = service.repo.get(submission_id)
        return row

    return blp


def _may_read(principal, row) -> bool:
    if principal.role in ("office", "auditor", "service"):
        return True
    if principal.role == "region":
        return row["region"] == principal.region
    return row["key_id"] == principal.key_id
