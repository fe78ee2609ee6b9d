"""The campaign as the assessment reads it: its own fold of the ledger's recorded events.

The assessment is an independent reader of the log (SPEC §5: "everything else is a projection
that an auditor can rebuild by replaying that log"), so it folds the recorded payloads itself,
exactly as the ledger records them, without the ledger's code. Only what scoring needs is kept:
the years (deadline, expected regions), the report registry, the capacity items, the tips and
the office's scores for criteria 2 and 3.

``CampaignState.as_of(cut_off)`` gives the state that only the events that occurred by
``cut_off`` make (SPEC §6: scores are "as of a cut-off"): a verification, a late report, an
amendment or an office score recorded after the cut-off does not count, whatever position the
caller folded to. The state keeps a journal of the events it folded (references to their
payloads, which the fold never changes) to fold a cut-off's view from them; a view is kept
until the next event.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from shared.messages import with_upcasters
from shared.messages.assessment import INPUT_FILED
from shared.messages.intake import (
    ELIMINATION_DECIDED, ELIMINATION_REPORTED, REPORT_AMENDED, REPORT_FILED, TIP_FILED, TIP_RESOLVED,
)
from shared.messages.ledger import YEAR_OPENED

from .records import (
    ELIMINATED, REGISTERED, SCHEDULED, VERIFIED, WITHDRAWN, InputRecord, ItemRecord, ReportRecord, TipRecord, YearRecord,
)

#: The criteria the office scores (SPEC §6: 2 leadership and coordination, 3 policy support).
OFFICE_CRITERIA = (2, 3)

#: The fields an amendment's matched row updates on its item (it keeps its id and status).
AMENDABLE = ("enterprise", "county", "equipment_count", "capacity", "unit", "target_source", "planned_date", "method",
             "workers_affected", "remarks")

_SCORE_TEXT = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
_HUNDRED = Decimal(100)
_CENTS = Decimal("0.01")


# A fold takes the state, the event's position, its occurrence time and its payload.
Fold = Callable[["CampaignState", int, str, Any], None]


@dataclass(slots=True)
class CampaignState:
    seq: int = 0
    years: dict[int, YearRecord] = field(default_factory=dict)
    reports: dict[tuple[str, int], ReportRecord] = field(default_factory=dict)
    items: dict[str, ItemRecord] = field(default_factory=dict)
    tips: dict[str, TipRecord] = field(default_factory=dict)
    inputs: dict[tuple[str, int, int], InputRecord] = field(default_factory=dict)
    #: (seq, reason) of events the fold could not apply (a reference to nothing, a bad score):
    #: never expected from a verified log, kept visible rather than raised mid-replay.
    anomalies: list[tuple[int, str]] = field(default_factory=list)
    #: the latest occurrence time folded, and the folded events (for ``as_of``)
    latest: str = ""
    #: each region's items and tips (ids, as folded), and the position of the last year opened
    region_items: dict[str, list[str]] = field(default_factory=dict, repr=False)
    region_tips: dict[str, list[str]] = field(default_factory=dict, repr=False)
    calendar_seq: int = 0
    _journal: list[tuple[str, int, Fold, Any]] = field(default_factory=list, repr=False)
    _views: dict[str, "CampaignState"] = field(default_factory=dict, repr=False)

    def apply(self, event: Any) -> None:
        """Fold one recorded event (a mapping with seq, type, occurred_at, payload; or an object
        with those attributes). Events come gap-free from seq 1; unknown types only advance it."""
        if isinstance(event, Mapping):
            seq, kind, occurred_at, payload = event["seq"], event["type"], event["occurred_at"], event["payload"]
        else:
            seq, kind, occurred_at, payload = event.seq, event.type, event.occurred_at, event.payload
        if seq != self.seq + 1:
            raise ValueError(f"fold out of order: at {self.seq}, given {seq}")
        fold = FOLDS.get(kind)
        if fold is not None:
            self._journal.append((occurred_at, seq, fold, payload))
            fold(self, seq, occurred_at, payload)
            if occurred_at > self.latest:
                self.latest = occurred_at
        self.seq = seq
        if self._views:
            self._views = {}

    def apply_all(self, events: Iterable[Any]) -> "CampaignState":
        for event in events:
            self.apply(event)
        return self

    @classmethod
    def folded_from(cls, events: Iterable[Any], position: int) -> "CampaignState":
        """The state made by some of the log's events (in ``seq`` order, with gaps), at ``position``:
        a region's events and the calendar's make all that region's scores read (every event that
        changes a region's report, items, tips or office scores is recorded under its region)."""
        state = cls()
        for event in events:
            state.seq = (event["seq"] if isinstance(event, Mapping) else event.seq) - 1
            state.apply(event)
        state.seq = position
        return state

    def as_of(self, cut_off: str) -> "CampaignState":
        """The state made by the folded events that occurred at or before ``cut_off`` (an instant
        in the log's fixed-width form, compared as text); ``seq`` stays this state's position.

        A year's opening always counts: it is the calendar fixed for the year (deadline, expected
        regions), stamped with the writer's time, which may be a moment after the occurrence
        time of the filing that made the ledger open it."""
        if self.latest <= cut_off:  # nothing folded happened after the cut-off
            return self
        view = self._views.get(cut_off)
        if view is None:
            view = CampaignState()
            for entry in self._journal:
                occurred_at = entry[0]
                if occurred_at <= cut_off or entry[2] is _fold_year_opened:
                    view._journal.append(entry)
                    entry[2](view, entry[1], occurred_at, entry[3])
                    if occurred_at > view.latest:
                        view.latest = occurred_at
            view.seq = self.seq
            self._views[cut_off] = view
        return view

    def by_region(self, regions: Iterable[str]) -> tuple[dict[str, list[ItemRecord]], dict[str, list[TipRecord]]]:
        """The regions' items that are not withdrawn (as folded) and their tips (by filing), from each
        region's own list (an id listed under a region it no longer has is not that region's)."""
        items: dict[str, list[ItemRecord]] = {}
        tips: dict[str, list[TipRecord]] = {}
        for region in regions:
            mine = [self.items[i] for i in dict.fromkeys(self.region_items.get(region, ()))]
            mine = [item for item in mine if item.region == region and item.status != WITHDRAWN]
            if mine:
                items[region] = mine
            theirs = [self.tips[t] for t in dict.fromkeys(self.region_tips.get(region, ()))]
            theirs = sorted((tip for tip in theirs if tip.region == region), key=lambda t: t.seq)
            if theirs:
                tips[region] = theirs
        return items, tips


