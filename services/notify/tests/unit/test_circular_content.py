"""A circular's content from notify's fold and the assessment's scores at the same position: the
regions ranked as the assessment ranks them (SPEC §6 totals, grades, shared ranks), capacities added
only within one (industry, unit), the previous circular named — or none, for the year's first."""
from __future__ import annotations

import pytest

from services.notify.adapters.assessment import MemoryAssessments, ScoresUnavailable
from services.notify.domain.campaign import NotifyState
from services.notify.domain.circular import circular_content

DEADLINE = "2016-11-15T15:59:59.999999Z"
REGIONS = ["410100", "410200", "410300", "411200"]
NAMES = {"410100": "郑州市", "410200": "开封市", "410300": "洛阳市", "411200": "三门峡市"}


def entry(industry: str, unit: str, capacity: str) -> dict:
    return {"enterprise": "某厂", "county": "某县", "industry": industry, "equipment": "某设备", "equipment_count": 1,
            "capacity": capacity, "unit": unit, "planned_date": "2016-12-31"}


def state() -> NotifyState:
    folded = NotifyState()
    events = [("ledger.year_opened.v1", {"year": 2016, "deadline": DEADLINE, "time_zone": "Asia/Shanghai",
                                         "regions": REGIONS}),
              ("intake.report_filed.v1", {"region": "410100", "year": 2016, "zero_report": False, "entries": [
                  entry("炼钢", "万吨", "12.5"), entry("印染", "万米", "800"), entry("炼钢", "万吨", "10")]}),
              ("intake.report_filed.v1", {"region": "410200", "year": 2016, "zero_report": True, "entries": []})]
    for seq, (type_, payload) in enumerate(events, start=1):
        folded.apply({"seq": seq, "type": type_, "occurred_at": "2016-11-01T00:00:00.000000Z",
                      "recorded_at": "2016-11-01T00:00:00.000000Z", "payload": payload})
    return folded


def scores(position: int = 3) -> dict:
    """The assessment's answer (its wire shape): 三门峡 filed nothing and is last."""
    rows = [("410100", "82.00", "良好", 1, False), ("410200", "76.00", "良好", 2, False),
            ("410300", "76.00", "良好", 2, True), ("411200", "56.00", "不合格", 4, False)]
    return {"year": 2016, "position": position, "cut_off": "2017-01-03T15:59:59.999999Z", "digest": "e" * 64,
            "draft": True, "regions": [{"region": r, "total": t, "grade": g, "rank": k, "draft": d}
                                       for r, t, g, k, d in rows]}


def content(previous=None, given=None) -> dict:
    return circular_content(state(), circular_id="2016-3", year=2016, issued_at="2016-11-01T00:00:00.000000Z",
                            head_hash="f" * 64, today="2016-11-01", period="2016-11", names=NAMES,
                            scores=given or scores(), previous=previous, document_no="豫淘汰办〔2016〕12号")


def test_regions_are_ranked_by_the_assessments_totals_and_grades_with_shared_ranks():
    found = content()
    assert [(r["region"], r["rank"], r["total"], r["grade"], r["draft"]) for r in found["regions"]] == [
        ("410100", 1, "82.00", "良好", False), ("410200", 2, "76.00", "良好", False),
        ("410300", 2, "76.00", "良好", True), ("411200", 4, "56.00", "不合格", False)]
    assert found["ranking"] == {"position": 3, "cut_off": "2017-01-03T15:59:59.999999Z", "digest": "e" * 64,
                                "draft": True}
    assert found["document_no"] == "豫淘汰办〔2016〕12号"


def test_capacities_are_added_within_one_industry_and_unit_never_across_units():
    zz = content()["regions"][0]
    assert zz["industries"] == [
        {"industry": "印染", "unit": "万米", "registered": "800", "eliminated": "0", "verified": "0"},
        {"industry": "炼钢", "unit": "万吨", "registered": "22.5", "eliminated": "0", "verified": "0"}]
    assert "812.5" not in str(content()) and "822.5" not in str(content())


def test_scores_of_another_position_are_never_used():
    with pytest.raises(ValueError, match="as of 2"):
        content(given=scores(position=2))


def test_the_first_circular_names_no_previous_and_a_later_one_names_it_and_what_changed():
    first = content()
    assert first["number"] == 1 and first["previous"] is None and first["changes"] == []
    before = dict(first, regions=[dict(r, total="70.00", rank=3) if r["region"] == "410100" else r
                                  for r in first["regions"]], circular_id="2016-2", position=2)
    later = content(previous=before)
    assert later["number"] == 2 and later["previous"] == {"circular_id": "2016-2", "number": 1, "position": 2}
    assert {"region": "410100", "what": "考核总分：70.00（第3名）→82.00（第1名）"} in later["changes"]


def test_the_in_memory_assessments_answer_what_was_put_in_and_nothing_else():
    fake = MemoryAssessments()
    fake.put(scores(3))
    assert fake.scores(2016, 3)["position"] == 3
    with pytest.raises(ScoresUnavailable, match="position 4"):
        fake.scores(2016, 4)
