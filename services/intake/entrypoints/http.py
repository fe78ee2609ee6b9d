"""Intake's HTTP API: every submission of the campaign (SPEC §4) and the status of each.

Each write is validated field by field here, checked against the caller's territory, stored with
its outbox message in one transaction and answered 202; the ledger then records it or a rejection
with reasons, which ``GET /v1/submissions/<id>`` reports back.

Views are thin functions, registered a few at a time by ``_register_*``; each reaches what it needs
through one object stored on the app (``current_app.extensions[DESK]``: the service's
parts) and calls its handlers."""
from __future__ import annotations

import math
import time

import orjson
from flask import Flask, current_app, request

from shared.forwarded import client_address
from shared.http import (
    ApiBlueprint, Problem, create_app as create_base_app, current_principal, idempotency_key, problem_response, require,
)
from shared.text import with_article

from ..bootstrap import IntakeService
from ..domain.errors import NotAllowed
from ..domain.submissions import (
    DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED, ELIMINATION_REPORTED, PENDING, TIP_RESOLVED, entry_payload,
)
from .forms.reader import FormErrors, read_form
from .forms.template import blank_form
from ..tip_desk import TIP_IDEMPOTENCY_KEY
from . import schemas
from .contract import OPERATIONS

DESK = "zeroclear.intake"


def create_app(service: IntakeService) -> Flask:
    app, api = create_base_app("zeroclear.intake", title="zeroclear intake", database=lambda: service.repo.get("-"),
                               max_body_bytes=service.settings.max_body_bytes, contract=OPERATIONS)
    app.extensions["zeroclear.keys"] = service.keys
    app.config["ZEROCLEAR_ANONYMOUS_PATHS"] = ("/v1/tips",)  # logged without the client, no id taken from outside

    @app.errorhandler(NotAllowed)
    def not_allowed(error):
        return problem_response(403, "Not allowed", str(error), kind="forbidden")

    api.register_blueprint(_blueprint(service))
    return app


def _desk() -> IntakeService:
    return current_app.extensions[DESK]


def _blueprint(service: IntakeService) -> ApiBlueprint:
    blp = ApiBlueprint("intake", __name__, url_prefix="/v1", description="Submissions to the ledger")
    blp.record(lambda state: state.app.extensions.update({DESK: service}))
    _register_reports(blp, service)
    _register_forms(blp, service)
    _register_lists(blp, service)
    _register_decisions(blp, service)
    _register_tips(blp, service)
    return blp


def _register_reports(blp: ApiBlueprint, service: IntakeService) -> None:
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
        status, answer = _desk().handlers.file_report(current_principal(), data, path=request.path, idempotency_key=key)
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
        row = _desk().repo.get(submission_id)
        principal = current_principal()
        if row is None or not _may_read(principal, row):
            raise Problem(404, "Not found", "no such submission", kind="not-found")
        deadline = time.monotonic() + args["wait"]
        while row["status"] == PENDING and time.monotonic() < deadline:
            time.sleep(0.05)
            row = _desk().repo.get(submission_id)
        return row


def accepted(status: int, answer: dict):
    headers = {"Location": answer["status_url"]} if "status_url" in answer else {}
    return current_app.response_class(orjson.dumps(answer), status=status, mimetype="application/json", headers=headers)


def not_found(what: str):
    raise Problem(404, "Not found", what, kind="not-found")


def _item_region(item_id: str) -> str:
    """An item id starts with its region's code (``<region>-<year>-<seq>-<n>``)."""
    return item_id.split("-", 1)[0]


