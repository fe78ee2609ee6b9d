"""The assessment's domain (SPEC §6): the fold of recorded events and the scoring of every region,
with the evidence for every lost point. Pure: event sequences are built by hand with ``Log``; every
expected number is worked out by hand in a comment, never by calling the code under test."""
from __future__ import annotations

import hashlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shared.canonical import dumps
from shared.reference import Calendar, default_reference

from services.assessment.domain.campaign import CampaignState
from services.assessment.domain.scoring import assess, default_cut_off, grade
from services.assessment.domain.summary import province_summary

ZZ, KF, LY = "410100", "410200", "410300"  # 郑州, 开封, 洛阳
NAMES = {ZZ: "郑州市", KF: "开封市"}

OPENED = "2016-10-08T00:00:00.000000Z"
ON_TIME = "2016-11-10T02:00:00.000000Z"
DEADLINE = "2016-11-15T15:59:59.999999Z"  # end of 2016-11-15 in Henan
LATE = "2016-11-20T02:00:00.000000Z"
DECEMBER = "2016-12-10T02:00:00.000000Z"
CUT = "2017-01-03T15:59:59.999999Z"  # end of the 2016 acceptance stage
AFTER_CUT = "2017-01-10T02:00:00.000000Z"


def entry(industry: str = "炼铁", capacity: str = "10", *, planned: str = "2016-12-31", workers: int = 0,
          uscc: str = "91410100MA00000001", unit: str | None = None, equipment: str = "1号高炉") -> dict:
    return {"enterprise": f"{industry}企业", "uscc": uscc, "county": "中原区", "industry": industry, "equipment": equipment,
            "equipment_count": 1, "capacity": capacity, "unit": unit or ("万重量箱" if industry == "平板玻璃" else "万吨"),
            "target_source": "蓝天工程", "planned_date": planned, "method": "拆除", "workers_affected": workers,
            "remarks": ""}


