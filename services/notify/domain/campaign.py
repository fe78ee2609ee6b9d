"""What notify needs to know of the campaign, folded from the ledger's recorded events: the years
(deadlines, regions expected), the reports filed, the capacity items with their planned dates and
progress, and the tips with their resolution. Notify's own fold (services never share domain
code): it reads the wire contract — the recorded payloads — as documented by the ledger."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from shared.messages import with_upcasters
from shared.messages.intake import (
    DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED, ELIMINATION_REPORTED, REPORT_AMENDED, REPORT_FILED, TIP_FILED, TIP_RESOLVED,
)
from shared.messages.ledger import YEAR_OPENED

REGISTERED, SCHEDULED, ELIMINATED, VERIFIED, WITHDRAWN = "registered", "scheduled", "eliminated", "verified", "withdrawn"


@dataclass(slots=True)
class Year:
    year: int
    deadline: str
    time_zone: str
    regions: list[str]
    seq: int


@dataclass(slots=True)
class Report:
    region: str
    year: int
    seq: int
    filed_at: str
    zero_report: bool
    item_ids: list[str]


@dataclass(slots=True)
class Item:
    item_id: str
    region: str
    year: int
    seq: int
    enterprise: str
    county: str
    industry: str
    equipment: str
    equipment_count: int
    capacity: str
    unit: str
    planned_date: str
    status: str
    source: str
    uscc: str = ""


@dataclass(slots=True)
class Listing:
    """An enterprise on a department's list, cross-checked with its region's report."""

    region: str
    year: int
    uscc: str
    seq: int


@dataclass(slots=True)
class Tip:
    tip_id: str
    region: str
    enterprise: str
    seq: int
    filed_at: str
    due_at: str
    status: str = "open"
    explanation: str | None = None
    resolved_at: str | None = None
    resolved_seq: int | None = None


#: Beyond this many changed duties between two looks, the scheduler walks them all again.
FOLLOW_AT_MOST = 200_000


@dataclass
class DueChanges:
    """The duties an event changed since notify's scheduler last looked for what is due
    (``alerts.DueWatch``): its items and tips, or ``whole`` — a year opened (each of its regions'
    reports fell due), or more changed than is worth following one by one."""

    items: set[str] = field(default_factory=set)
    tips: set[str] = field(default_factory=set)
    whole: bool = False

    def changed(self, kind: set[str], key: str) -> None:
        if self.whole:
            return
        kind.add(key)
        if len(self.items) + len(self.tips) > FOLLOW_AT_MOST:
            self.whole = True
            self.items, self.tips = set(), set()


_ENTRY_FIELDS = ("enterprise", "county", "industry", "equipment", "equipment_count", "capacity", "unit", "planned_date")


@dataclass
class NotifyState:
    seq: int = 0
    years: dict[int, Year] = field(default_factory=dict)
    reports: dict[tuple[str, int], Report] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    tips: dict[str, Tip] = field(default_factory=dict)
    listings: list[Listing] = field(default_factory=list)
    #: 死灰复燃: (region, seq) of each tip or listed enterprise naming capacity already verified eliminated
    resurgences: list[tuple[str, int]] = field(default_factory=list)
    #: the USCCs of the enterprises with capacity verified eliminated (verification is final)
    verified_usccs: set[str] = field(default_factory=set)
    #: the items and tips changed since the announcement's rows were last written (see
    #: adapters/announcement.py): those rows are all that must be written again
    #: (id → the position of its last change)
    touched_items: dict[str, int] = field(default_factory=dict, compare=False)
    touched_tips: dict[str, int] = field(default_factory=dict, compare=False)
    #: what changed since the scheduler last looked; None until it first does (nothing kept)
    due_changes: DueChanges | None = field(default=None, compare=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "due_changes": None}  # a copy (a checkpoint) is nobody's to watch

    def apply(self, event: Mapping[str, Any]) -> None:
        seq = event["seq"]
        if seq != self.seq + 1:
            raise ValueError(f"fold out of order: at {self.seq}, given {seq}")
        fold = _FOLDS.get(event["type"])
        if fold is not None:
            fold(self, seq, event["occurred_at"], event["payload"])
        self.seq = seq

    def _new_item(self, item_id: str, region: str, year: int, seq: int, entry: Mapping[str, Any], source: str) -> None:
        self.items[item_id] = Item(item_id, region, year, seq, *(entry[name] for name in _ENTRY_FIELDS), REGISTERED,
                                   source, entry.get("uscc", ""))
        self._item_changed(item_id, seq)

    def _item_changed(self, item_id: str, seq: int) -> None:
        self.touched_items[item_id] = seq
        if self.due_changes is not None:
            self.due_changes.changed(self.due_changes.items, item_id)

    def _tip_changed(self, tip_id: str) -> None:
        if self.due_changes is not None:
            self.due_changes.changed(self.due_changes.tips, tip_id)

    def _resurgence(self, region: str, uscc: str, seq: int) -> None:
        if uscc and uscc in self.verified_usccs:
            self.resurgences.append((region, seq))

    def discrepancies(self, year: int | None = None) -> list[Listing]:
        """Listed enterprises the region's current report leaves out (none before it reports)."""
        found = []
        for listing in self.listings:
            report = self.reports.get((listing.region, listing.year))
            if report is None or (year is not None and listing.year != year):
                continue
            reported = {self.items[i].uscc for i in report.item_ids if self.items[i].status != WITHDRAWN}
            if listing.uscc not in reported:
                found.append(listing)
        return found


