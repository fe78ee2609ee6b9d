"""Notify's use cases: issue the alerts due, issue a circular pinned to a log position, the
month's circular on its day, and the scheduler's wake-up that does both.

They take ports (``Protocol`` below), never SQLAlchemy, HTTP or the PDF library: the adapters
satisfy them as they are (``adapters/``), a test with in-memory fakes; ``bootstrap`` wires them."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any, Callable, Mapping, Protocol, TypeVar

import orjson

from shared.clock import Clock, format_instant, parse_instant
from shared.envelope import Envelope
from shared.reference import Reference

from .circulars.content import validate_content
from .domain.alerts import Alert, DueWatch, still_due as alert_still_due
from .domain.campaign import NotifyState
from .domain.circular import ScoresUnavailable, circular_content
from .messages import alert_issued, circular_issued

T = TypeVar("T")


class CircularRefused(ValueError):
    """A circular that cannot be issued as asked (a position not followed yet, or before the last one)."""

    def __init__(self, message: str, field: str = "position"):
        super().__init__(message)
        self.field = field


class Journal(Protocol):
    """The ledger's events as notify has followed them (``shared.journal.EventJournal``)."""

    def head(self) -> int: ...

    def event_at(self, seq: int) -> dict[str, Any] | None: ...


class Campaign(Protocol):
    """The campaign folded from the journal, at any position (``shared.journal.FoldedView``)."""

    def using(self, upto: int | None, use: Callable[[NotifyState], T]) -> T: ...


class Issued(Protocol):
    """Where alerts and circulars are kept with their outbox message (``adapters/repository.py``)."""

    def issue(self, due: list[Alert], message: Callable[[Alert], Envelope], now: str) -> list[dict]:
        """The alerts of ``due`` not issued before, stored and answered."""

    def circular(self, circular_id: str) -> dict | None: ...

    def circulars(self, year: int | None = None) -> list[dict]: ...

    def add_circular(self, row: dict, message: Envelope, now: str) -> tuple[dict, bool] | None:
        """The circular stored (True) or the one already at its id (False); None: its number was taken."""


class Scores(Protocol):
    """The assessment as of a position (``adapters/assessment.py``); ``ScoresUnavailable`` until there."""

    def scores(self, year: int, position: int, wait_seconds: float = 0) -> Mapping[str, Any]: ...


class Checkpoints(Protocol):
    """The ledger's signed checkpoint of tree ``size``, None if it signs none (``adapters/checkpoints.py``)."""

    def at(self, size: int) -> Mapping[str, Any] | None: ...


class Documents(Protocol):
    """A circular's documents (``adapters/documents.py``): JSON, HTML, and PDF (None without a CJK font)."""

    def render(self, content: dict) -> dict[str, bytes | None]: ...

    def document(self, row: dict, fmt: str) -> bytes | None:
        """One of an issued circular's documents, from its stored content; ValueError for an old layout."""


MONTHLY_STAGES = ("mobilisation", "inspection", "push", "acceptance")


