"""The assessment service's HTTP API (SPEC §6): every region's draft or final scores for a year as
of any log position, the office's inputs for the two judged criteria, and publication.

Scores are computed from the service's own copy of the ledger's events with the same code that
``zeroclear assess --from-export`` runs offline, so an auditor recomputes the same numbers.

Views are thin functions, registered a few at a time by ``_register_*``; each reaches what it needs
through one object stored on the app (``current_app.extensions[DESK]``) and calls it."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from flask import Flask, current_app, request

from shared.clock import format_instant, parse_instant, parse_position
from shared.http import (
    ApiBlueprint, Problem, create_app as create_base_app, current_principal, idempotency_key, require,
)

from ..bootstrap import Service
from ..domain.scoring import default_cut_off
from ..handlers import AlreadyPublished, Caller, InputsMissing, NothingToCorrect, WitnessDown
from . import schemas
from .contract import OPERATIONS
from .memo import Busy, Memo, Scorings

DESK = "zeroclear.assessment"
READERS = ("office", "auditor", "service", "region")


def create_app(service: Service) -> Flask:
    app, api = create_base_app("zeroclear.assessment", title="zeroclear assessment", database=service.repo.journal.head,
                               max_body_bytes=service.settings.max_body_bytes, contract=OPERATIONS)
    app.extensions["zeroclear.keys"] = service.keys
    api.register_blueprint(_blueprint(service))
    return app


class Desk:
    """What the views need: the scores as of any log position (each computed once, one at a time,
    see ``memo``), the use cases, the submissions' status."""

    def __init__(self, service: Service):
        self.service, self.handlers = service, service.handlers
        self.scorings = Scorings(wait_seconds=service.settings.score_wait_seconds)
        service.on_close.append(self.scorings.close)
        self.memo = Memo(size=64)  # small answers fixed at a position (a year's publication)

    def position(self, as_of: str | None) -> int | None:
        """The log position ``as_of`` names (a seq or an ISO time); None: the latest kept."""
        if not as_of:
            return None
        try:
            seq, recorded_at = parse_position(as_of)
        except ValueError as exc:
            raise Problem(400, "Bad as_of", f"the query parameter as_of must be {exc}", kind="validation",
                          errors=[{"field": "query:as_of", "message": str(exc)}]) from None
        if seq is None:
            return self.service.repo.journal.position_at(recorded_at)
        head = self.service.repo.journal.head()
        if seq > head:
            raise Problem(409, "Not there yet", f"the assessment has followed the log to {head}, not {seq}",
                          kind="not-yet", errors=[{"field": "query:as_of", "message": f"at most {head}"}])
        return seq

    def cut_off_of(self, year: int, args: Mapping[str, Any]) -> str:
        """The cut-off asked for, or the end of the year's acceptance stage."""
        if not self.service.reference.calendar.first_year <= year <= 2999:
            raise Problem(404, "Not found", f"the campaign has no year {year}", kind="not-found")
        if args.get("cut_off"):
            return format_instant(parse_instant(args["cut_off"]))
        return default_cut_off(self.service.reference.calendar, year)

    def result(self, year: int, args: Mapping[str, Any]) -> dict:
        return self.both(year, args)[0]

    def summary(self, year: int, args: Mapping[str, Any]) -> dict:
        return self.both(year, args)[1]

    def both(self, year: int, args: Mapping[str, Any]) -> tuple[dict, dict]:
        """The year's scores and the province's summary as of the position asked for (default:
        the head). An answer at a position never changes: it is kept by position (see ``memo``),
        and a new position scores again only the regions whose events moved
        (``adapters/regional.py``)."""
        cut_off = self.cut_off_of(year, args)
        position = self.position(args.get("as_of"))
        if position is None:
            position = self.service.repo.journal.head()
        try:
            return self.scorings.get((position, year, cut_off), lambda: self.service.scores.both(year, cut_off, position))
        except Busy as busy:
            raise Problem(503, "Busy scoring", f"the scores as of {position} under cut-off {cut_off}: {busy}",
                          kind="unavailable", headers={"Retry-After": str(busy.retry_after)}) from None

    def with_publication(self, found: dict) -> dict:
        """The result, and the year's latest publication on the log up to its position: once the
        year is published it is ``final`` (the published numbers are those ``as_of`` its position
        shows, with its digest); before, ``draft`` while an office input is missing, else
        ``provisional``."""
        published = self.memo.get(("published", found["year"], found["position"]),  # fixed at a position too
                                  lambda: self.service.repo.publication(found["year"], upto=found["position"]))
        status = "final" if published is not None else "draft" if found["draft"] else "provisional"
        return {**found, "published": published, "status": status}

    def submission(self, submission_id: str, wait: float) -> dict:
        """A submission's row, held up to ``wait`` seconds while it is pending."""
        row = self.service.repo.submission(submission_id)
        if row is None:
            raise Problem(404, "Not found", "no such submission", kind="not-found")
        deadline = time.monotonic() + wait
        while row["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
            row = self.service.repo.submission(submission_id)
        return row


def _desk() -> Desk:
    return current_app.extensions[DESK]


def _visible(found: dict) -> dict:
    """A region key sees its own region's row only."""
    principal = current_principal()
    if principal.role != "region":
        return found
    return {**found, "regions": [r for r in found["regions"] if r["region"] == principal.region]}


def _caller() -> Caller:
    return Caller(current_principal(), request.path, idempotency_key())


@contextmanager
def _refusals() -> Iterator[None]:
    """The use cases' refusals as problem answers."""
    try:
        yield
    except InputsMissing as exc:
        raise Problem(409, "Inputs missing", f"{len(exc.missing)} region(s) lack the office's scores; nothing published"
                      if exc.missing else f"no region is expected to report for {exc.year}", kind="inputs-missing",
                      missing=exc.missing) from None
    except NothingToCorrect as exc:
        raise Problem(409, "Nothing to correct", f"{exc} is not published yet", kind="not-published") from None
    except AlreadyPublished as exc:
        official = exc.official
        raise Problem(409, "Already published", f"{exc.year} is published (seq {official['seq']}, digest "
                      f"{official['digest']}); a correction names it (corrects) and says why (reason)",
                      kind="already-published", published=official) from None
    except WitnessDown as exc:
        raise Problem(503, "Ledger unavailable", f"the ledger cannot sign the checkpoint this publication "
                      f"carries: {exc}", kind="unavailable", headers={"Retry-After": "5"}) from None


def _blueprint(service: Service) -> ApiBlueprint:
    blp = ApiBlueprint("assessment", __name__, url_prefix="/v1", description="考核: scores per region and year")
    desk = Desk(service)
    blp.record(lambda state: state.app.extensions.update({DESK: desk}))
    _register_scores(blp)
    _register_submissions(blp, schemas.input_schema(service.reference, service.clock)())
    return blp


def _register_scores(blp: ApiBlueprint) -> None:
    @blp.route("/assessments/<int:year>")
    @require(*READERS)
    @blp.arguments(schemas.AssessmentQuery, location="query")
    @blp.response(200, schemas.AssessmentSchema)
    def year_assessment(args, year):
        """Every region's five criteria, total, grade, cleared (清零) or not, draft or final, and for
        each lost point the events (``seq``) that caused it; as of now or ``as_of``."""
        return _visible(_desk().with_publication(_desk().result(year, args)))

    @blp.route("/assessments/<int:year>/summary")
    @require("office", "auditor", "service")
    @blp.arguments(schemas.AssessmentQuery, location="query")
    @blp.response(200, schemas.SummarySchema)
    def summary(args, year):
        """The province: regions cleared, capacity eliminated and verified per industry (in its
        unit), and the ranking."""
        return _desk().summary(year, args)

    @blp.route("/assessments/<int:year>/<region>")
    @require(*READERS)
    @blp.arguments(schemas.AssessmentQuery, location="query")
    @blp.response(200, schemas.RegionAssessmentSchema)
    def region_assessment(args, year, region):
        """One region's assessment (404 for another region's, to a region key)."""
        principal = current_principal()
        found = _desk().result(year, args)
        row = next((r for r in found["regions"] if r["region"] == region), None)
        if row is None or (principal.role == "region" and principal.region != region):
            raise Problem(404, "Not found", f"no assessment of {region} for {year}", kind="not-found")
        return {"year": year, "cut_off": found["cut_off"], "position": found["position"], **row}


def _register_submissions(blp: ApiBlueprint, input_schema) -> None:
    @blp.route("/assessment-inputs", methods=["POST"])
    @require("office")
    @blp.arguments(input_schema)
    @blp.response(202, schemas.AcceptedSchema)
    def assessment_input(data):
        """The office's score (0–100, with a note) for criterion 2 (leadership and coordination) or
        3 (policy support) of a region's year; it goes onto the log, and a later one replaces it."""
        with _refusals():
            return _desk().handlers.file_input(_caller(), data)

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
        with _refusals():
            return _desk().handlers.publish(_caller(), year, data, _desk())

    @blp.route("/submissions/<submission_id>")
    @require("office", "auditor", "service")
    @blp.arguments(schemas.StatusQuery, location="query")
    @blp.response(200, schemas.SubmissionSchema)
    def submission(args, submission_id):
        """An input's or a publication's status: pending, recorded (with its ledger seq and hash)
        or rejected (with the ledger's reasons). ``?wait=N`` holds the answer while pending."""
        return _desk().submission(submission_id, args["wait"])
