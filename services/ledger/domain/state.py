"""The ledger's state: a pure fold of recorded events.

The same fold serves the writer (to judge the next fact), the live projection tables, and
``replay --as-of``; the state digest is a hash of its canonical snapshot, so live, replayed and
exported states can be compared by one number.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from operator import attrgetter, itemgetter
from typing import Any, Iterable, Mapping, Protocol

import msgspec
import orjson

from .chain import GENESIS, STATE_TAG
from .events import (
    ASSESSMENT_PUBLISHED, DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED, ELIMINATION_REPORTED, REPORT_AMENDED, REPORT_FILED, TIP_FILED,
    TIP_RESOLVED, YEAR_OPENED, parse_year_opened,
)


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
    published_seq: int | None = None  # the year's official assessment publication (the latest, corrections included)
    published_digest: str | None = None


@dataclass(slots=True)
class ReportRecord:
    """The current report of a (region, year); ``filed_at``/``on_time`` are the first filing's
    (an amendment corrects a report, it does not make it late), ``history`` every version."""

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
    amended_at: str | None = None
    history: list[dict] = field(default_factory=list)


#: Item statuses as stored. ``scheduled`` and ``overdue`` are also shown for a registered item
#: once its year's plan is fixed or its planned date has passed (services/ledger/domain/views.py).
REGISTERED, SCHEDULED, ELIMINATED, VERIFIED, WITHDRAWN = "registered", "scheduled", "eliminated", "verified", "withdrawn"


class CapacityItem(msgspec.Struct):
    """A line of outdated capacity. The registered fields come first and have no default: a
    replay decodes a report's entries straight into items (``ReportPayload``), the rest are the
    item's place on the ledger and its lifecycle, filled in by the fold."""

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
    item_id: str = ""
    region: str = ""
    year: int = 0
    report_seq: int = 0
    status: str = REGISTERED
    source: str = "report"  # or "tip": entered by a confirmed tip
    tip_id: str | None = None
    eliminated_on: str | None = None
    elimination_method: str | None = None
    evidence: str | None = None
    workers_resettled: int | None = None
    elimination_seq: int | None = None
    verified_seq: int | None = None
    rejection_reason: str | None = None
    event_seqs: list[int] = []


class ReportPayload(msgspec.Struct):
    """A recorded ``report_filed`` payload as its fold takes it, entries already items: decoded
    from the recorded bytes in one step by a replay (``DECODERS``), converted from the parsed
    payload by the writer (``CONVERTERS``) — without a dict per entry and a record built from it,
    the costliest part of a replay (reports are most of the log)."""

    submission_id: str
    region: str
    year: int
    document_no: str
    signed_by: str
    zero_report: bool
    entries: list[CapacityItem]


@dataclass(slots=True)
class TipRecord:
    tip_id: str
    region: str
    enterprise: str
    uscc: str
    location: str
    description: str
    seq: int
    filed_at: str
    due_at: str
    status: str = "open"  # or confirmed / unfounded / duplicate
    explanation: str | None = None
    duplicate_of: str | None = None
    resolved_seq: int | None = None
    resolved_at: str | None = None
    late: bool | None = None
    revealed: str | None = None  # "unreported" / "zero_report": capacity the region had not declared
    item_id: str | None = None


@dataclass(slots=True)
class ListingRecord:
    """One enterprise on a department's list (SPEC §4), cross-checked against its region's report."""

    listing_id: str
    department: str
    year: int
    region: str
    enterprise: str
    uscc: str
    industry: str
    basis: str
    detail: str
    seq: int
    submission_id: str


@dataclass(slots=True)
class ResurgenceRecord:
    """死灰复燃: a tip or list naming an enterprise whose capacity was already verified eliminated."""

    resurgence_id: str
    source: str  # "tip" or "list"
    source_id: str
    region: str
    enterprise: str
    uscc: str
    item_ids: list[str]
    seq: int
    occurred_at: str


@dataclass
class Touched:
    """The projection rows a batch of events changed; ``created`` holds (kind, key) of those
    that did not exist before it (nothing to delete before writing them)."""

    years: set = field(default_factory=set)
    reports: set = field(default_factory=set)
    items: set = field(default_factory=set)
    tips: set = field(default_factory=set)
    listings: set = field(default_factory=set)
    resurgences: set = field(default_factory=set)
    created: set = field(default_factory=set)

    def update(self, other: "Touched") -> None:
        for kind in PROJECTIONS:
            getattr(self, kind).update(getattr(other, kind))
        self.created |= other.created

    def mark(self, kind: str, key: Any, new: bool) -> None:
        getattr(self, kind).add(key)
        if new:
            self.created.add((kind, key))


