"""The assessment service's HTTP API (SPEC §6): every region's draft or final scores for a year as
of any log position, the office's inputs for the two judged criteria, and publication.

Scores are computed from the service's own copy of the ledger's events with the same code that
``zeroclear assess --from-export`` runs offline, so an auditor recomputes the same numbers."""
from __future__ import annotations

import time

from flask import Flask, request

from shared.clock import format_instant, parse_instant, parse_position
from shared.envelope import new_envelope, new_id
from shared.idempotency import Ticket
from shared.witness import WitnessUnavailable
from shared.http import (
    ApiBlueprint, Problem, create_app as create_base_app, current_principal, idempotency_key, require,
)

from ..bootstrap import Service
from ..domain.scoring import assess, default_cut_off, province_summary
from . import schemas
from .contract import OPERATIONS
from .memo import Memo

INPUT_FILED = "assessment.input_filed.v1"
PUBLISHED = "assessment.published.v1"
READERS = ("office", "auditor", "service", "region")


def create_app(service: Service) -> Flask:
    app, api = create_base_app("zeroclear.assessment", title="zeroclear assessment", database=service.repo.journal.head,
                               max_body_bytes=service.settings.max_body_bytes, contract=OPERATIONS)
    app.extensions["zeroclear.keys"] = service.keys
    api.register_blueprint(_blueprint(service))
    return app


