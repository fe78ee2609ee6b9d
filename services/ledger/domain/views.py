"""What readers see of the state at a moment: an item's status as of then (``scheduled`` once its
year's plan is fixed, ``overdue`` once its planned date has passed without an elimination) and the
department-list cross-check (SPEC §5). Pure functions of the state and the moment, so a replay as
of any point shows exactly what the live service showed then."""
from __future__ import annotations

from typing import Any, Mapping

from .records import REGISTERED, SCHEDULED, WITHDRAWN, CapacityItem, TipRecord, plain_record

from .state import LedgerState

_item_fields = plain_record(CapacityItem)
_tip_fields = plain_record(TipRecord)


def item_status(item: CapacityItem, deadlines: Mapping[int, str], now: str, today: str) -> tuple[str, bool]:
    """(status, overdue) of ``item`` at the instant ``now`` (business date ``today``), given each
    opened year's report deadline (``deadlines``: of a state, or read with the item)."""
    status = item.status
    deadline = deadlines.get(item.year)
    if status == REGISTERED and deadline is not None and now > deadline:
        status = SCHEDULED  # the year's report deadline fixed the plan its entries belong to
    overdue = status in (REGISTERED, SCHEDULED) and item.planned_date < today
    return status, overdue


def item_view(item: CapacityItem, deadlines: Mapping[int, str], now: str, today: str) -> dict[str, Any]:
    view = _item_fields(item)
    view["recorded_status"] = item.status
    view["status"], view["overdue"] = item_status(item, deadlines, now, today)
    return view


def deadlines(state: LedgerState) -> dict[int, str]:
    return {year: record.deadline for year, record in state.years.items()}


def tip_view(tip: TipRecord, now: str) -> dict[str, Any]:
    view = _tip_fields(tip)
    view["overdue"] = tip.status == "open" and now > tip.due_at
    return view


def items_view(state: LedgerState, now: str, today: str, *, region: str | None = None, industry: str | None = None,
               status: str | None = None, year: int | None = None) -> list[dict[str, Any]]:
    """Items matching every filter given, in item id order; ``status="overdue"`` selects overdue ones."""
    found, report_deadlines = [], deadlines(state)
    for item_id in sorted(state.items):
        item = state.items[item_id]
        if (region and item.region != region) or (industry and item.industry != industry) or (year and item.year != year):
            continue
        view = item_view(item, report_deadlines, now, today)
        if status and not (view["status"] == status or (status == "overdue" and view["overdue"])):
            continue
        found.append(view)
    return found


def discrepancies(state: LedgerState, *, region: str | None = None, year: int | None = None,
                  department: str | None = None) -> list[dict[str, Any]]:
    """Listed enterprises that their region's current report for the list's year leaves out (or
    declares zero against). A region that has not reported yet has no discrepancy: it is missing.
    ``department`` keeps those its own lists revealed."""
    found = []
    for listing_id in sorted(state.listings, key=_listing_order):
        listing = state.listings[listing_id]
        if (region and listing.region != region) or (year and listing.year != year):
            continue
        if department and listing.department != department:
            continue
        report = state.reports.get((listing.region, listing.year))
        if report is None:
            continue
        reported = {state.items[i].uscc for i in report.item_ids if state.items[i].status != WITHDRAWN}
        if listing.uscc in reported:
            continue
        found.append({**plain_record(type(listing))(listing), "kind": "zero_report" if report.zero_report else "omitted",
                      "report_seq": report.seq})
    return found


def resurgences(state: LedgerState, *, region: str | None = None, department: str | None = None) -> list[dict[str, Any]]:
    """``department`` keeps those its own lists revealed (a tip's are the office's and the region's)."""
    def revealed_by(r) -> bool:
        listing = state.listings.get(r.source_id) if r.source == "list" else None
        return listing is not None and listing.department == department

    return [plain_record(type(r))(r) for r in sorted(state.resurgences.values(), key=lambda r: r.seq)
            if (not region or r.region == region) and (not department or revealed_by(r))]


def _listing_order(listing_id: str) -> tuple[int, int]:
    seq, _, number = listing_id.partition("-")
    return int(seq), int(number)
