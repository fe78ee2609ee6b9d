"""The announcement in figures: progress as the announcement says it on the day (overdue once a
deadline has passed unmet), capacity summed exactly and per industry in its own unit, tips by outcome."""
from __future__ import annotations

from services.notify.domain.announcement_summary import summary


def item(region: str, industry: str, unit: str, status: str, capacity: str, planned: str = "2016-12-31") -> dict:
    return {"region": region, "industry": industry, "unit": unit, "status": status, "planned_date": planned,
            "capacity": capacity}


ITEMS = [item("410100", "炼钢", "万吨", "verified", "0.1"), item("410100", "炼钢", "万吨", "eliminated", "0.1"),
         item("410100", "炼钢", "万吨", "registered", "0.1", planned="2016-06-30"),
         item("410200", "平板玻璃", "万重量箱", "scheduled", "120")]
NAMES = {"410100": "郑州市", "410200": "开封市"}


def test_progress_is_the_days_and_capacity_is_exact_and_never_added_across_units():
    found = summary(ITEMS, {}, [], today="2016-11-20", position=9, names=NAMES)
    assert found["enterprises"] == 4 and found["position"] == 9 and found["as_of"] == "2016-11-20"
    assert found["progress"] == {"已验收": 1, "已淘汰待验收": 1, "逾期未淘汰": 1, "列入淘汰计划": 1}
    assert found["industries"] == [
        {"industry": "平板玻璃", "unit": "万重量箱", "count": 1, "capacity": "120", "eliminated": "0"},
        {"industry": "炼钢", "unit": "万吨", "count": 3, "capacity": "0.3", "eliminated": "0.2"}]  # not 0.30000000000000004
    assert found["regions"] == [
        {"region": "410100", "region_name": "郑州市", "enterprises": 3,
         "progress": {"已验收": 1, "已淘汰待验收": 1, "逾期未淘汰": 1}},
        {"region": "410200", "region_name": "开封市", "enterprises": 1, "progress": {"列入淘汰计划": 1}}]
    assert summary(ITEMS, {}, [], today="2016-06-30", position=9, names=NAMES)["progress"]["已登记"] == 1  # not yet late


def test_tips_are_counted_by_outcome_and_the_latest_name_no_one_unconfirmed():
    latest = [{"region": "410200", "status": "unfounded", "enterprise": "某企业", "explanation": "已关停",
               "resolved_at": "2016-11-19T02:00:00.000000Z"},
              {"region": "410100", "status": "confirmed", "enterprise": "某钢厂", "explanation": "属实",
               "resolved_at": "2016-11-18T02:00:00.000000Z"}]
    found = summary([], {"confirmed": 2, "unfounded": 1, "open": 4}, latest, today="2016-11-20", position=3, names=NAMES)
    assert found["tips"] == {"属实": 2, "不属实": 1} and found["enterprises"] == 0
    assert [(t["outcome"], t["enterprise"], t["region_name"]) for t in found["latest_tips"]] == [
        ("不属实", "", "开封市"), ("属实", "某钢厂", "郑州市")]
