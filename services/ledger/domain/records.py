"""The ledger's records: the rows of its projections, as the fold builds them and a reader sees them.

Leaf of the ledger's state (``state.py`` holds them, ``fold.py`` builds them, ``digest.py`` hashes
them, ``changes.py`` versions them): it imports nothing of the ledger, so every one of those can
import it.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, Protocol

import msgspec


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


class ReportRecord(msgspec.Struct):
    """The current report of a (region, year); ``filed_at``/``on_time`` are the first filing's
    (an amendment corrects a report, it does not make it late), ``history`` every version.
    A Struct, not a dataclass: the fold builds one per report by keyword, which a Struct takes at
    C speed (a dataclass's keyword call cost a replay of one-entry reports ~8%)."""

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
    history: list[dict] = []


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
    from the recorded bytes in one step by a replay (``codec.DECODERS``), converted from the parsed
    payload by the writer (``codec.CONVERTERS``) — without a dict per entry and a record built from it,
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