class Log:
    """Recorded events as the ledger hands them out: a gap-free seq, times, the region the ledger
    records them under (a tip's resolution under the tip's), payloads."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.tip_regions: dict[str, str] = {}

    def add(self, type: str, payload: dict, at: str, region: str | None = None) -> int:
        seq = len(self.events) + 1
        self.events.append({"seq": seq, "type": type, "occurred_at": at, "recorded_at": at, "region": region,
                            "payload": payload})
        return seq

    def open_year(self, year: int = 2016, regions=(ZZ, KF), at: str = OPENED,
                  deadline: str = DEADLINE, report_due: str = "2016-11-15") -> int:
        return self.add("ledger.year_opened.v1", {"year": year, "report_due": report_due, "deadline": deadline,
                                                  "time_zone": "Asia/Shanghai", "regions": list(regions)}, at)

    def report(self, region: str, entries=(), *, at: str = ON_TIME, year: int = 2016) -> int:
        return self.add("intake.report_filed.v1", {
            "submission_id": f"s{len(self.events) + 1}", "region": region, "year": year, "document_no": "豫政〔2016〕1号",
            "signed_by": "市长", "zero_report": not entries, "entries": list(entries)}, at, region)

    def amend(self, region: str, entries, matched, withdrawn, *, at: str = DECEMBER, year: int = 2016) -> int:
        return self.add("intake.report_amended.v1", {
            "submission_id": f"s{len(self.events) + 1}", "region": region, "year": year, "document_no": "豫政〔2016〕2号",
            "signed_by": "市长", "zero_report": not entries, "entries": list(entries), "reason": "更正",
            "matched": list(matched), "withdrawn": list(withdrawn)}, at, region)

    def eliminate(self, item_id: str, resettled: int = 0, *, at: str = DECEMBER) -> int:
        region = item_id[:6]
        return self.add("intake.elimination_reported.v1", {
            "submission_id": f"s{len(self.events) + 1}", "region": region, "item_id": item_id,
            "eliminated_on": at[:10], "method": "拆除", "evidence": "现场照片", "workers_resettled": resettled}, at, region)

    def decide(self, item_id: str, decision: str = "verified", *, at: str = DECEMBER) -> int:
        return self.add("intake.elimination_decided.v1", {
            "submission_id": f"s{len(self.events) + 1}", "item_id": item_id, "decision": decision,
            "reason": "" if decision == "verified" else "现场未拆除"}, at, item_id[:6])

    def verify(self, item_id: str, resettled: int = 0, *, at: str = DECEMBER) -> tuple[int, int]:
        return self.eliminate(item_id, resettled, at=at), self.decide(item_id, at=at)

    def tip(self, tip_id: str, region: str, *, at: str, due_at: str) -> int:
        self.tip_regions[tip_id] = region
        return self.add("intake.tip_filed.v1", {
            "submission_id": tip_id, "region": region, "enterprise": "某企业", "uscc": "", "location": "某地",
            "description": "疑似落后产能", "due_at": due_at}, at, region)

    def resolve(self, tip_id: str, *, at: str, due_at: str, resolution: str = "unfounded", entry: dict | None = None,
                revealed: str | None = None, year: int = 2016) -> int:
        return self.add("intake.tip_resolved.v1", {
            "submission_id": f"s{len(self.events) + 1}", "tip_id": tip_id, "resolution": resolution,
            "explanation": "经核查", "duplicate_of": None, "entry": entry, "year": year, "late": at > due_at,
            "revealed": revealed}, at, self.tip_regions.get(tip_id))

    def score(self, region: str, criterion: int, score: str, *, at: str = DECEMBER, year: int = 2016) -> int:
        return self.add("assessment.input_filed.v1", {
            "submission_id": f"s{len(self.events) + 1}", "region": region, "year": year, "criterion": criterion,
            "score": score, "note": "考核组评定"}, at, region)

    def full_marks(self, *regions: str) -> None:
        for region in regions:
            self.score(region, 2, "100")
            self.score(region, 3, "100")

    def state(self) -> CampaignState:
        return CampaignState().apply_all(self.events)


def run(log: Log, cut_off: str = CUT, **options) -> dict:
    return assess(log.state(), 2016, cut_off=cut_off, names=NAMES, **options)


def region_of(result: dict, code: str = ZZ) -> dict:
    return next(row for row in result["regions"] if row["region"] == code)


def scores(row: dict) -> list[str]:
    return [row["criteria"][key]["score"] for key in "12345"]


def lost_of(row: dict, criterion: str) -> list[tuple[str, list[int]]]:
    return [(lost["points"], lost["seqs"]) for lost in row["criteria"][criterion]["lost"]]


# -- the fold ---------------------------------------------------------------------------------------
def mixed_log() -> Log:
    """Events whose occurrence times go back and forth across the cut-offs below: late filings,
    an amendment and verifications after a cut-off, a rejection, tips, office scores."""
    log = busy_log()
    filed = log.report(LY, [entry("炼铁", "5", equipment="c"), entry("水泥", "2", equipment="d")], at=AFTER_CUT)
    log.verify(f"{LY}-2016-{filed}-1", 1, at=DECEMBER)
    log.amend(LY, [entry("炼铁", "6", equipment="c")], [f"{LY}-2016-{filed}-1"], [f"{LY}-2016-{filed}-2"],
              at=AFTER_CUT)
    log.eliminate(f"{LY}-2016-{filed}-1", at=AFTER_CUT)
    log.decide(f"{LY}-2016-{filed}-1", "rejected", at=LATE)
    log.add("intake.department_list_filed.v1", {"entries": []}, ON_TIME)
    log.tip("t3", LY, at=AFTER_CUT, due_at=AFTER_CUT)
    log.resolve("t3", at=AFTER_CUT, due_at=AFTER_CUT)
    log.resolve("t2", at=DECEMBER, due_at="2016-12-05T15:59:59.999999Z")  # 开封's tip: resolved late, not open late
    log.score(LY, 2, "50", at=AFTER_CUT)
    log.open_year(2017, regions=(ZZ, KF, LY), at="2017-10-08T00:00:00.000000Z")
    return log


def _view(state: CampaignState, cut_off: str) -> tuple:
    view = state.as_of(cut_off)
    return (view.seq, view.years, view.reports, view.items, view.tips, view.inputs, view.anomalies)


def _occurred_by(events: list[dict], cut_off: str) -> tuple:
    """SPEC §6 said again: the state of the events that occurred by the cut-off (a year's opening
    always counts), at the position of the last event."""
    state = CampaignState()
    for event in events:
        if event["occurred_at"] <= cut_off or event["type"] == "ledger.year_opened.v1":
            state.seq = event["seq"] - 1
            state.apply(event)
    state.seq = events[-1]["seq"]
    return _view(state, "9999")


@pytest.mark.parametrize("cut_offs", [(ON_TIME, DEADLINE), (LATE, CUT), (AFTER_CUT,)])
def test_a_view_by_cut_off_of_a_state_folding_on_is_what_occurred_by_then_at_every_position(cut_offs):
    events = mixed_log().events
    live = CampaignState()
    for event in events:
        live.apply(event)
        for cut_off in cut_offs:  # asked at every position: a view kept from before the event is not served
            assert _view(live, cut_off) == _occurred_by(events[:event["seq"]], cut_off), (event["seq"], cut_off)
    for cut_off in (ON_TIME, DEADLINE, LATE, CUT, AFTER_CUT):
        assert _view(live, cut_off) == _occurred_by(events, cut_off)
    assert assess(live, 2016, cut_off=CUT, names=NAMES) == assess(CampaignState().apply_all(events), 2016, cut_off=CUT,
                                                                   names=NAMES)


def test_every_result_of_a_state_folding_on_is_the_one_scored_afresh():
    events = mixed_log().events
    live = CampaignState()
    for event in events:
        live.apply(event)
        afresh = CampaignState().apply_all(events[:event["seq"]])
        for cut_off in (LATE, CUT, AFTER_CUT):
            for year in (2016, 2017):
                assert (assess(live, year, cut_off=cut_off, names=NAMES)
                        == assess(afresh, year, cut_off=cut_off, names=NAMES)), (event["seq"], cut_off, year)
    assert province_summary(live, 2016, CUT, assess(live, 2016, cut_off=CUT)) == province_summary(
        afresh, 2016, CUT, assess(afresh, 2016, cut_off=CUT))


def test_the_fold_refuses_an_event_out_of_order_and_lets_unknown_types_advance_the_position():
    log = Log()
    log.open_year()
    log.add("intake.department_list_filed.v1", {"entries": []}, ON_TIME)
    log.add("ledger.submission_rejected.v1", {"submission_id": "x"}, ON_TIME)
    log.add("something.new.v7", {}, ON_TIME)
    state = log.state()
    assert state.seq == 4 and list(state.years) == [2016]
    with pytest.raises(ValueError, match="out of order"):
        state.apply({**log.events[0], "seq": 6})


def test_a_report_an_amendment_and_a_tip_register_items_with_the_ledgers_ids():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10"), entry("水泥", "20", equipment="立窑")])
    amended = log.amend(ZZ, [entry("炼铁", "12"), entry("焦炭", "5", equipment="焦炉")],
                        [f"{ZZ}-2016-{filed}-1", None], [f"{ZZ}-2016-{filed}-2"])
    log.tip("t1", ZZ, at=DECEMBER, due_at="2016-12-25T15:59:59.999999Z")
    resolved = log.resolve("t1", at=DECEMBER, due_at="2016-12-25T15:59:59.999999Z", resolution="confirmed",
                           entry=entry("电石", "3"), revealed="unreported")
    state = log.state()
    report = state.reports[(ZZ, 2016)]
    assert (report.seq, report.filed_at, report.on_time) == (filed, ON_TIME, True)  # the first filing's
    assert report.item_ids == [f"{ZZ}-2016-{filed}-1", f"{ZZ}-2016-{amended}-2"]
    assert state.items[f"{ZZ}-2016-{filed}-1"].capacity == "12"
    assert state.items[f"{ZZ}-2016-{filed}-2"].status == "withdrawn"
    tip_item = state.items[f"{ZZ}-2016-{resolved}-1"]
    assert (tip_item.source, tip_item.tip_id, tip_item.status) == ("tip", "t1", "registered")
    assert state.tips["t1"].resolved_at == DECEMBER


# -- C1 target completion -----------------------------------------------------------------------------
def test_no_items_due_and_the_report_filed_gives_full_marks_and_a_cleared_region():
    log = Log()
    log.open_year()
    log.report(ZZ)  # a zero report, on time
    log.full_marks(ZZ)
    row = region_of(run(log))
    assert scores(row) == ["100.00"] * 5
    assert row["total"] == "100.00" and row["grade"] == "优秀"
    assert row["cleared"] is True and row["draft"] is False and row["missing_inputs"] == []
    assert all(row["criteria"][k]["lost"] == [] for k in "12345")


def test_no_items_due_and_no_report_scores_zero_with_the_year_opening_as_evidence():
    log = Log()
    opened = log.open_year()
    log.full_marks(ZZ)
    row = region_of(run(log))
    # C1 0 (nothing due, nothing filed), C5 0 (missing): 0.2 × (0 + 100 + 100 + 100 + 0) = 60.00
    assert scores(row) == ["0.00", "100.00", "100.00", "100.00", "0.00"]
    assert lost_of(row, "1") == [("100.00", [opened])]
    assert lost_of(row, "5") == [("100.00", [opened])]
    assert row["total"] == "60.00" and row["grade"] == "合格" and row["cleared"] is False


def test_an_industry_partly_verified_counts_its_verified_share_of_capacity():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10", equipment="1号"), entry("炼铁", "20", equipment="2号"),
                            entry("炼铁", "30", equipment="3号"), entry("水泥", "50", equipment="立窑")])
    for n in (1, 3, 4):
        log.verify(f"{ZZ}-2016-{filed}-{n}")
    log.full_marks(ZZ)
    row = region_of(run(log))
    # 炼铁: (10 + 30) / 60 = 2/3; 水泥: 50 / 50 = 1; C1 = 100 × (2/3 + 1) / 2 = 83.333… → 83.33
    assert row["criteria"]["1"]["score"] == "83.33"
    # all of the 16.67 points lost are 炼铁's, and the report that registered its unverified line says why
    assert lost_of(row, "1") == [("16.67", [filed])]
    assert "炼铁" in row["criteria"]["1"]["lost"][0]["reason"]
    assert row["cleared"] is False


def test_items_due_in_another_year_are_no_target_but_keep_the_region_from_being_cleared():
    log = Log()
    log.open_year()
    log.report(ZZ, [entry("炼铁", "10", planned="2017-06-30")])
    log.full_marks(ZZ)
    row = region_of(run(log))
    assert row["criteria"]["1"]["score"] == "100.00"  # nothing due in 2016, the report is filed
    assert row["cleared"] is False  # its 2016 item is not verified


def test_a_verification_after_the_cut_off_does_not_count():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10", workers=10)])
    item = f"{ZZ}-2016-{filed}-1"
    eliminated = log.eliminate(item, 4, at=DECEMBER)
    verified = log.decide(item, at=AFTER_CUT)
    log.full_marks(ZZ)
    state = log.state()
    before = region_of(assess(state, 2016, cut_off=CUT))
    # eliminated but not verified by the cut-off: C1 0, and C4 has no verified item (100)
    assert scores(before)[0] == "0.00" and scores(before)[3] == "100.00"
    assert lost_of(before, "1") == [("100.00", [filed, eliminated])]
    assert before["cleared"] is False
    after = region_of(assess(state, 2016, cut_off="2017-01-31T15:59:59.999999Z"))
    # verified: C1 100; C4 = 100 × 4 / 10 = 40, the 60 points lost to its elimination and verification
    assert scores(after)[0] == "100.00" and scores(after)[3] == "40.00"
    assert lost_of(after, "4") == [("60.00", [eliminated, verified])]
    assert after["cleared"] is True


def test_a_rejected_elimination_puts_the_item_back_among_the_unverified():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10")])
    item = f"{ZZ}-2016-{filed}-1"
    log.eliminate(item)
    log.decide(item, "rejected")
    log.full_marks(ZZ)
    state = log.state()
    assert state.items[item].status == "scheduled"
    assert region_of(assess(state, 2016, cut_off=CUT))["criteria"]["1"]["score"] == "0.00"


def test_an_amendment_withdrawing_an_item_removes_it_from_the_targets():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10"), entry("水泥", "20", equipment="立窑")])
    kept = f"{ZZ}-2016-{filed}-1"
    log.amend(ZZ, [entry("炼铁", "10")], [kept], [f"{ZZ}-2016-{filed}-2"])
    log.verify(kept)
    log.full_marks(ZZ)
    row = region_of(run(log))
    # only 炼铁 is left: 10 / 10 verified → C1 100 (水泥 would have made it 50)
    assert row["criteria"]["1"]["score"] == "100.00"
    assert row["cleared"] is True


def test_an_amendment_after_the_cut_off_does_not_count():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10"), entry("水泥", "20", equipment="立窑")])
    kept = f"{ZZ}-2016-{filed}-1"
    log.verify(kept)
    log.amend(ZZ, [entry("炼铁", "10")], [kept], [f"{ZZ}-2016-{filed}-2"], at=AFTER_CUT)
    log.full_marks(ZZ)
    # as of the cut-off 水泥 is still a target: 100 × (1 + 0) / 2 = 50.00
    assert region_of(run(log))["criteria"]["1"]["score"] == "50.00"


# -- C2, C3 office inputs ------------------------------------------------------------------------------
def test_missing_office_inputs_make_a_draft_scored_zero_without_evidence():
    log = Log()
    log.open_year()
    log.report(ZZ)
    log.report(KF)
    log.full_marks(KF)
    log.score(ZZ, 3, "80")
    result = run(log)
    row = region_of(result)
    assert row["draft"] is True and row["missing_inputs"] == [2]
    assert lost_of(row, "2") == [("100.00", [])]
    # 0.2 × (100 + 0 + 80 + 100 + 100) = 76.00
    assert row["total"] == "76.00" and row["grade"] == "良好"
    assert result["draft"] is True
    assert region_of(result, KF)["draft"] is False


def test_the_latest_office_input_counts_even_after_the_cut_off():
    """The office judges after the campaign: its latest score at the assessed position counts."""
    log = Log()
    log.open_year()
    log.report(ZZ)
    log.score(ZZ, 2, "80")
    log.score(ZZ, 2, "10")
    latest = log.score(ZZ, 2, "90.5", at=AFTER_CUT)
    log.score(ZZ, 3, "100")
    row = region_of(run(log))
    assert row["criteria"]["2"]["score"] == "90.50"
    assert lost_of(row, "2") == [("9.50", [latest])]
    assert row["draft"] is False


# -- C4 worker resettlement ----------------------------------------------------------------------------
def test_no_worker_affected_gives_full_resettlement_marks():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10", workers=0)])
    log.verify(f"{ZZ}-2016-{filed}-1", 0)
    log.full_marks(ZZ)
    row = region_of(run(log))
    assert row["criteria"]["4"] == {"score": "100.00", "lost": []}


def test_resettlement_is_the_share_of_affected_workers_over_verified_eliminations():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10", workers=10, equipment="a"), entry("炼铁", "10", workers=30, equipment="b"),
                            entry("炼铁", "10", workers=50, equipment="c")])
    log.verify(f"{ZZ}-2016-{filed}-1", 10)
    eliminated, verified = log.verify(f"{ZZ}-2016-{filed}-2", 20)
    log.eliminate(f"{ZZ}-2016-{filed}-3", 0)  # not verified: not counted
    log.full_marks(ZZ)
    row = region_of(run(log))
    # (10 + 20) / (10 + 30) = 75.00; the 25 lost are item b's (10 of 30 short)
    assert row["criteria"]["4"]["score"] == "75.00"
    assert lost_of(row, "4") == [("25.00", [eliminated, verified])]


# -- C5 reporting compliance ---------------------------------------------------------------------------
def test_a_late_report_scores_sixty_with_the_report_as_evidence():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, at=LATE)
    log.full_marks(ZZ)
    row = region_of(run(log))
    assert row["criteria"]["5"]["score"] == "60.00"
    assert lost_of(row, "5") == [("40.00", [filed])]
    assert row["criteria"]["1"]["score"] == "100.00"  # filed by the cut-off, nothing due
    assert row["cleared"] is True


def test_a_report_filed_after_the_cut_off_counts_as_missing():
    log = Log()
    opened = log.open_year()
    log.full_marks(ZZ)
    log.report(ZZ, at=AFTER_CUT)
    state = log.state()
    result = assess(state, 2016, cut_off=CUT)
    row = region_of(result)
    assert scores(row)[0] == "0.00" and scores(row)[4] == "0.00"
    assert lost_of(row, "5") == [("100.00", [opened])]
    assert row["cleared"] is False
    assert result["position"] == state.seq == 4  # the position folded, beyond the cut-off


def test_a_tip_revealing_capacity_under_a_zero_report_costs_ten_and_its_item_becomes_a_target():
    log = Log()
    log.open_year()
    log.report(ZZ)  # zero report, on time
    due = "2016-12-05T15:59:59.999999Z"
    tip = log.tip("t1", ZZ, at=LATE, due_at=due)
    resolved = log.resolve("t1", at="2016-11-25T02:00:00.000000Z", due_at=due, resolution="confirmed",
                           entry=entry("水泥", "20", planned="2016-12-20"), revealed="zero_report")
    log.full_marks(ZZ)
    row = region_of(run(log))
    # C5 = 100 − 10; C1 = 0: the tip's 20 万吨 of 水泥 is due in 2016 and not verified
    assert row["criteria"]["5"]["score"] == "90.00"
    assert lost_of(row, "5") == [("10.00", [tip, resolved])]
    assert row["criteria"]["1"]["score"] == "0.00"
    assert lost_of(row, "1") == [("100.00", [resolved])]
    assert row["cleared"] is False


def test_a_late_tip_resolution_and_a_tip_open_past_its_period_cost_five_each():
    log = Log()
    log.open_year()
    log.report(ZZ)
    late_due, open_due, later_due = ("2016-11-25T15:59:59.999999Z", "2016-12-20T15:59:59.999999Z",
                                     "2017-01-15T15:59:59.999999Z")
    late = log.tip("late", ZZ, at="2016-11-10T02:00:00.000000Z", due_at=late_due)
    resolved = log.resolve("late", at="2016-11-28T02:00:00.000000Z", due_at=late_due)
    overdue = log.tip("overdue", ZZ, at="2016-12-05T02:00:00.000000Z", due_at=open_due)
    log.tip("in-time", ZZ, at="2016-12-30T02:00:00.000000Z", due_at=later_due)  # open, but not yet due at the cut-off
    # filed at 2017-01-01 00:30 in Henan: a 2017 tip, even though its UTC date is 2016-12-31
    log.tip("next-year", ZZ, at="2016-12-31T16:30:00.000000Z", due_at="2017-01-01T00:00:00.000000Z")
    on_time = log.tip("prompt", ZZ, at="2016-11-10T02:00:00.000000Z", due_at=late_due)
    log.resolve("prompt", at="2016-11-12T02:00:00.000000Z", due_at=late_due)
    log.full_marks(ZZ)
    row = region_of(run(log))
    # 100 − 5 (resolved late) − 5 (open past its period) = 90
    assert row["criteria"]["5"]["score"] == "90.00"
    assert lost_of(row, "5") == [("5.00", [late, resolved]), ("5.00", [overdue])]
    assert on_time not in {seq for _, seqs in lost_of(row, "5") for seq in seqs}


def test_compliance_never_goes_below_zero_and_the_absorbed_deduction_stays_listed():
    log = Log()
    opened = log.open_year()
    due = "2016-12-05T15:59:59.999999Z"
    tip = log.tip("t1", ZZ, at=LATE, due_at=due)
    resolved = log.resolve("t1", at="2016-11-25T02:00:00.000000Z", due_at=due, resolution="confirmed",
                           entry=entry("水泥", "20", planned="2017-03-01"), revealed="unreported")
    log.full_marks(ZZ)
    row = region_of(run(log))
    # 0 (missing) − 10 (revealed) → 0: the 100 points are the missing report's, the tip took nothing more
    assert row["criteria"]["5"]["score"] == "0.00"
    assert lost_of(row, "5") == [("100.00", [opened]), ("0.00", [tip, resolved])]


# -- total, weights, rounding, grades ------------------------------------------------------------------
def test_weights_other_than_equal():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10"), entry("水泥", "10", equipment="立窑")], at=LATE)
    log.verify(f"{ZZ}-2016-{filed}-1")
    log.score(ZZ, 2, "100")
    log.score(ZZ, 3, "80")
    row = region_of(run(log, weights=(Decimal("0.4"), Decimal("0.15"), Decimal("0.15"), Decimal("0.15"),
                                      Decimal("0.15"))))
    # C = 50, 100, 80, 100, 60: 0.4×50 + 0.15×100 + 0.15×80 + 0.15×100 + 0.15×60 = 20 + 15 + 12 + 15 + 9 = 71.00
    assert scores(row) == ["50.00", "100.00", "80.00", "100.00", "60.00"]
    assert row["total"] == "71.00" and row["grade"] == "合格"
    equal = region_of(run(log))
    assert equal["total"] == "78.00"  # 0.2 × (50 + 100 + 80 + 100 + 60) = 78.00


@pytest.mark.parametrize("weights", [(Decimal("0.5"),) * 2, (Decimal("0.3"),) * 5, (0.2,) * 5,
                                     (Decimal("-0.2"), Decimal("0.4"), Decimal("0.2"), Decimal("0.3"), Decimal("0.3"))])
def test_weights_are_five_non_negative_decimals_adding_up_to_one(weights):
    log = Log()
    log.open_year()
    with pytest.raises(ValueError):
        run(log, weights=weights)


def test_the_total_is_rounded_half_up_at_two_decimals():
    log = Log()
    log.open_year()
    log.report(ZZ)
    log.score(ZZ, 2, "87.25")
    log.score(ZZ, 3, "100")
    row = region_of(run(log, weights=(Decimal("0.225"), Decimal("0.1"), Decimal("0.225"), Decimal("0.225"),
                                      Decimal("0.225"))))
    # 0.1 × 87.25 + 0.9 × 100 = 8.725 + 90 = 98.725 → 98.73 (half up; half even would give 98.72)
    assert row["total"] == "98.73"


def test_a_criterion_is_rounded_half_up_and_its_lost_points_add_up_to_what_it_lost():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "1.2345", equipment="a"), entry("炼铁", "8.7655", equipment="b")])
    log.verify(f"{ZZ}-2016-{filed}-1")
    log.full_marks(ZZ)
    row = region_of(run(log))
    # 1.2345 / (1.2345 + 8.7655) = 0.12345 → 12.345 → 12.35 (half up); lost 100 − 12.35 = 87.65
    assert row["criteria"]["1"]["score"] == "12.35"
    assert lost_of(row, "1") == [("87.65", [filed])]


def test_three_industries_share_their_lost_points_to_the_cent():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "3"), entry("水泥", "3", equipment="立窑"), entry("焦炭", "3", equipment="焦炉")])
    log.full_marks(ZZ)
    for n in (1, 2, 3):
        log.eliminate(f"{ZZ}-2016-{filed}-{n}")
    row = region_of(run(log))
    # none verified: C1 0; each industry's 100/3 = 33.333… share, the odd cent to the first in name order
    assert row["criteria"]["1"]["score"] == "0.00"
    points = sorted(p for p, _ in lost_of(row, "1"))
    assert points == ["33.33", "33.33", "33.34"]


@pytest.mark.parametrize("total, expected", [("90.00", "优秀"), ("89.99", "良好"), ("75.00", "良好"), ("74.99", "合格"),
                                             ("60.00", "合格"), ("59.99", "不合格"), ("100.00", "优秀"), ("0.00", "不合格")])
def test_grade_bands(total, expected):
    assert grade(Decimal(total)) == expected


@pytest.mark.parametrize("c2, c3, total, expected", [
    ("50", "100", "90.00", "优秀"),  # 0.2 × (100 + 50 + 100 + 100 + 100) = 90
    ("0", "75", "75.00", "良好"),  # 0.2 × (100 + 0 + 75 + 100 + 100) = 75
    ("0", "0", "60.00", "合格"),  # 0.2 × (100 + 0 + 0 + 100 + 100) = 60
    ("0", "0.5", "60.10", "合格"),  # 0.2 × (300 + 0.5) = 60.10
])
def test_grades_at_exactly_the_band_edges(c2, c3, total, expected):
    log = Log()
    log.open_year()
    log.report(ZZ)
    log.score(ZZ, 2, c2)
    log.score(ZZ, 3, c3)
    row = region_of(run(log))
    assert (row["total"], row["grade"]) == (total, expected)


def test_regions_are_ranked_by_total_then_code_and_equal_totals_share_a_rank():
    log = Log()
    log.open_year(regions=(ZZ, KF, "410300"))
    for region in (ZZ, KF, "410300"):
        log.report(region)
    log.full_marks(ZZ, KF)
    log.score("410300", 2, "100")
    log.score("410300", 3, "100")
    log.score(ZZ, 3, "50")  # 郑州 90.00, 开封 and 洛阳 100.00
    result = assess(log.state(), 2016, cut_off=CUT)
    assert result["ranking"] == [KF, "410300", ZZ]
    assert [row["rank"] for row in result["regions"]] == [3, 1, 1]  # in code order: 410100, 410200, 410300
    assert [row["region"] for row in result["regions"]] == [ZZ, KF, "410300"]
    assert result["regions"][0]["name"] == ""  # no names given


# -- cleared, the result, the evidence ---------------------------------------------------------------
def test_cleared_needs_the_report_and_every_item_up_to_the_year_verified():
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10"), entry("水泥", "10", equipment="立窑")])
    log.verify(f"{ZZ}-2016-{filed}-1")
    log.report(KF)  # zero report, no item
    log.full_marks(ZZ, KF)
    state = log.state()
    assert region_of(assess(state, 2016, cut_off=CUT))["cleared"] is False
    assert region_of(assess(state, 2016, cut_off=CUT), KF)["cleared"] is True
    log.verify(f"{ZZ}-2016-{filed}-2")
    assert region_of(run(log))["cleared"] is True


def test_a_year_not_opened_is_assessed_over_the_names_given():
    result = assess(CampaignState(), 2019, cut_off="2020-01-03T15:59:59.999999Z", names=NAMES)
    assert [row["region"] for row in result["regions"]] == [ZZ, KF]
    assert region_of(result)["name"] == "郑州市"
    assert assess(CampaignState(), 2019, cut_off="2020-01-03T15:59:59.999999Z")["regions"] == []


def test_the_cut_off_is_accepted_in_any_offset_and_recorded_in_the_log_form():
    log = Log()
    log.open_year()
    assert run(log, cut_off="2017-01-03T23:59:59.999999+08:00")["cut_off"] == CUT


def busy_log() -> Log:
    log = Log()
    log.open_year()
    filed = log.report(ZZ, [entry("炼铁", "10", workers=20, equipment="a"), entry("炼铁", "5", workers=5, equipment="b"),
                            entry("水泥", "7.5", equipment="立窑", workers=3)], at=LATE)
    log.verify(f"{ZZ}-2016-{filed}-1", 15)
    log.verify(f"{ZZ}-2016-{filed}-3", 1)
    log.eliminate(f"{ZZ}-2016-{filed}-2", 5)
    due = "2016-12-05T15:59:59.999999Z"
    log.tip("t1", ZZ, at=LATE, due_at=due)
    log.resolve("t1", at="2016-12-06T02:00:00.000000Z", due_at=due, resolution="confirmed",
                entry=entry("焦炭", "4", equipment="焦炉"), revealed="unreported")
    log.tip("t2", KF, at=LATE, due_at=due)
    log.score(ZZ, 2, "77.77")
    log.score(KF, 3, "66")
    return log


def test_every_lost_point_has_its_events_except_a_missing_input_and_adds_up():
    result = run(busy_log())
    for row in result["regions"]:
        for key in "12345":
            criterion = row["criteria"][key]
            for lost in criterion["lost"]:
                assert set(lost) == {"points", "reason", "reason_zh", "seqs"}
                assert lost["reason"] and lost["reason_zh"]
                if key in "23" and int(key) in row["missing_inputs"]:
                    assert lost["seqs"] == []
                else:
                    assert lost["seqs"], (row["region"], key, lost)
            total_lost = sum((Decimal(lost["points"]) for lost in criterion["lost"]), Decimal(0))
            assert total_lost == 100 - Decimal(criterion["score"]), (row["region"], key)


def test_the_busy_region_in_numbers():
    row = region_of(run(busy_log()))
    # C1: 炼铁 10 of 15 verified (2/3), 水泥 7.5 of 7.5 (1), 焦炭 0 of 4 (0): 100 × (2/3 + 1 + 0) / 3 = 55.555… → 55.56
    # C4: verified items a and 立窑: (15 + 1) / (20 + 3) = 69.565… → 69.57
    # C5: late 60 − 10 (tip revealed) − 5 (resolved after its due time) = 45
    assert scores(row) == ["55.56", "77.77", "0.00", "69.57", "45.00"]
    # 0.2 × (55.56 + 77.77 + 0 + 69.57 + 45) = 0.2 × 247.90 = 49.58
    assert row["total"] == "49.58" and row["grade"] == "不合格" and row["missing_inputs"] == [3]


def test_the_result_carries_no_float_and_its_digest_is_stable_and_follows_the_scores():
    log = busy_log()
    first, second = run(log), run(log)
    assert first == second
    body = {key: value for key, value in first.items() if key != "digest"}
    assert first["digest"] == hashlib.sha256(dumps(body)).hexdigest()
    assert first["weights"] == ["0.2"] * 5 and first["year"] == 2016 and first["position"] == len(log.events)
    log.score(ZZ, 3, "50")
    changed = run(log)
    assert changed["digest"] != first["digest"]


def test_a_verification_after_the_cut_off_changes_the_position_but_not_the_scores():
    log = busy_log()
    before = run(log)
    filed = log.report(LY, [entry("炼铁", "5", equipment="late line")], at=AFTER_CUT)
    log.verify(f"{LY}-2016-{filed}-1", 0, at=AFTER_CUT)
    after = run(log)
    assert after["regions"] == before["regions"] and after["position"] == before["position"] + 3  # filed, eliminated, verified


# -- the province summary and the default cut-off -------------------------------------------------------
def test_the_province_summary_counts_capacity_per_industry_in_its_unit():
    log = busy_log()
    log.report(KF, [entry("平板玻璃", "120", equipment="浮法线"), entry("炼铁", "2.5", equipment="c", planned="2017-05-01")])
    state = log.state()
    result = assess(state, 2016, cut_off=CUT, names=NAMES)
    summary = province_summary(state, 2016, CUT, result)
    assert summary["cleared"] == {"count": 0, "regions": []}
    assert summary["ranking"] == result["ranking"] and summary["assessment_digest"] == result["digest"]
    industries = {row["industry"]: row for row in summary["industries"]}
    # 炼铁 due in 2016: 10 + 5 registered, both eliminated, 10 verified (开封's 2.5 is due in 2017)
    assert industries["炼铁"] == {"industry": "炼铁", "unit": "万吨", "items": 2, "registered": "15", "eliminated": "15",
                                 "verified": "10"}
    assert industries["水泥"]["registered"] == industries["水泥"]["verified"] == "7.5"
    assert industries["焦炭"] == {"industry": "焦炭", "unit": "万吨", "items": 1, "registered": "4", "eliminated": "0",
                                 "verified": "0"}
    assert industries["平板玻璃"]["unit"] == "万重量箱" and industries["平板玻璃"]["registered"] == "120"
    with pytest.raises(ValueError):
        province_summary(state, 2016, AFTER_CUT, result)


def test_the_default_cut_off_is_the_end_of_acceptance_or_a_year_after_the_report_deadline():
    calendar = default_reference().calendar
    assert default_cut_off(calendar, 2016) == "2017-01-03T15:59:59.999999Z"  # 2017-01-03 24:00 in Henan
    assert default_cut_off(calendar, 2018) == "2019-01-03T15:59:59.999999Z"  # standing: +1:01-03
    bare = Calendar(time_zone=ZoneInfo("Asia/Shanghai"), first_year=2016, tip_resolution_days=15, years={},
                    standing={"report_due": "12-15"})
    assert default_cut_off(bare, 2018) == "2019-12-15T15:59:59.999999Z"  # due 2018-12-15, one year on
