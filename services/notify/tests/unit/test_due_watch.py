"""Notify's scheduler looks at what fell due since its last look (``DueWatch``) instead of every
duty of the campaign: against the full walk (``due_alerts``) at every look of random campaigns —
reports, amendments, eliminations verified and rejected, tips filed and resolved, a second year
opened, the clock moved by minutes, days and weeks, to the microsecond of a deadline, and back —
it finds only alerts due now, and every alert due now it finds or had found before."""
from __future__ import annotations

import pickle
import random
from datetime import datetime, timedelta, timezone

import pytest

from services.notify.domain.alerts import DueWatch, due_alerts
from services.notify.domain.campaign import NotifyState

REGIONS = ["410100", "410200", "410300", "410400"]
DEADLINES = {2016: datetime(2016, 11, 15, 15, 59, 59, 999999, tzinfo=timezone.utc),
             2017: datetime(2017, 11, 15, 15, 59, 59, 999999, tzinfo=timezone.utc)}
AT = "2016-11-01T00:00:00.000000Z"


class Campaign:
    """A random campaign, one event at a time, folded as notify folds it."""

    def __init__(self, rng: random.Random):
        self.rng, self.state = rng, NotifyState()
        self.open_years: list[int] = []
        self.tips = 0

    def add(self, type_: str, payload: dict) -> None:
        self.state.apply({"seq": self.state.seq + 1, "type": type_, "occurred_at": AT, "recorded_at": AT,
                          "payload": payload})

    def open_year(self, year: int) -> None:
        self.add("ledger.year_opened.v1", {"year": year, "deadline": DEADLINES[year].isoformat().replace("+00:00", "Z"),
                                           "time_zone": "Asia/Shanghai", "regions": REGIONS,
                                           "report_due": f"{year}-11-15"})
        self.open_years.append(year)

    def entry(self, year: int) -> dict:
        planned = DEADLINES[year].date() + timedelta(days=self.rng.randint(-5, 60))
        return {"enterprise": "某厂", "county": "某县", "industry": "炼钢", "equipment": "转炉", "equipment_count": 1,
                "capacity": "10", "unit": "万吨", "planned_date": planned.isoformat()}

    def step(self) -> None:
        rng, state = self.rng, self.state
        year, region = rng.choice(self.open_years), rng.choice(REGIONS)
        items = [i for i in state.items.values() if i.year == year]
        choice = rng.random()
        if choice < 0.2:
            self.add("intake.report_filed.v1", {"region": region, "year": year, "zero_report": False,
                                               "entries": [self.entry(year) for _ in range(rng.randint(1, 3))]})
        elif choice < 0.3 and (region, year) in state.reports:
            old = state.reports[(region, year)].item_ids
            kept = rng.sample(old, k=rng.randint(0, len(old)))
            self.add("intake.report_amended.v1", {
                "region": region, "year": year, "zero_report": False,
                "entries": [self.entry(year) for _ in kept] + [self.entry(year)], "matched": kept + [None],
                "withdrawn": [i for i in old if i not in kept]})
        elif choice < 0.5 and items:
            self.add("intake.elimination_reported.v1", {"item_id": rng.choice(items).item_id})
        elif choice < 0.65 and items:
            self.add("intake.elimination_decided.v1", {"item_id": rng.choice(items).item_id,
                                                      "decision": rng.choice(["verified", "rejected"])})
        elif choice < 0.8:
            self.tips += 1
            due = DEADLINES[year] + timedelta(days=rng.randint(-3, 20))
            self.add("intake.tip_filed.v1", {"submission_id": f"t{self.tips}", "region": region, "enterprise": "某厂",
                                             "due_at": due.isoformat().replace("+00:00", "Z")})
        elif self.tips:
            self.add("intake.tip_resolved.v1", {
                "tip_id": f"t{rng.randint(1, self.tips)}", "resolution": "founded", "explanation": "已查实",
                "entry": self.entry(year) if rng.random() < 0.5 else None, "year": year})


def moved(rng: random.Random, now: datetime) -> datetime:
    kind = rng.random()
    if kind < 0.1:  # to a deadline, or its escalation, to the microsecond
        moment = rng.choice(list(DEADLINES.values())) + rng.choice([timedelta(0), timedelta(days=7)])
        return moment + timedelta(microseconds=rng.choice([-1, 0, 1]))
    if kind < 0.15:
        return now - timedelta(days=rng.randint(1, 10))  # a demo's clock moved back
    return now + rng.choice([timedelta(minutes=rng.randint(1, 600)), timedelta(days=rng.randint(1, 9))])


@pytest.mark.parametrize("seed", range(12))
def test_each_look_finds_only_what_is_due_and_everything_due_was_found_at_it_or_before(seed):
    rng = random.Random(seed)
    campaign, watch, found_before = Campaign(rng), DueWatch(), set()
    campaign.open_year(2016)
    now = datetime(2016, 11, 1, tzinfo=timezone.utc)
    for look in range(150):
        for _ in range(rng.randint(0, 6)):
            campaign.step()
        if look == 60:
            campaign.open_year(2017)
        now = moved(rng, now)
        found = watch.look(campaign.state, now)
        due = {alert.key: alert for alert in due_alerts(campaign.state, now)}
        assert all(due.get(alert.key) == alert for alert in found), "found an alert that is not due now"
        found_before |= {alert.key for alert in found}
        assert set(due) <= found_before, f"look {look}: due and never found: {set(due) - found_before}"
    assert len(found_before) > 30  # the campaign did fall due, at both levels
    assert {level for _, _, level in found_before} == {1, 2}


def test_a_look_that_was_not_carried_out_is_made_again_whole():
    rng = random.Random(3)
    campaign, watch = Campaign(rng), DueWatch()
    campaign.open_year(2016)
    for _ in range(40):
        campaign.step()
    now = DEADLINES[2016] + timedelta(days=30)
    first = watch.look(campaign.state, now)
    assert first and watch.look(campaign.state, now) == []  # nothing new since
    watch.forget()  # the first look's alerts were not issued (the transaction rolled back)
    assert watch.look(campaign.state, now) == first


def test_a_copy_of_the_fold_carries_no_changes_for_anybody_to_watch():
    campaign = Campaign(random.Random(5))
    campaign.open_year(2016)
    DueWatch().look(campaign.state, DEADLINES[2016])
    for _ in range(20):
        campaign.step()
    assert campaign.state.due_changes.items or campaign.state.due_changes.tips
    assert pickle.loads(pickle.dumps(campaign.state)).due_changes is None
