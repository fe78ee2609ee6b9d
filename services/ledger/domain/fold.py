"""The fold: how each recorded event changes the ledger's state.

Each fold takes the state, the event's position, its occurrence time and its payload, and
``touched`` (``None`` when nobody asks what changed: a replay). ``LedgerState.apply`` runs them for
the writer; a replay (services/ledger/replay_fast.py) calls them straight from the stored records,
without building a RecordedEvent. They trust the payload: the ledger validated and normalised it
(and added what it decided, such as a tip's due time or an amendment's supersession) before
recording it, and a replay folds only events whose hashes it has just checked.
"""
from __future__ import annotations

from typing import Any, Protocol

from shared.messages import older_types

from .changes import Touched
from .events import (
    ASSESSMENT_PUBLISHED, DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED, ELIMINATION_REPORTED, ENTRY_FIELDS, REPORT_AMENDED,
    REPORT_FILED, TIP_FILED, TIP_RESOLVED, YEAR_OPENED, parse_year_opened,
)
from .records import (
    ELIMINATED, REGISTERED, SCHEDULED, VERIFIED, WITHDRAWN, CapacityItem, ListingRecord, ReportPayload, ReportRecord,
    ResurgenceRecord, TipRecord, YearRecord,
)


class FoldedState(Protocol):
    """What the folds change (``state.LedgerState``), named here so that this module need not
    import the state that imports it."""

    years: dict[int, YearRecord]
    reports: dict[tuple[str, int], ReportRecord]
    items: dict[str, CapacityItem]
    tips: dict[str, TipRecord]
    listings: dict[str, ListingRecord]
    resurgences: dict[str, ResurgenceRecord]
    by_uscc: dict[str, list[str]] | None

    def verified_items(self, uscc: str) -> list[str]: ...


def _mark(touched: Touched | None, kind: str, key: Any, new: bool) -> None:
    if touched is not None:
        touched.mark(kind, key, new)


def _fold_year_opened(state: FoldedState, seq: int, occurred_at: str, payload: Any, touched: Touched | None) -> None:
    opened = parse_year_opened(payload)
    _mark(touched, "years", opened.year, opened.year not in state.years)
    state.years[opened.year] = YearRecord(year=opened.year, report_due=opened.report_due, deadline=opened.deadline,
                                          time_zone=opened.time_zone, regions=list(opened.regions), opened_seq=seq)


def _new_item(state: FoldedState, item_id: str, region: str, year: int, seq: int, entry: Any, source: str,
              tip_id: str | None, touched: Touched | None) -> None:
    _add_item(state, CapacityItem(
        **{name: entry[name] for name in ENTRY_FIELDS}, item_id=item_id, region=region, year=year, report_seq=seq,
        status=REGISTERED, source=source, tip_id=tip_id, event_seqs=[seq]), touched)


def _add_item(state: FoldedState, item: CapacityItem, touched: Touched | None) -> None:
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


def _fold_report_filed(state: FoldedState, seq: int, occurred_at: str, report: ReportPayload,
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
        region=region, year=year, submission_id=report.submission_id, seq=seq, filed_at=occurred_at,
        document_no=report.document_no, signed_by=report.signed_by, zero_report=report.zero_report,
        on_time=occurred_at <= state.years[year].deadline, item_ids=item_ids, amended_at=None,
        history=[_version(seq, occurred_at, "filed", report.submission_id, report.document_no, report.signed_by,
                          report.zero_report, number, None)])


_AMENDABLE = ("enterprise", "county", "equipment_count", "capacity", "unit", "target_source", "planned_date", "method",
              "workers_affected", "remarks")


def _fold_report_amended(state: FoldedState, seq: int, occurred_at: str, report: Any, touched: Touched | None) -> None:
    """The amendment supersedes the report as its payload says (``rules.supersession``): a matched
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


def _resurgence(state: FoldedState, seq: int, occurred_at: str, source: str, source_id: str, region: str,
                enterprise: str, uscc: str, touched: Touched | None) -> None:
    verified = state.verified_items(uscc) if uscc else []
    if verified:
        resurgence_id = source_id if source == "list" else str(seq)  # a list's entry id holds its seq
        state.resurgences[resurgence_id] = ResurgenceRecord(
            resurgence_id=resurgence_id, source=source, source_id=source_id, region=region, enterprise=enterprise,
            uscc=uscc, item_ids=verified, seq=seq, occurred_at=occurred_at)
        _mark(touched, "resurgences", resurgence_id, True)


def _fold_department_list(state: FoldedState, seq: int, occurred_at: str, payload: Any, touched: Touched | None) -> None:
    for number, entry in enumerate(payload["entries"], start=1):
        listing_id = f"{seq}-{number}"
        state.listings[listing_id] = ListingRecord(
            listing_id=listing_id, department=payload["department"], year=payload["year"], region=entry["region"],
            enterprise=entry["enterprise"], uscc=entry["uscc"], industry=entry["industry"], basis=entry["basis"],
            detail=entry["detail"], seq=seq, submission_id=payload["submission_id"])
        _mark(touched, "listings", listing_id, True)
        _resurgence(state, seq, occurred_at, "list", listing_id, entry["region"], entry["enterprise"], entry["uscc"],
                    touched)


def _fold_elimination_reported(state: FoldedState, seq: int, occurred_at: str, payload: Any,
                               touched: Touched | None) -> None:
    item = state.items[payload["item_id"]]
    item.status, item.eliminated_on, item.elimination_method = ELIMINATED, payload["eliminated_on"], payload["method"]
    item.evidence, item.workers_resettled, item.elimination_seq = payload["evidence"], payload["workers_resettled"], seq
    item.rejection_reason = None
    item.event_seqs.append(seq)
    _mark(touched, "items", item.item_id, False)


def _fold_elimination_decided(state: FoldedState, seq: int, occurred_at: str, payload: Any,
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


def _fold_tip_filed(state: FoldedState, seq: int, occurred_at: str, tip: Any, touched: Touched | None) -> None:
    tip_id = tip["submission_id"]
    state.tips[tip_id] = TipRecord(tip_id=tip_id, region=tip["region"], enterprise=tip["enterprise"], uscc=tip["uscc"],
                                   location=tip["location"], description=tip["description"], seq=seq,
                                   filed_at=occurred_at, due_at=tip["due_at"])
    _mark(touched, "tips", tip_id, True)
    _resurgence(state, seq, occurred_at, "tip", tip_id, tip["region"], tip["enterprise"], tip["uscc"], touched)


def _fold_assessment_published(state: FoldedState, seq: int, occurred_at: str, payload: Any,
                               touched: Touched | None) -> None:
    year = state.years.get(payload["year"])
    if year is not None:
        year.published_seq, year.published_digest = seq, payload["digest"]
        _mark(touched, "years", year.year, False)


def _fold_tip_resolved(state: FoldedState, seq: int, occurred_at: str, payload: Any, touched: Touched | None) -> None:
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
_CURRENT = {
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
#: The folds by type. An older version of a type (``shared/messages``) folds as the current one:
#: its payload is upcast on reading (``codec.py``).
FOLDS = {**_CURRENT, **{old: _CURRENT[new] for old, new in older_types().items() if new in _CURRENT}}