#: The projections, each a dict on the state: its record type and how its key is written in the
#: snapshot (a string, as canonical JSON needs).
PROJECTIONS: dict[str, tuple[type, Any]] = {
    "years": (YearRecord, str),
    "reports": (ReportRecord, lambda key: f"{key[0]}/{key[1]}"),
    "items": (CapacityItem, str),
    "tips": (TipRecord, str),
    "listings": (ListingRecord, str),
    "resurgences": (ResurgenceRecord, str),
}


@dataclass
class LedgerState:
    seq: int = 0
    head: str = GENESIS
    recorded_at: str = ""
    years: dict[int, YearRecord] = field(default_factory=dict)
    reports: dict[tuple[str, int], ReportRecord] = field(default_factory=dict)
    items: dict[str, CapacityItem] = field(default_factory=dict)
    tips: dict[str, TipRecord] = field(default_factory=dict)
    listings: dict[str, ListingRecord] = field(default_factory=dict)
    resurgences: dict[str, ResurgenceRecord] = field(default_factory=dict)
    streams: dict[str, int] = field(default_factory=dict)
    #: item ids by USCC, to find the verified capacity a tip or list names (derived, not in the
    #: digest; built on first use, then kept up to date — a replay of reports alone never needs it)
    by_uscc: dict[str, list[str]] | None = None

    def apply(self, event: Recorded) -> Touched:
        if event.seq != self.seq + 1:
            raise ValueError(f"fold out of order: at {self.seq}, given {event.seq}")
        touched = Touched()
        handler = FOLDS.get(event.type)
        if handler is not None:
            handler(self, event.seq, event.occurred_at, CONVERTERS[event.type](event.payload), touched)
        self.seq, self.head, self.recorded_at = event.seq, event.hash, event.recorded_at
        self.streams[event.stream] = event.stream_version
        return touched

    def apply_all(self, events: Iterable[Recorded]) -> "LedgerState":
        for event in events:
            self.apply(event)
        return self

    def index_items(self) -> "LedgerState":
        """Drop the derived USCC index (after loading the items from storage): rebuilt when needed."""
        self.by_uscc = None
        return self

    def verified_items(self, uscc: str) -> list[str]:
        if self.by_uscc is None:
            self.by_uscc = {}
            for item_id, item in self.items.items():
                self.by_uscc.setdefault(item.uscc, []).append(item_id)
        return [i for i in self.by_uscc.get(uscc, ()) if self.items[i].status == VERIFIED]

    def snapshot(self) -> dict[str, Any]:
        """Everything a reader can see, in a canonical-JSON-ready shape (no positions): what
        ``dataclasses.asdict`` gives for each record (lists copied)."""
        return {kind: {write(k): plain_record(cls)(r) for k, r in sorted(getattr(self, kind).items())}
                for kind, (cls, write) in PROJECTIONS.items()}

    def digest(self) -> str:
        """``state_digest(self.snapshot())``, hashed record by record along the canonical text of
        the snapshot, without building the snapshot (four times faster on a large state)."""
        return digest_of({kind: sorted(((write(k), r) for k, r in getattr(self, kind).items()), key=_first)
                          for kind, (_, write) in PROJECTIONS.items()})


