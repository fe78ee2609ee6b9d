"""The ledger's state: a pure fold of recorded events.

The same fold serves the writer (to judge the next fact), the live projection tables, and
``replay --as-of``; the state digest is a hash of its canonical snapshot, so live, replayed and
exported states can be compared by one number.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Protocol

from .chain import GENESIS, state_digest
from .events import ENTRY_FIELDS, REPORT_FILED, YEAR_OPENED, parse_year_opened


class Recorded(Protocol):
    seq: int
    type: str
    stream: str
    stream_version: int
    occurred_at: str
    recorded_at: str
    payload: Any
    hash: str


@dataclass
class YearRecord:
    year: int
    report_due: str
    deadline: str
    time_zone: str
    regions: list[str]
    opened_seq: int


@dataclass
class ReportRecord:
    region: str
    year: int
    submission_id: str
    seq: int
    filed_at: str
    document_no: str
    signed_by: str
    zero_report: bool
    on_time: bool
    item_ids: list[str]


@dataclass
class CapacityItem:
    item_id: str
    region: str
    year: int
    report_seq: int
    enterprise: str
    uscc: str
    county: str
    industry: str
    equipment: str
    equipment_count: int
    capacity: str
    unit: str
    target_source: str
    planned_date: str
    method: str
    workers_affected: int
    remarks: str
    status: str


@dataclass
class Touched:
    """The projection rows a batch of events changed; ``created`` holds (kind, key) of those
    that did not exist before it (nothing to delete before writing them)."""

    years: set[int] = field(default_factory=set)
    reports: set[tuple[str, int]] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    created: set[tuple[str, Any]] = field(default_factory=set)

    def update(self, other: "Touched") -> None:
        self.years |= other.years
        self.reports |= other.reports
        self.items |= other.items
        self.created |= other.created


@dataclass
class LedgerState:
    seq: int = 0
    head: str = GENESIS
    recorded_at: str = ""
    years: dict[int, YearRecord] = field(default_factory=dict)
    reports: dict[tuple[str, int], ReportRecord] = field(default_factory=dict)
    items: dict[str, CapacityItem] = field(default_factory=dict)
    streams: dict[str, int] = field(default_factory=dict)

    def apply(self, event: Recorded) -> Touched:
        if event.seq != self.seq + 1:
            raise ValueError(f"fold out of order: at {self.seq}, given {event.seq}")
        touched = Touched()
        handler = _FOLDS.get(event.type)
        if handler is not None:
            handler(self, event, touched)
        self.seq, self.head, self.recorded_at = event.seq, event.hash, event.recorded_at
        self.streams[event.stream] = event.stream_version
        return touched

    def apply_all(self, events: Iterable[Recorded]) -> "LedgerState":
        for event in events:
            self.apply(event)
        return self

    def snapshot(self) -> dict[str, Any]:
        """Everything a reader can see, in a canonical-JSON-ready shape (no positions)."""
        return {
            "years": {str(y): asdict(r) for y, r in sorted(self.years.items())},
            "reports": {f"{r}/{y}": asdict(rec) for (r, y), rec in sorted(self.reports.items())},
            "items": {i: asdict(item) for i, item in sorted(self.items.items())},
        }

    def digest(self) -> str:
        return state_digest(self.snapshot())


def _fold_year_opened(state: LedgerState, event: Recorded, touched: Touched) -> None:
    opened = parse_year_opened(event.payload)
    if opened.year not in state.years:
        touched.created.add(("years", opened.year))
    state.years[opened.year] = YearRecord(opened.year, opened.report_due, opened.deadline, opened.time_zone,
                                          list(opened.regions), event.seq)
    touched.years.add(opened.year)


def _fold_report_filed(state: LedgerState, event: Recorded, touched: Touched) -> None:
    """Trusts the payload: the ledger validated and normalised it before recording it, and a
    replay folds only events whose hashes it has just checked."""
    report = event.payload
    region, year = report["region"], report["year"]
    item_ids = []
    for number, entry in enumerate(report["entries"], start=1):
        item_id = f"{region}-{year}-{event.seq}-{number}"
        state.items[item_id] = CapacityItem(item_id, region, year, event.seq, status="registered",
                                            **{name: entry[name] for name in ENTRY_FIELDS})
        item_ids.append(item_id)
    touched.items.update(item_ids)
    touched.created.update(("items", item_id) for item_id in item_ids)
    if (region, year) not in state.reports:
        touched.created.add(("reports", (region, year)))
    state.reports[(region, year)] = ReportRecord(
        region=region, year=year, submission_id=report["submission_id"], seq=event.seq,
        filed_at=event.occurred_at, document_no=report["document_no"], signed_by=report["signed_by"],
        zero_report=report["zero_report"], on_time=event.occurred_at <= state.years[year].deadline, item_ids=item_ids,
    )
    touched.reports.add((region, year))


# A rejection changes no projection: it stays on the log and in the stream's history.
_FOLDS = {YEAR_OPENED: _fold_year_opened, REPORT_FILED: _fold_report_filed}
