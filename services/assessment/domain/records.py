"""What the assessment's fold keeps of the campaign, record by record: the years (deadline,
expected regions), each region's current report, the capacity items, the tips and the office's
scores, with the positions of the events that made them (the evidence of every lost point)."""
from __future__ import annotations

from dataclasses import dataclass, field

REGISTERED, SCHEDULED, ELIMINATED, VERIFIED, WITHDRAWN = "registered", "scheduled", "eliminated", "verified", "withdrawn"
OPEN = "open"


@dataclass(slots=True)
class YearRecord:
    year: int
    report_due: str
    deadline: str  # the last on-time instant
    time_zone: str
    regions: tuple[str, ...]  # the regions expected to report
    seq: int
    opened_at: str


@dataclass(slots=True)
class ReportRecord:
    """The current report of a (region, year). ``seq``, ``filed_at`` and ``on_time`` are the first
    filing's (an amendment corrects a report, it does not make it late); ``last_seq`` the latest
    version's."""

    region: str
    year: int
    submission_id: str
    seq: int
    filed_at: str
    on_time: bool
    zero_report: bool
    item_ids: list[str]
    last_seq: int
    amendment_seqs: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ItemRecord:
    item_id: str
    region: str
    year: int  # the year of the report (or of the tip resolution) that registered it
    seq: int  # the event that registered it
    created_at: str
    source: str  # "report" or "tip"
    tip_id: str | None
    enterprise: str
    uscc: str
    county: str
    industry: str
    equipment: str
    equipment_count: int
    capacity: str  # decimal text
    unit: str
    target_source: str
    planned_date: str  # YYYY-MM-DD
    method: str
    workers_affected: int
    remarks: str
    status: str = REGISTERED
    event_seqs: list[int] = field(default_factory=list)  # every event that touched it, in order
    workers_resettled: int | None = None
    elimination_seq: int | None = None
    eliminated_at: str | None = None
    verified_seq: int | None = None
    verified_at: str | None = None


@dataclass(slots=True)
class TipRecord:
    tip_id: str
    region: str
    enterprise: str
    uscc: str
    seq: int
    filed_at: str
    due_at: str
    status: str = OPEN  # or confirmed / unfounded / duplicate
    resolved_seq: int | None = None
    resolved_at: str | None = None
    year: int | None = None  # the resolution's year (a confirmed tip's item belongs to it)
    late: bool | None = None
    revealed: str | None = None  # "unreported" / "zero_report" / None
    item_id: str | None = None


@dataclass(slots=True)
class InputRecord:
    """The office's latest score for criterion 2 or 3 of a (region, year)."""

    region: str
    year: int
    criterion: int
    score: str  # decimal text with exactly two decimals, 0.00..100.00
    note: str
    seq: int
    occurred_at: str
    submission_id: str
