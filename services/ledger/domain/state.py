"""The ledger's state: a pure fold of recorded events.

The same fold serves the writer (to judge the next fact), the live projection tables, and
``replay --as-of``; the state digest is a hash of its canonical snapshot, so live, replayed and
exported states can be compared by one number.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from operator import attrgetter, itemgetter
from typing import Any, Iterable, Protocol

import orjson

from .chain import GENESIS, STATE_TAG
from .events import REPORT_FILED, YEAR_OPENED, parse_year_opened


class Recorded(Protocol):
    seq: int
    type: str
    stream: str
    stream_version: int
    occurred_at: str
    recorded_at: str
    payload: Any
    hash: str


@dataclass(slots=True)
class YearRecord:
    year: int
    report_due: str
    deadline: str
    time_zone: str
    regions: list[str]
    opened_seq: int


@dataclass(slots=True)
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


@dataclass(slots=True)
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
        handler = FOLDS.get(event.type)
        if handler is not None:
            handler(self, event.seq, event.occurred_at, event.payload, touched)
        self.seq, self.head, self.recorded_at = event.seq, event.hash, event.recorded_at
        self.streams[event.stream] = event.stream_version
        return touched

    def apply_all(self, events: Iterable[Recorded]) -> "LedgerState":
        for event in events:
            self.apply(event)
        return self

    def snapshot(self) -> dict[str, Any]:
        """Everything a reader can see, in a canonical-JSON-ready shape (no positions): what
        ``dataclasses.asdict`` gives for each record (lists copied), built ten times faster."""
        year, report, item = plain_record(YearRecord), plain_record(ReportRecord), plain_record(CapacityItem)
        return {
            "years": {str(y): year(r) for y, r in sorted(self.years.items())},
            "reports": {f"{r}/{y}": report(rec) for (r, y), rec in sorted(self.reports.items())},
            "items": {i: item(it) for i, it in sorted(self.items.items())},
        }

    def digest(self) -> str:
        """``state_digest(self.snapshot())``, hashed record by record along the canonical text of
        the snapshot, without building the snapshot (four times faster on a large state)."""
        digest = hashlib.sha256(STATE_TAG)
        for name, records, plain in (
            ("items", self.items.items(), plain_record(CapacityItem)),
            ("reports", ((f"{r}/{y}", rec) for (r, y), rec in self.reports.items()), plain_record(ReportRecord)),
            ("years", ((str(y), rec) for y, rec in self.years.items()), plain_record(YearRecord)),
        ):
            # canonical order: the snapshot's keys "items" < "reports" < "years", each one's
            # records by key (code point order, as orjson sorts), each record's fields sorted.
            digest.update(b'{"items":{' if name == "items" else b'},"' + name.encode() + b'":{')
            separator, chunk = b"", []
            for key, record in sorted(records, key=_first):
                chunk.append(_dumps(key) + b":" + _dumps(plain(record), option=_SORT_KEYS))
                if len(chunk) == 512:
                    digest.update(separator + b",".join(chunk))
                    separator, chunk = b",", []
            if chunk:
                digest.update(separator + b",".join(chunk))
        digest.update(b"}}")
        return digest.hexdigest()


def plain_record(cls: type) -> Any:
    """A function giving ``asdict(record)`` for a record of ``cls``, whose fields hold scalars and
    lists of scalars (the lists are copied, as ``asdict`` copies them)."""
    maker = _PLAIN.get(cls)
    if maker is None:
        names = tuple(f.name for f in fields(cls))
        values = attrgetter(*names)
        lists = [n for n, f in enumerate(fields(cls)) if str(f.type).startswith("list")]

        def maker(record: Any) -> dict[str, Any]:
            row = list(values(record))
            for n in lists:
                row[n] = list(row[n])
            return dict(zip(names, row))

        _PLAIN[cls] = maker
    return maker


_PLAIN: dict[type, Any] = {}
_first = itemgetter(0)
_dumps, _SORT_KEYS = orjson.dumps, orjson.OPT_SORT_KEYS


# The folds. Each takes the event's position, its occurrence time and its payload, and ``touched``
# (``None`` when nobody asks what changed: a replay). ``apply`` above runs them for the writer; a
# replay (services/ledger/replay_fast.py) calls them straight from the stored records, without
# building a RecordedEvent, then sets ``seq``/``head``/``recorded_at``/``streams`` as ``apply`` does.
def _fold_year_opened(state: LedgerState, seq: int, occurred_at: str, payload: Any, touched: Touched | None) -> None:
    opened = parse_year_opened(payload)
    if touched is not None:
        if opened.year not in state.years:
            touched.created.add(("years", opened.year))
        touched.years.add(opened.year)
    state.years[opened.year] = YearRecord(opened.year, opened.report_due, opened.deadline, opened.time_zone,
                                          list(opened.regions), seq)


def _fold_report_filed(state: LedgerState, seq: int, occurred_at: str, report: Any, touched: Touched | None) -> None:
    """Trusts the payload: the ledger validated and normalised it before recording it, and a
    replay folds only events whose hashes it has just checked.

    The dataclasses are built with positional arguments (a replay builds millions of them; a
    keyword call costs a third more): the order is that of their fields, which
    ``test_the_folds_build_records_in_field_order`` pins."""
    region, year = report["region"], report["year"]
    items = state.items
    item_ids = []
    number = 0
    for entry in report["entries"]:
        number += 1
        item_id = f"{region}-{year}-{seq}-{number}"
        items[item_id] = CapacityItem(
            item_id, region, year, seq, entry["enterprise"], entry["uscc"], entry["county"], entry["industry"],
            entry["equipment"], entry["equipment_count"], entry["capacity"], entry["unit"], entry["target_source"],
            entry["planned_date"], entry["method"], entry["workers_affected"], entry["remarks"], "registered")
        item_ids.append(item_id)
    key = (region, year)
    if touched is not None:
        touched.items.update(item_ids)
        touched.created.update(("items", item_id) for item_id in item_ids)
        if key not in state.reports:
            touched.created.add(("reports", key))
    state.reports[key] = ReportRecord(
        region, year, report["submission_id"], seq, occurred_at, report["document_no"], report["signed_by"],
        report["zero_report"], occurred_at <= state.years[year].deadline, item_ids)
    if touched is not None:
        touched.reports.add(key)


# A rejection changes no projection: it stays on the log and in the stream's history.
FOLDS = {YEAR_OPENED: _fold_year_opened, REPORT_FILED: _fold_report_filed}
_FOLDS = FOLDS
