"""Which duties are overdue at a moment, to whom, and when they escalate (SPEC §7)."""
from __future__ import annotations

from datetime import datetime, timezone

from services.notify.domain.alerts import ELIMINATION_OVERDUE, REPORT_MISSING, TIP_UNRESOLVED, due_alerts, still_due
from services.notify.domain.campaign import NotifyState

DEADLINE = "2016-11-15T15:59:59.999999Z"  # the end of 2016-11-15 in Henan


class Log:
    def __init__(self):
        self.state = NotifyState()

    def add(self, type_: str, payload: dict, at: str = "2016-11-01T00:00:00.000000Z") -> int:
        seq = self.state.seq + 1
        self.state.apply({"seq": seq, "type": type_, "occurred_at": at, "recorded_at": at, "payload": payload})
        return seq


def entry(planned: str) -> dict:
    return {"enterprise": "某厂", "county": "某县", "industry": "炼钢", "equipment": "转炉", "equipment_count": 1,
            "capacity": "10", "unit": "万吨", "planned_date": planned}


def campaign() -> Log:
    log = Log()
    log.add("ledger.year_opened.v1", {"year": 2016, "deadline": DEADLINE, "time_zone": "Asia/Shanghai",
                                      "regions": ["410100", "410200"], "report_due": "2016-11-15"})
    log.add("intake.report_filed.v1", {"region": "410100", "year": 2016, "zero_report": False,
                                       "entries": [entry("2016-11-20"), entry("2016-11-20")]})
    log.add("intake.tip_filed.v1", {"submission_id": "t1", "region": "410200", "enterprise": "某厂",
                                    "due_at": "2016-11-16T15:59:59.999999Z"})
    return log


def alerts_at(log: Log, when: str) -> set[tuple[str, str, int]]:
    now = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
    return {(a.subject, a.rule, a.level) for a in due_alerts(log.state, now)}


def test_nothing_is_due_before_a_deadline_and_at_it():
    assert alerts_at(campaign(), "2016-11-15T15:59:59.999999") == set()


def test_a_missing_report_alerts_its_region_then_the_office_seven_days_later():
    log = campaign()
    assert alerts_at(log, "2016-11-16T00:00:00") == {("report/410200/2016", REPORT_MISSING, 1)}
    assert ("report/410200/2016", REPORT_MISSING, 2) not in alerts_at(log, "2016-11-22T15:59:59")
    assert ("report/410200/2016", REPORT_MISSING, 2) in alerts_at(log, "2016-11-22T16:00:01")


def test_a_duty_done_is_no_longer_due_at_any_level():
    log = campaign()
    log.add("intake.report_filed.v1", {"region": "410200", "year": 2016, "zero_report": True, "entries": []})
    log.add("intake.elimination_reported.v1", {"item_id": "410100-2016-2-1"})
    log.add("intake.tip_resolved.v1", {"tip_id": "t1", "resolution": "unfounded", "explanation": "查无此事", "entry": None,
                                       "year": 2016})
    assert alerts_at(log, "2017-01-01T00:00:00") == {("item/410100-2016-2-2", ELIMINATION_OVERDUE, 1),
                                                     ("item/410100-2016-2-2", ELIMINATION_OVERDUE, 2)}


def test_a_rejected_elimination_is_due_again_and_a_withdrawn_item_never():
    log = campaign()
    log.add("intake.elimination_reported.v1", {"item_id": "410100-2016-2-1"})
    log.add("intake.elimination_decided.v1", {"item_id": "410100-2016-2-1", "decision": "rejected"})
    log.add("intake.report_amended.v1", {"region": "410100", "year": 2016, "zero_report": False,
                                         "entries": [entry("2016-11-20")], "matched": ["410100-2016-2-1"],
                                         "withdrawn": ["410100-2016-2-2"]})
    due = alerts_at(log, "2016-11-21T00:00:00")
    assert ("item/410100-2016-2-1", ELIMINATION_OVERDUE, 1) in due
    assert not [a for a in due if a[0] == "item/410100-2016-2-2"]
    assert ("tip/t1", TIP_UNRESOLVED, 1) in due


def test_still_due_answers_for_one_case_what_due_alerts_says_for_all():
    """The delivery's check (one case) agrees with the full list, for every alert that was ever
    due in the campaign, at moments before, between and after its deadlines and escalations,
    as duties get done; and a key naming no case of the campaign is never due."""
    log = campaign()
    moments = [datetime.fromisoformat(text).replace(tzinfo=timezone.utc) for text in (
        "2016-11-15T12:00:00", "2016-11-16T00:00:00", "2016-11-21T00:00:00", "2016-11-23T00:00:00", "2017-01-01T00:00:00")]
    ever = {a.key for now in moments for a in due_alerts(log.state, now)}
    ever |= {("report/410300/2016", REPORT_MISSING, 1), ("report/410200/2017", REPORT_MISSING, 1),
             ("report/410200/x", REPORT_MISSING, 1), ("item/nope", ELIMINATION_OVERDUE, 1), ("tip/nope", TIP_UNRESOLVED, 1),
             ("tip/t1", REPORT_MISSING, 1), ("item/410100-2016-2-1", ELIMINATION_OVERDUE, 3)}
    steps = [
        ("intake.report_filed.v1", {"region": "410200", "year": 2016, "zero_report": True, "entries": []}),
        ("intake.elimination_reported.v1", {"item_id": "410100-2016-2-1"}),
        ("intake.tip_resolved.v1", {"tip_id": "t1", "resolution": "unfounded", "explanation": "查无此事", "entry": None,
                                    "year": 2016}),
    ]
    for step in [None, *steps]:
        if step is not None:
            log.add(*step)
        for now in moments:
            due = {a.key for a in due_alerts(log.state, now)}
            assert due <= ever and {key for key in ever if still_due(log.state, now, key)} == due
    assert still_due(log.state, moments[-1], ("item/410100-2016-2-2", ELIMINATION_OVERDUE, 2))