def _register_forms(blp: ApiBlueprint, service: IntakeService) -> None:
    report_schema = schemas.report_schema(service.reference, service.clock)()

    @blp.route("/forms/registration.xlsx")
    @require("region", "office", "department", "auditor")
    @blp.arguments(schemas.form_query_schema(service.reference, service.clock), location="query")
    @blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    def registration_form(args):
        """The blank registration form (排查登记表) for a region and year, with drop-down lists."""
        region, reference = args["region"], _desk().reference
        if region not in reference.regions:
            raise Problem(422, "Unknown region", "Unknown region code (GB/T 2260).", kind="validation",
                          errors=[{"field": "query:region", "message": "Unknown region code (GB/T 2260)."}])
        body = blank_form(reference, region, args["year"])
        return current_app.response_class(body, mimetype=XLSX, headers={
            "Content-Disposition": f'attachment; filename="registration-{region}-{args["year"]}.xlsx"'})

    @blp.route("/reports/upload", methods=["POST"])
    @require("region", "office")
    @blp.arguments(schemas.UploadFields, location="form")
    @blp.response(202, schemas.AcceptedSchema)
    def upload_report(fields):
        """File a registration form as the filled-in spreadsheet (multipart: the fields and ``file``).

        Either the whole form is accepted, or nothing is recorded and the answer lists every bad
        cell: its row as the sheet shows it, its column and header, the reason in Chinese and English.
        """
        upload = request.files.get("file")
        if upload is None:
            raise Problem(422, "No file", "attach the filled-in form as the multipart field 'file'", kind="validation",
                          errors=[{"field": "file", "message": "Missing file.", "message_zh": "未上传文件"}])
        service = _desk()
        try:
            form = read_form(upload.read(), service.reference, region=fields["region"], year=fields["year"],
                             max_bytes=service.settings.max_body_bytes)
        except FormErrors as exc:
            raise Problem(422, "The form has errors", f"{len(exc.errors)} problem(s); nothing was recorded",
                          kind="form-errors", errors=exc.errors) from None
        body = {**fields, "zero_report": False, "entries": form.entries, **({"filer": form.filer} if form.filer else {})}
        data = report_schema.load(body)  # the same rules as the JSON API; row errors were caught above
        key = idempotency_key()
        status, answer = service.handlers.file_report(current_principal(), data, path=request.path, idempotency_key=key)
        return accepted(status, answer)


def _register_lists(blp: ApiBlueprint, service: IntakeService) -> None:
    list_schema = schemas.department_list_schema(service.reference, service.clock)()
    elimination_schema = schemas.elimination_schema(service.reference, service.clock)()

    @blp.route("/department-lists", methods=["POST"])
    @require("department", "office")
    @blp.arguments(list_schema)
    @blp.response(202, schemas.AcceptedSchema)
    def department_list(data):
        """A department's list of non-compliant enterprises (emissions, energy, quality, safety);
        the ledger cross-checks it with the regions' reports (discrepancies, resurgences)."""
        principal = current_principal()
        department = principal.department if principal.role == "department" else data.get("department")
        if principal.role == "department" and data.get("department") not in (None, department):
            raise NotAllowed(f"{with_article(department)} key files only its own department's list")
        if department is None:
            raise Problem(422, "Which department?", "an office key names the department", kind="validation",
                          errors=[{"field": "department", "message": "Missing data for required field."}])
        entries = [dict(e) for e in data["entries"]]
        return accepted(*_desk().handlers.submit(
            principal, "department_list", DEPARTMENT_LIST_FILED,
            lambda sid: {"submission_id": sid, "department": department, "year": data["year"], "entries": entries},
            region=None, year=data["year"], data=data, path=request.path, idempotency_key=idempotency_key()))

    @blp.route("/eliminations", methods=["POST"])
    @require("region", "office")
    @blp.arguments(elimination_schema)
    @blp.response(202, schemas.AcceptedSchema)
    def elimination(data):
        """A region reports a line eliminated; the office then verifies or rejects it."""
        principal = current_principal()
        region = _item_region(data["item_id"])
        if principal.role == "region" and region != principal.region:
            not_found(f"no capacity item {data['item_id']} in your region")
        payload = {"region": region, "item_id": data["item_id"], "eliminated_on": data["eliminated_on"].isoformat(),
                   "method": data["method"], "evidence": data["evidence"], "workers_resettled": data["workers_resettled"]}
        return accepted(*_desk().handlers.submit(
            principal, "elimination", ELIMINATION_REPORTED, lambda sid: {"submission_id": sid, **payload},
            region=region, year=None, data=data, path=request.path, idempotency_key=idempotency_key()))


def _register_decisions(blp: ApiBlueprint, service: IntakeService) -> None:
    resolution_schema = schemas.tip_resolution_schema(service.reference)()

    @blp.route("/verifications", methods=["POST"])
    @require("office")
    @blp.arguments(schemas.VerificationSchema)
    @blp.response(202, schemas.AcceptedSchema)
    def verification(data):
        """The office verifies (检查验收) or rejects a reported elimination, with a reason."""
        payload = {"item_id": data["item_id"], "decision": data["decision"], "reason": data["reason"]}
        return accepted(*_desk().handlers.submit(
            current_principal(), "verification", ELIMINATION_DECIDED, lambda sid: {"submission_id": sid, **payload},
            region=_item_region(data["item_id"]), year=None, data=data, path=request.path,
            idempotency_key=idempotency_key()))

    @blp.route("/tips/<tip_id>/resolution", methods=["POST"])
    @require("region", "office")
    @blp.arguments(resolution_schema)
    @blp.response(202, schemas.AcceptedSchema)
    def tip_resolution(data, tip_id):
        """The tip's region (or the office) resolves it: confirmed (its capacity enters the
        ledger, source "tip"), unfounded or duplicate, with a public explanation."""
        principal = current_principal()
        tip = _desk().repo.tip(tip_id=tip_id)
        if tip is None or (principal.role == "region" and tip["region"] != principal.region):
            not_found(f"no tip {tip_id}")
        entry = entry_payload(data["entry"]) if data.get("entry") else None
        payload = {"tip_id": tip_id, "resolution": data["resolution"], "explanation": data["explanation"],
                   "duplicate_of": data.get("duplicate_of"), "entry": entry}
        return accepted(*_desk().handlers.submit(
            principal, "tip_resolution", TIP_RESOLVED, lambda sid: {"submission_id": sid, **payload},
            region=tip["region"], year=None, data=data, path=request.path, idempotency_key=idempotency_key()))