def _blueprint(service: Service) -> ApiBlueprint:
    blp = ApiBlueprint("assessment", __name__, url_prefix="/v1", description="考核: scores per region and year")
    names = {code: region.name for code, region in service.reference.regions.items()}
    memo = Memo()

    def position(as_of: str | None) -> int | None:
        """The log position ``as_of`` names (a seq or an ISO time); None: the latest kept."""
        if not as_of:
            return None
        try:
            seq, recorded_at = parse_position(as_of)
        except ValueError as exc:
            raise Problem(400, "Bad as_of", f"the query parameter as_of must be {exc}", kind="validation",
                          errors=[{"field": "query:as_of", "message": str(exc)}]) from None
        if seq is None:
            return service.repo.journal.position_at(recorded_at)
        head = service.repo.journal.head()
        if seq > head:
            raise Problem(409, "Not there yet", f"the assessment has followed the log to {head}, not {seq}",
                          kind="not-yet", errors=[{"field": "query:as_of", "message": f"at most {head}"}])
        return seq

    def known_year(year: int) -> None:
        if not service.reference.calendar.first_year <= year <= 2999:
            raise Problem(404, "Not found", f"the campaign has no year {year}", kind="not-found")

    def cut_off_of(year: int, args: dict) -> str:
        """The cut-off asked for, or the end of the year's acceptance stage."""
        known_year(year)
        if args.get("cut_off"):
            return format_instant(parse_instant(args["cut_off"]))
        return default_cut_off(service.reference.calendar, year)

    def scores(state, year: int, cut_off: str) -> dict:
        return memo.get(("scores", state.seq, year, cut_off), lambda: assess(
            state, year, cut_off=cut_off, weights=service.weights, names=names))

    def result(year: int, args: dict) -> dict:
        cut_off = cut_off_of(year, args)
        return service.model.using(position(args.get("as_of")), lambda state: scores(state, year, cut_off))

    def with_publication(found: dict) -> dict:
        """The result, and the year's latest publication on the log up to its position: once the
        year is published it is ``final`` (the published numbers are those ``as_of`` its position
        shows, with its digest); before, ``draft`` while an office input is missing, else
        ``provisional``."""
        published = service.repo.publication(found["year"], upto=found["position"])
        status = "final" if published is not None else "draft" if found["draft"] else "provisional"
        return {**found, "published": published, "status": status}

    def visible(found: dict) -> dict:
        """A region key sees its own region's row only."""
        principal = current_principal()
        if principal.role != "region":
            return found
        return {**found, "regions": [r for r in found["regions"] if r["region"] == principal.region]}

    @blp.route("/assessments/<int:year>")
    @require(*READERS)
    @blp.arguments(schemas.AssessmentQuery, location="query")
    @blp.response(200, schemas.AssessmentSchema)
    def year_assessment(args, year):
        """Every region's five criteria, total, grade, cleared (清零) or not, draft or final, and for
        each lost point the events (``seq``) that caused it; as of now or ``as_of``."""
        return visible(with_publication(result(year, args)))

    @blp.route("/assessments/<int:year>/summary")
    @require("office", "auditor", "service")
    @blp.arguments(schemas.AssessmentQuery, location="query")
    @blp.response(200, schemas.SummarySchema)
    def summary(args, year):
        """The province: regions cleared, capacity eliminated and verified per industry (in its
        unit), and the ranking."""
        cut_off = cut_off_of(year, args)

        def both(state):
            return memo.get(("summary", state.seq, year, cut_off),
                            lambda: province_summary(state, year, cut_off, scores(state, year, cut_off)))
        return service.model.using(position(args.get("as_of")), both)

    @blp.route("/assessments/<int:year>/<region>")
    @require(*READERS)
    @blp.arguments(schemas.AssessmentQuery, location="query")
    @blp.response(200, schemas.RegionAssessmentSchema)
    def region_assessment(args, year, region):
        """One region's assessment (404 for another region's, to a region key)."""
        principal = current_principal()
        found = result(year, args)
        row = next((r for r in found["regions"] if r["region"] == region), None)
        if row is None or (principal.role == "region" and principal.region != region):
            raise Problem(404, "Not found", f"no assessment of {region} for {year}", kind="not-found")
        return {"year": year, "cut_off": found["cut_off"], "position": found["position"], **row}

    @blp.route("/assessment-inputs", methods=["POST"])
    @require("office")
    @blp.arguments(schemas.input_schema(service.reference, service.clock)())
    @blp.response(202, schemas.AcceptedSchema)
    def assessment_input(data):
        """The office's score (0–100, with a note) for criterion 2 (leadership and coordination) or
        3 (policy support) of a region's year; it goes onto the log, and a later one replaces it."""
        payload = {"region": data["region"], "year": data["year"], "criterion": data["criterion"],
                   "score": data["score"], "note": data["note"]}
        return submit(INPUT_FILED, "input", payload, region=data["region"], year=data["year"], body=data)

    @blp.route("/assessments/<int:year>/publish", methods=["POST"])
    @require("office")
    @blp.arguments(schemas.PublishSchema)
    @blp.response(202, schemas.AcceptedSchema)
    def publish(data, year):
        """Publish the year's assessment as it stands on the log now: the scores, weights, cut-off,
        the log position they were computed at and their digest are recorded on the ledger.
        Every office input must be in; otherwise 409 lists what is missing. A year is published
        once: a later publication is a correction, naming the official one it replaces
        (``corrects``: its seq) and why (``reason``); every reader then shows the correction."""
        found = result(year, {"cut_off": data.get("cut_off")})
        missing = [{"region": r["region"], "criteria": r["missing_inputs"]} for r in found["regions"] if r["missing_inputs"]]
        if missing or not found["regions"]:
            raise Problem(409, "Inputs missing", f"{len(missing)} region(s) lack the office's scores; nothing published"
                          if missing else f"no region is expected to report for {year}", kind="inputs-missing",
                          missing=missing)
        correction = correction_of(year, data)
        payload = {"year": year, "cut_off": found["cut_off"], "position": found["position"], "digest": found["digest"],
                   "result": found, **correction, **witness(found["position"])}
        answer, status = submit(PUBLISHED, "publication", payload, region=None, year=year,
                                body={"year": year, "position": found["position"], "digest": found["digest"],
                                      **correction})
        return {**answer, "digest": found["digest"], "position": found["position"]}, status

    def witness(position: int) -> dict:
        """The ledger's signed checkpoint at the publication's position, carried on the log with it."""
        if service.witness is None:
            return {}
        try:
            checkpoint = service.witness.checkpoint_at(position)
        except WitnessUnavailable as exc:
            raise Problem(503, "Ledger unavailable", f"the ledger cannot sign the checkpoint this publication "
                          f"carries: {exc}", kind="unavailable", headers={"Retry-After": "5"}) from None
        return {} if checkpoint is None else {"checkpoint": checkpoint}

    def correction_of(year: int, data: dict) -> dict:
        """What a publication must say when the year is published already: which one it replaces and why."""
        official = service.repo.publication(year)
        if official is None:
            if data.get("corrects") is not None:
                raise Problem(409, "Nothing to correct", f"{year} is not published yet", kind="not-published")
            return {}
        if data.get("corrects") != official["seq"]:
            raise Problem(409, "Already published", f"{year} is published (seq {official['seq']}, digest "
                          f"{official['digest']}); a correction names it (corrects) and says why (reason)",
                          kind="already-published", published=official)
        return {"replaces": official["seq"], "reason": data["reason"]}

    def submit(message_type: str, kind: str, payload: dict, *, region, year, body: dict):
        principal = current_principal()
        key = idempotency_key()
        submission_id = new_id()
        message = new_envelope(message_type, {"submission_id": submission_id, **payload}, actor=principal.actor,
                               occurred_at=service.clock.now(), id=submission_id)
        answer = {"submission_id": submission_id, "status": "pending", "status_url": f"/v1/submissions/{submission_id}"}
        reply = service.repo.submit(message, kind=kind, region=region, year=year, answer=answer,
                                    ticket=Ticket.of(principal.key_id, key, request.path, body))
        return reply.body, reply.status

    @blp.route("/submissions/<submission_id>")
    @require("office", "auditor", "service")
    @blp.arguments(schemas.StatusQuery, location="query")
    @blp.response(200, schemas.SubmissionSchema)
    def submission(args, submission_id):
        """An input's or a publication's status: pending, recorded (with its ledger seq and hash)
        or rejected (with the ledger's reasons). ``?wait=N`` holds the answer while pending."""
        row = service.repo.submission(submission_id)
        if row is None:
            raise Problem(404, "Not found", "no such submission", kind="not-found")
        deadline = time.monotonic() + args["wait"]
        while row["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
            row = service.repo.submission(submission_id)
        return row

    return blp