def _year_opened(state: NotifyState, seq: int, at: str, p: Mapping[str, Any]) -> None:
    state.years[p["year"]] = Year(p["year"], p["deadline"], p["time_zone"], list(p["regions"]), seq)
    if state.due_changes is not None:
        state.due_changes.whole = True


def _report_filed(state: NotifyState, seq: int, at: str, p: Mapping[str, Any]) -> None:
    region, year = p["region"], p["year"]
    ids = []
    for number, entry in enumerate(p["entries"], start=1):
        item_id = f"{region}-{year}-{seq}-{number}"
        state._new_item(item_id, region, year, seq, entry, "report")
        ids.append(item_id)
    state.reports[(region, year)] = Report(region, year, seq, at, p["zero_report"], ids)


def _report_amended(state: NotifyState, seq: int, at: str, p: Mapping[str, Any]) -> None:
    region, year = p["region"], p["year"]
    report = state.reports.get((region, year))
    if report is None:
        return
    ids = []
    for number, (entry, matched) in enumerate(zip(p["entries"], p["matched"]), start=1):
        if matched is not None and matched in state.items:
            item = state.items[matched]
            for name in _ENTRY_FIELDS:
                if name not in ("industry", "equipment"):
                    setattr(item, name, entry[name])
            state._item_changed(matched, seq)
            ids.append(matched)
        else:
            item_id = f"{region}-{year}-{seq}-{number}"
            state._new_item(item_id, region, year, seq, entry, "report")
            ids.append(item_id)
    for item_id in p["withdrawn"]:
        if item_id in state.items:
            state.items[item_id].status = WITHDRAWN
            state._item_changed(item_id, seq)
    report.item_ids, report.zero_report = ids, p["zero_report"]


def _elimination_reported(state: NotifyState, seq: int, at: str, p: Mapping[str, Any]) -> None:
    item = state.items.get(p["item_id"])
    if item is not None:
        item.status = ELIMINATED
        state._item_changed(item.item_id, seq)


def _elimination_decided(state: NotifyState, seq: int, at: str, p: Mapping[str, Any]) -> None:
    item = state.items.get(p["item_id"])
    if item is not None:
        item.status = VERIFIED if p["decision"] == "verified" else SCHEDULED
        state._item_changed(item.item_id, seq)
        if item.status == VERIFIED and item.uscc:
            state.verified_usccs.add(item.uscc)


def _tip_filed(state: NotifyState, seq: int, at: str, p: Mapping[str, Any]) -> None:
    state.tips[p["submission_id"]] = Tip(p["submission_id"], p["region"], p["enterprise"], seq, at, p["due_at"])
    state._tip_changed(p["submission_id"])
    state._resurgence(p["region"], p.get("uscc", ""), seq)


def _department_list(state: NotifyState, seq: int, at: str, p: Mapping[str, Any]) -> None:
    for entry in p["entries"]:
        state.listings.append(Listing(entry["region"], p["year"], entry["uscc"], seq))
        state._resurgence(entry["region"], entry["uscc"], seq)


def _tip_resolved(state: NotifyState, seq: int, at: str, p: Mapping[str, Any]) -> None:
    tip = state.tips.get(p["tip_id"])
    if tip is None:
        return
    tip.status, tip.explanation, tip.resolved_at, tip.resolved_seq = p["resolution"], p["explanation"], at, seq
    state.touched_tips[tip.tip_id] = seq
    state._tip_changed(tip.tip_id)
    if p.get("entry") is not None:
        state._new_item(f"{tip.region}-{p['year']}-{seq}-1", tip.region, p["year"], seq, p["entry"], "tip")


#: The folds by type; an older version of a type is upcast and folded as the current one.
_FOLDS = with_upcasters({
    YEAR_OPENED: _year_opened,
    REPORT_FILED: _report_filed,
    REPORT_AMENDED: _report_amended,
    ELIMINATION_REPORTED: _elimination_reported,
    ELIMINATION_DECIDED: _elimination_decided,
    TIP_FILED: _tip_filed,
    TIP_RESOLVED: _tip_resolved,
    DEPARTMENT_LIST_FILED: _department_list,
})