def digest_of(projections: Mapping[str, Iterable[tuple[str, Any]]]) -> str:
    """The state digest of each projection's (written key, record) pairs, given in code point order
    of the keys (as orjson sorts them): from a state in memory, or streamed from stored rows."""
    digest = hashlib.sha256(STATE_TAG)
    opening = b"{"
    for kind in sorted(PROJECTIONS):
        plain = plain_record(PROJECTIONS[kind][0])
        # canonical order: the snapshot's keys sorted, each one's records by key, each record's fields sorted
        digest.update(opening + _dumps(kind) + b":{")
        opening = b"},"
        separator, chunk = b"", []
        for key, record in projections[kind]:
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
    lists of scalars or of flat dicts (the lists are copied, as ``asdict`` copies them)."""
    maker = _PLAIN.get(cls)
    if maker is None:
        described = msgspec.structs.fields(cls) if issubclass(cls, msgspec.Struct) else fields(cls)
        names = tuple(f.name for f in described)
        values = attrgetter(*names)
        types = [str(f.type) for f in described]
        lists = [n for n, kind in enumerate(types) if kind.startswith("list")]
        dict_lists = {n for n, kind in enumerate(types) if kind.startswith("list[dict")}

        def maker(record: Any) -> dict[str, Any]:
            row = list(values(record))
            for n in lists:
                row[n] = [dict(x) for x in row[n]] if n in dict_lists else list(row[n])
            return dict(zip(names, row))

        _PLAIN[cls] = maker
    return maker


_PLAIN: dict[type, Any] = {}
_first = itemgetter(0)
_dumps, _SORT_KEYS = orjson.dumps, orjson.OPT_SORT_KEYS


# The folds. Each takes the event's position, its occurrence time and its payload, and ``touched``
# (``None`` when nobody asks what changed: a replay). ``apply`` above runs them for the writer; a
# replay (services/ledger/replay_fast.py) calls them straight from the stored records, without
# building a RecordedEvent. They trust the payload: the ledger validated and normalised it (and
# added what it decided, such as a tip's due time) before recording it, and a replay folds only
# events whose hashes it has just checked. Records are built with positional arguments (a replay
# builds millions of them); ``test_the_positional_folds_match_the_records_fields`` pins the order.
# A fold whose payload has a type of its own (``_PAYLOAD_TYPES``, below) is given that type.
def _mark(touched: Touched | None, kind: str, key: Any, new: bool) -> None:
    if touched is not None:
        touched.mark(kind, key, new)


def _fold_year_opened(state: LedgerState, seq: int, occurred_at: str, payload: Any, touched: Touched | None) -> None:
    opened = parse_year_opened(payload)
    _mark(touched, "years", opened.year, opened.year not in state.years)
    state.years[opened.year] = YearRecord(opened.year, opened.report_due, opened.deadline, opened.time_zone,
                                          list(opened.regions), seq)


def _new_item(state: LedgerState, item_id: str, region: str, year: int, seq: int, entry: Any, source: str,
              tip_id: str | None, touched: Touched | None) -> None:
    _add_item(state, CapacityItem(
        entry["enterprise"], entry["uscc"], entry["county"], entry["industry"], entry["equipment"],
        entry["equipment_count"], entry["capacity"], entry["unit"], entry["target_source"], entry["planned_date"],
        entry["method"], entry["workers_affected"], entry["remarks"], item_id, region, year, seq, REGISTERED, source,
        tip_id, event_seqs=[seq]), touched)


def _add_item(state: LedgerState, item: CapacityItem, touched: Touched | None) -> None:
    state.items[item.item_id] = item
    index = state.by_uscc
    if index is not None:
        known = index.get(item.uscc)
        if known is None:
            index[item.uscc] = [item.item_id]
        else:
            known.append(item.item_id)
    if touched is not None:
        touched.mark("items", item.item_id, True)


def _version(seq: int, occurred_at: str, kind: str, submission_id: str, document_no: str, signed_by: str,
             zero_report: bool, entries: int, reason: str | None) -> dict:
    return {"seq": seq, "kind": kind, "at": occurred_at, "submission_id": submission_id, "document_no": document_no,
            "signed_by": signed_by, "zero_report": zero_report, "entries": entries, "reason": reason}


def _fold_report_filed(state: LedgerState, seq: int, occurred_at: str, report: ReportPayload,
                       touched: Touched | None) -> None:
    region, year = report.region, report.year
    item_ids = []
    number = 0
    for item in report.entries:  # decoded as items: only their place on the ledger is left to fill in
        number += 1
        item.item_id = item_id = f"{region}-{year}-{seq}-{number}"
        item.region, item.year, item.report_seq = region, year, seq
        item.event_seqs.append(seq)
        _add_item(state, item, touched)
        item_ids.append(item_id)
    key = (region, year)
    _mark(touched, "reports", key, key not in state.reports)
    state.reports[key] = ReportRecord(
        region, year, report.submission_id, seq, occurred_at, report.document_no, report.signed_by,
        report.zero_report, occurred_at <= state.years[year].deadline, item_ids, None,
        [_version(seq, occurred_at, "filed", report.submission_id, report.document_no, report.signed_by,
                  report.zero_report, number, None)])


def match_key(entry: Any) -> tuple[str, str, str]:
    """How an amendment's row is recognised as an item already on the ledger: same enterprise
    (USCC), industry and equipment."""
    if isinstance(entry, CapacityItem):
        return entry.uscc, entry.industry, entry.equipment
    return entry["uscc"], entry["industry"], entry["equipment"]



def supersession(state: LedgerState, current_ids: list[str], entries: list[Any]) -> dict[str, list]:
    """What an amendment does to the report's current items, decided when it is recorded and
    written into its payload (so every reader of the log applies it the same way, without
    redoing it): for each row, the current item it updates (same enterprise, industry and
    equipment: ``match_key``) or None for a new item; and the current items it leaves out,
    which are withdrawn (the rules refuse an amendment that leaves out eliminated capacity)."""
    pool: dict[tuple, list[str]] = {}
    for item_id in current_ids:
        pool.setdefault(match_key(state.items[item_id]), []).append(item_id)
    matched = []
    for entry in entries:
        candidates = pool.get(match_key(entry))
        matched.append(candidates.pop(0) if candidates else None)
    return {"matched": matched, "withdrawn": [item_id for ids in pool.values() for item_id in ids]}


_AMENDABLE = ("enterprise", "county", "equipment_count", "capacity", "unit", "target_source", "planned_date", "method",
              "workers_affected", "remarks")


def _fold_report_amended(state: LedgerState, seq: int, occurred_at: str, report: Any, touched: Touched | None) -> None:
    """The amendment supersedes the report as its payload says (``supersession``): a matched
    row updates its item, which keeps its status and id; a new row is a new item; a left-out
    item is withdrawn."""
    region, year = report["region"], report["year"]
    record = state.reports[(region, year)]
    item_ids = []
    for number, (entry, item_id) in enumerate(zip(report["entries"], report["matched"]), start=1):
        if item_id is not None:
            item = state.items[item_id]
            for name in _AMENDABLE:
                setattr(item, name, entry[name])
            item.report_seq = seq
            item.event_seqs.append(seq)
            _mark(touched, "items", item_id, False)
        else:
            item_id = f"{region}-{year}-{seq}-{number}"
            _new_item(state, item_id, region, year, seq, entry, "report", None, touched)
        item_ids.append(item_id)
    for item_id in report["withdrawn"]:
        item = state.items[item_id]
        item.status = WITHDRAWN
        item.event_seqs.append(seq)
        _mark(touched, "items", item_id, False)
    record.submission_id, record.seq, record.document_no = report["submission_id"], seq, report["document_no"]
    record.signed_by, record.zero_report, record.item_ids = report["signed_by"], report["zero_report"], item_ids
    record.amended_at = occurred_at
    record.history.append(_version(seq, occurred_at, "amended", report["submission_id"], report["document_no"],
                                   report["signed_by"], report["zero_report"], len(report["entries"]),
                                   report.get("reason")))
    _mark(touched, "reports", (region, year), False)


def _resurgence(state: LedgerState, seq: int, occurred_at: str, source: str, source_id: str, region: str,
                enterprise: str, uscc: str, touched: Touched | None) -> None:
    verified = state.verified_items(uscc) if uscc else []
    if verified:
        resurgence_id = source_id if source == "list" else str(seq)  # a list's entry id holds its seq
        state.resurgences[resurgence_id] = ResurgenceRecord(resurgence_id, source, source_id, region, enterprise, uscc,
                                                            verified, seq, occurred_at)
        _mark(touched, "resurgences", resurgence_id, True)


def _fold_department_list(state: LedgerState, seq: int, occurred_at: str, payload: Any, touched: Touched | None) -> None:
    for number, entry in enumerate(payload["entries"], start=1):
        listing_id = f"{seq}-{number}"
        state.listings[listing_id] = ListingRecord(
            listing_id, payload["department"], payload["year"], entry["region"], entry["enterprise"], entry["uscc"],
            entry["industry"], entry["basis"], entry["detail"], seq, payload["submission_id"])
        _mark(touched, "listings", listing_id, True)
        _resurgence(state, seq, occurred_at, "list", listing_id, entry["region"], entry["enterprise"], entry["uscc"],
                    touched)


def _fold_elimination_reported(state: LedgerState, seq: int, occurred_at: str, payload: Any,
                               touched: Touched | None) -> None:
    item = state.items[payload["item_id"]]
    item.status, item.eliminated_on, item.elimination_method = ELIMINATED, payload["eliminated_on"], payload["method"]
    item.evidence, item.workers_resettled, item.elimination_seq = payload["evidence"], payload["workers_resettled"], seq
    item.rejection_reason = None
    item.event_seqs.append(seq)
    _mark(touched, "items", item.item_id, False)


def _fold_elimination_decided(state: LedgerState, seq: int, occurred_at: str, payload: Any,
                              touched: Touched | None) -> None:
    item = state.items[payload["item_id"]]
    if payload["decision"] == "verified":
        item.status, item.verified_seq = VERIFIED, seq
    else:  # back to the plan: the region reports the elimination again
        item.status, item.rejection_reason = SCHEDULED, payload["reason"]
        item.eliminated_on = item.elimination_method = item.evidence = None
        item.workers_resettled = item.elimination_seq = None
    item.event_seqs.append(seq)
    _mark(touched, "items", item.item_id, False)


def _fold_tip_filed(state: LedgerState, seq: int, occurred_at: str, tip: Any, touched: Touched | None) -> None:
    tip_id = tip["submission_id"]
    state.tips[tip_id] = TipRecord(tip_id, tip["region"], tip["enterprise"], tip["uscc"], tip["location"],
                                   tip["description"], seq, occurred_at, tip["due_at"])
    _mark(touched, "tips", tip_id, True)
    _resurgence(state, seq, occurred_at, "tip", tip_id, tip["region"], tip["enterprise"], tip["uscc"], touched)


def _fold_assessment_published(state: LedgerState, seq: int, occurred_at: str, payload: Any,
                               touched: Touched | None) -> None:
    year = state.years.get(payload["year"])
    if year is not None:
        year.published_seq, year.published_digest = seq, payload["digest"]
        _mark(touched, "years", year.year, False)


def _fold_tip_resolved(state: LedgerState, seq: int, occurred_at: str, payload: Any, touched: Touched | None) -> None:
    tip = state.tips[payload["tip_id"]]
    tip.status, tip.explanation, tip.duplicate_of = payload["resolution"], payload["explanation"], payload["duplicate_of"]
    tip.resolved_seq, tip.resolved_at, tip.late, tip.revealed = seq, occurred_at, payload["late"], payload["revealed"]
    entry = payload["entry"]
    if entry is not None:
        item_id = f"{tip.region}-{payload['year']}-{seq}-1"
        _new_item(state, item_id, tip.region, payload["year"], seq, entry, "tip", tip.tip_id, touched)
        tip.item_id = item_id
    _mark(touched, "tips", tip.tip_id, False)


# A rejection changes no projection: it stays on the log and in the stream's history.
FOLDS = {
    YEAR_OPENED: _fold_year_opened,
    REPORT_FILED: _fold_report_filed,
    REPORT_AMENDED: _fold_report_amended,
    DEPARTMENT_LIST_FILED: _fold_department_list,
    ELIMINATION_REPORTED: _fold_elimination_reported,
    ELIMINATION_DECIDED: _fold_elimination_decided,
    TIP_FILED: _fold_tip_filed,
    TIP_RESOLVED: _fold_tip_resolved,
    ASSESSMENT_PUBLISHED: _fold_assessment_published,
}

#: How each fold takes its event's payload: from the recorded (canonical) bytes, as a replay
#: reads them, and from the parsed payload, as the writer holds it. A plain dict unless the fold
#: wants a type of its own (``ReportPayload``).
_PAYLOAD_TYPES: dict[str, type] = {REPORT_FILED: ReportPayload}
DECODERS: dict[str, Any] = {kind: (msgspec.json.Decoder(_PAYLOAD_TYPES[kind]).decode if kind in _PAYLOAD_TYPES
                                   else orjson.loads) for kind in FOLDS}
CONVERTERS: dict[str, Any] = {kind: ((lambda payload, cls=_PAYLOAD_TYPES[kind]: msgspec.convert(payload, cls))
                                     if kind in _PAYLOAD_TYPES else (lambda payload: payload)) for kind in FOLDS}