class NotifyHandlers:
    def __init__(self, issued: Issued, journal: Journal, campaign: Campaign, scores: Scores,
                 checkpoints: Checkpoints, documents: Documents, clock: Clock, reference: Reference,
                 circular_day: int = 0):
        self.issued, self.journal, self.campaign = issued, journal, campaign
        self.scores, self.checkpoints, self.documents = scores, checkpoints, documents
        self.clock, self.reference, self.circular_day = clock, reference, circular_day
        self.watch = DueWatch()  # what fell due since the scheduler last looked

    def names(self) -> dict[str, str]:
        return {code: region.name for code, region in self.reference.regions.items()}

    def issue_due_alerts(self) -> list[dict]:
        """Issue every alert due now that was not issued before (each onto the ledger): those that
        fell due since the last look (``DueWatch``), all of them if that look's were not issued."""
        now = self.clock.now()
        due = self.campaign.using(None, lambda state: self.watch.look(state, now, self.names()))
        try:
            return self.issued.issue(due, lambda alert: alert_issued(alert, now), format_instant(now))
        except BaseException:
            self.watch.forget()
            raise

    def still_due(self, alert: dict) -> bool:
        """Whether the duty an issued alert is about is still overdue, as the clock and the log say now."""
        now, key = self.clock.now(), (alert["subject"], alert["rule"], alert["level"])
        return self.campaign.using(None, lambda state: alert_still_due(state, now, key))

    def issue_circular(self, year: int, position: int | None = None, period: str | None = None,
                       kind: str = "on_demand", document_no: str | None = None,
                       wait_seconds: float = 0.0) -> tuple[dict, bool]:
        """Issue ``year``'s circular pinned to ``position`` (default: as far as notify has followed
        the log): its content, its documents' hashes onto the ledger. The same position gives the
        same circular (and is not issued twice); returns it and whether it is new. Its ranking is
        the assessment's as of the same position: ``ScoresUnavailable`` (nothing issued) until the
        assessment has followed the log that far (waiting up to ``wait_seconds`` for it)."""
        head = self.journal.head()
        position = head if position is None else position
        if not 1 <= position <= head:
            raise CircularRefused(f"position {position} is not on the log as notify has followed it (1 to {head})")
        # An on-demand circular is one per position; the monthly one, one per month (it may share
        # its position with an on-demand one, as a document of its own).
        circular_id = f"{year}-{position}" if kind == "on_demand" else f"{year}-{period}"
        for _ in range(3):  # another process may take the next number meanwhile: compose again
            found = self.issued.circular(circular_id)
            if found is not None:
                return found, False
            content, now = self._content(year, position, circular_id, period, document_no, wait_seconds)
            row = self._row(content, kind, self.documents.render(content))
            added = self.issued.add_circular(row, circular_issued(row, now), format_instant(now))
            if added is not None:
                return added
        raise CircularRefused(f"circular {circular_id}: other circulars were being issued at the same time; try again")

    def _content(self, year: int, position: int, circular_id: str, period: str | None, document_no: str | None,
                 wait_seconds: float) -> tuple[dict, datetime]:
        """The circular's content, checked (the campaign, the scores and the checkpoint at
        ``position``), and the moment it is issued, which it is dated by."""
        issued = self.issued.circulars(year)
        if issued and issued[-1]["position"] > position:
            raise CircularRefused(f"circular {issued[-1]['circular_id']} is pinned to a later position "
                                  f"({issued[-1]['position']}): circulars follow the log forward")
        previous = orjson.loads(issued[-1]["content"]) if issued else None
        event = self.journal.event_at(position)
        issued_at, head_hash = event["recorded_at"], event["hash"]
        calendar = self.reference.calendar
        today = calendar.business_date(parse_instant(issued_at))
        scores = self.scores.scores(year, position, wait_seconds)
        witness = self.checkpoints.at(position)
        now = self.clock.now()
        content = self.campaign.using(position, lambda state: circular_content(
            state, circular_id=circular_id, year=year, issued_at=issued_at, head_hash=head_hash, today=today.isoformat(),
            period=period or today.strftime("%Y-%m"), names=self.names(), scores=scores, previous=previous,
            document_no=document_no, dated=calendar.business_date(now).isoformat()))
        if witness is not None:
            content["checkpoint"] = dict(witness)
        validate_content(content)
        return content, now

    @staticmethod
    def _row(content: dict, kind: str, documents: Mapping[str, bytes | None]) -> dict:
        """The circular as stored: its JSON document (the bytes hashed) and its documents' SHA-256."""
        digests = {name: hashlib.sha256(body).hexdigest() if body is not None else None for name, body in documents.items()}
        return {"circular_id": content["circular_id"], "year": content["year"], "number": content["number"],
                "period": content["period"], "kind": kind, "position": content["position"],
                "issued_at": content["issued_at"], "content": documents["json"].decode(),
                "json_sha256": digests["json"], "html_sha256": digests["html"], "pdf_sha256": digests["pdf"]}

    def issue_monthly_circular(self) -> dict | None:
        """The month's circular, on its day (``circular_day``), for the month just ended, while a
        campaign runs (from its first stage to the end of acceptance, on the calendar); once."""
        today = self.reference.calendar.business_date(self.clock.now())
        if self.circular_day <= 0 or today.day < self.circular_day:
            return None
        reported = today.replace(day=1) - timedelta(days=1)
        period = reported.strftime("%Y-%m")
        for year in self.campaign.using(None, lambda state: sorted(state.years, reverse=True)):
            if not self._campaign_runs(year, reported):
                continue
            if any(row["kind"] == "monthly" and row["period"] == period for row in self.issued.circulars(year)):
                return None
            try:
                row, _ = self.issue_circular(year, period=period, kind="monthly")
            except (CircularRefused, ScoresUnavailable):
                return None  # tried again at the next wake-up
            return row
        return None

    def _campaign_runs(self, year: int, day: date) -> bool:
        """Whether ``day``'s month is within the campaign of ``year``, from its first stage to its last."""
        stages = (self.reference.calendar.stage(year, name) for name in MONTHLY_STAGES)
        bounds = [bound for stage in stages if stage for bound in stage]
        return bool(bounds) and min(bounds).replace(day=1) <= day <= max(bounds)

    def circular_document(self, row: dict, fmt: str) -> bytes | None:
        """An issued circular as ``json`` (the bytes hashed), ``html`` or ``pdf`` (None: no CJK font)."""
        return self.documents.document(row, fmt)

    def run_schedule(self) -> dict:
        """What the scheduler does at each wake-up: the alerts due, the monthly circular if due."""
        return {"alerts": self.issue_due_alerts(), "circular": self.issue_monthly_circular()}