def _indexed(index: dict[str, list[str]], replaced: Any, region: str, key: str) -> None:
    """A new item or tip in its region's list (a record replaced under the same id, which a verified
    log never holds, leaves its old region's list when read: see ``CampaignState.by_region``)."""
    if replaced is None or replaced.region != region:
        index.setdefault(region, []).append(key)


def _anomaly(state: CampaignState, seq: int, reason: str) -> None:
    state.anomalies.append((seq, reason))


def _fold_year_opened(state: CampaignState, seq: int, occurred_at: str, payload: Any) -> None:
    year = int(payload["year"])
    if year in state.years:
        _anomaly(state, seq, f"year {year} opened again")
    state.years[year] = YearRecord(year, payload["report_due"], payload["deadline"], payload["time_zone"],
                                   tuple(payload["regions"]), seq, occurred_at)
    state.calendar_seq = seq


def _new_item(state: CampaignState, item_id: str, region: str, year: int, seq: int, occurred_at: str, entry: Any,
              source: str, tip_id: str | None) -> None:
    _indexed(state.region_items, state.items.get(item_id), region, item_id)
    state.items[item_id] = ItemRecord(
        item_id, region, year, seq, occurred_at, source, tip_id, entry["enterprise"], entry["uscc"], entry["county"],
        entry["industry"], entry["equipment"], entry["equipment_count"], entry["capacity"], entry["unit"],
        entry["target_source"], entry["planned_date"], entry["method"], entry["workers_affected"], entry["remarks"],
        REGISTERED, [seq])


def _fold_report_filed(state: CampaignState, seq: int, occurred_at: str, report: Any) -> None:
    region, year = report["region"], report["year"]
    item_ids = []
    for number, entry in enumerate(report["entries"], start=1):
        item_id = f"{region}-{year}-{seq}-{number}"
        _new_item(state, item_id, region, year, seq, occurred_at, entry, "report", None)
        item_ids.append(item_id)
    opened = state.years.get(year)
    if opened is None:
        _anomaly(state, seq, f"report for {region}/{year} before the year was opened")
    if (region, year) in state.reports:
        _anomaly(state, seq, f"a second first filing for {region}/{year}")
    state.reports[(region, year)] = ReportRecord(
        region, year, report["submission_id"], seq, occurred_at, opened is not None and occurred_at <= opened.deadline,
        report["zero_report"], item_ids, seq)