def _register_tips(blp: ApiBlueprint, service: IntakeService) -> None:
    tip_schema = schemas.tip_schema(service.reference)()

    @blp.route("/tips", methods=["POST"])
    @blp.arguments(tip_schema)
    @blp.response(201, schemas.TipReceiptSchema)
    def file_tip(data):
        """File an anonymous tip (举报): no key, no address or identity kept; an optional contact
        is stored encrypted. The answer gives the receipt code ONCE (only its hash is kept) and,
        once the ledger has recorded the tip, a signed acknowledgement of its log position."""
        service = _desk()
        tips = service.tips
        allowed, retry_after = tips.allow(tip_client())
        if not allowed:
            raise Problem(429, "Too many tips", "try again later", kind="rate-limited",
                          headers={"Retry-After": str(max(1, math.ceil(retry_after)))})
        status, answer = service.handlers.file_tip(tips.intent(data, path=request.path, idempotency_key=tip_idempotency_key()))
        deadline = time.monotonic() + service.settings.tip_wait_seconds
        row = service.repo.tip(tip_id=answer["tip_id"])
        while row is not None and row["status"] == PENDING and time.monotonic() < deadline:
            time.sleep(0.05)
            row = service.repo.tip(tip_id=answer["tip_id"])
        if row is not None and row["seq"] is not None:
            answer = {**answer, **tips.status(row), "receipt": answer["receipt"]}
            status = 201
        return current_app.response_class(orjson.dumps(answer), status=status, mimetype="application/json",
                                          headers={"Cache-Control": "no-store"})

    @blp.route("/tips/lookup", methods=["POST"])
    @blp.arguments(schemas.TipLookupSchema)
    @blp.response(200, schemas.TipStatusSchema)
    def lookup_tip(data):
        """Follow a tip with its receipt (sent in the body, never in a URL): status, the published
        outcome and the signed acknowledgement."""
        tips = _desk().tips
        allowed, retry_after = tips.allow(tip_client())
        if not allowed:
            raise Problem(429, "Too many lookups", "try again later", kind="rate-limited",
                          headers={"Retry-After": str(max(1, math.ceil(retry_after)))})
        row = tips.find(data["receipt"])
        if row is None:
            not_found("no tip has this receipt")
        answer = tips.status(row)
        if row["seq"] is not None:
            proof = _desk().proofs.inclusion(row["seq"])
            if proof is not None:
                answer["inclusion"] = proof
        return answer

    @blp.route("/tips/signing-key")
    @blp.response(200, schemas.SigningKeySchema)
    def signing_key():
        """The public key that checks a tip's acknowledgement (Ed25519 over its RFC 8785 form)."""
        return _desk().tips.public_key()


def tip_client() -> str:
    """The client to rate-limit: behind a trusted proxy (the portal), the one it names in
    X-Forwarded-For (ZEROCLEAR_INTAKE_TRUSTED_PROXIES); the address is not kept."""
    return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                          _desk().settings.trusted_proxies)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def tip_idempotency_key() -> str | None:
    """An anonymous tip's Idempotency-Key: 32 to 200 visible characters, random (a UUID will do),
    for nothing else binds a retry to its sender (see ``tip_desk``)."""
    key = idempotency_key()
    if key is not None and not TIP_IDEMPOTENCY_KEY.match(key):
        message = "an anonymous tip's key: 32 to 200 visible ASCII characters, random (a UUID will do)"
        raise Problem(400, "Bad Idempotency-Key", message, kind="validation",
                      errors=[{"field": "header:Idempotency-Key", "message": message,
                               "message_zh": "匿名举报的幂等键须为 32 至 200 个随机可见字符（可用 UUID）"}])
    return key


def _may_read(principal, row) -> bool:
    if principal.role in ("office", "auditor", "service"):
        return True
    if principal.role == "region":
        return row["region"] == principal.region
    return row["key_id"] == principal.key_id