def _fold_report_amended(state: CampaignState, seq: int, occurred_at: str, report: Any) -> None:
    region, year = report["region"], report["year"]
    record = state.reports.get((region, year))
    if record is None:  # not in a verified log; in a view as of a time, an amendment stamped before its filing
        _anomaly(state, seq, f"amendment of {region}/{year}, which has no report")
        opened = state.years.get(year)
        record = state.reports[(region, year)] = ReportRecord(
            region, year, report["submission_id"], seq, occurred_at,
            opened is not None and occurred_at <= opened.deadline, report["zero_report"], [], seq)
    items = state.items
    item_ids = []
    for number, (entry, item_id) in enumerate(zip(report["entries"], report["matched"]), start=1):
        item = items.get(item_id) if item_id is not None else None
        if item is not None:
            for name in AMENDABLE:
                setattr(item, name, entry[name])
            item.event_seqs.append(seq)
        else:
            if item_id is not None:
                _anomaly(state, seq, f"amendment matches unknown item {item_id}")
            item_id = f"{region}-{year}-{seq}-{number}"
            _new_item(state, item_id, region, year, seq, occurred_at, entry, "report", None)
        item_ids.append(item_id)
    for item_id in report["withdrawn"]:
        item = items.get(item_id)
        if item is None:
            _anomaly(state, seq, f"amendment withdraws unknown item {item_id}")
            continue
        item.status = WITHDRAWN
        item.event_seqs.append(seq)
    record.submission_id, record.zero_report, record.item_ids = report["submission_id"], report["zero_report"], item_ids
    record.last_seq = seq
    record.amendment_seqs.append(seq)


def _fold_elimination_reported(state: CampaignState, seq: int, occurred_at: str, payload: Any) -> None:
    item = state.items.get(payload["item_id"])
    if item is None:
        _anomaly(state, seq, f"elimination of unknown item {payload['item_id']}")
        return
    item.status, item.workers_resettled = ELIMINATED, payload["workers_resettled"]
    item.elimination_seq, item.eliminated_at = seq, occurred_at
    item.event_seqs.append(seq)


def _fold_elimination_decided(state: CampaignState, seq: int, occurred_at: str, payload: Any) -> None:
    item = state.items.get(payload["item_id"])
    if item is None:
        _anomaly(state, seq, f"decision on unknown item {payload['item_id']}")
        return
    if payload["decision"] == "verified":
        item.status, item.verified_seq, item.verified_at = VERIFIED, seq, occurred_at
    else:  # rejected: back to the plan, the region reports the elimination again
        item.status = SCHEDULED
        item.workers_resettled = item.elimination_seq = item.eliminated_at = None
        item.verified_seq = item.verified_at = None
    item.event_seqs.append(seq)


def _fold_tip_filed(state: CampaignState, seq: int, occurred_at: str, tip: Any) -> None:
    tip_id = tip["submission_id"]
    _indexed(state.region_tips, state.tips.get(tip_id), tip["region"], tip_id)
    state.tips[tip_id] = TipRecord(tip_id, tip["region"], tip["enterprise"], tip["uscc"], seq, occurred_at,
                                   tip["due_at"])


def _fold_tip_resolved(state: CampaignState, seq: int, occurred_at: str, payload: Any) -> None:
    tip = state.tips.get(payload["tip_id"])
    if tip is None:
        _anomaly(state, seq, f"resolution of unknown tip {payload['tip_id']}")
        return
    year = payload["year"]
    tip.status, tip.resolved_seq, tip.resolved_at = payload["resolution"], seq, occurred_at
    tip.year, tip.late, tip.revealed = year, payload["late"], payload["revealed"]
    entry = payload["entry"]
    if entry is not None:
        item_id = f"{tip.region}-{year}-{seq}-1"
        _new_item(state, item_id, tip.region, year, seq, occurred_at, entry, "tip", tip.tip_id)
        tip.item_id = item_id


def normalise_score(value: Any) -> str | None:
    """An office score as text with exactly two decimals, or None unless it is a decimal text
    (or an int) from 0 to 100 with at most two decimals."""
    if type(value) is int:
        value = str(value)
    if not isinstance(value, str) or not _SCORE_TEXT.match(value):
        return None
    number = Decimal(value)
    if number > _HUNDRED:
        return None
    return str(number.quantize(_CENTS))


def _fold_input(state: CampaignState, seq: int, occurred_at: str, payload: Any) -> None:
    region, year, criterion = payload.get("region"), payload.get("year"), payload.get("criterion")
    score = normalise_score(payload.get("score"))
    if (not isinstance(region, str) or type(year) is not int or type(criterion) is not int
            or criterion not in OFFICE_CRITERIA or score is None):
        _anomaly(state, seq, "an office input that is not a score 0..100 for criterion 2 or 3 of a region and year")
        return
    state.inputs[(region, year, criterion)] = InputRecord(region, year, criterion, score, str(payload.get("note", "")),
                                                          seq, occurred_at, str(payload.get("submission_id", "")))


#: The events that change what the assessment sees; any other type only advances ``seq``
#: (department lists, rejections, publications, and types this reader does not know).
#: An older version of a type is upcast and folded as the current one.
FOLDS: dict[str, Fold] = with_upcasters({
    YEAR_OPENED: _fold_year_opened,
    REPORT_FILED: _fold_report_filed,
    REPORT_AMENDED: _fold_report_amended,
    ELIMINATION_REPORTED: _fold_elimination_reported,
    ELIMINATION_DECIDED: _fold_elimination_decided,
    TIP_FILED: _fold_tip_filed,
    TIP_RESOLVED: _fold_tip_resolved,
    INPUT_FILED: _fold_input,
})
