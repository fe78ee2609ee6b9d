"""A whole 2016 campaign through HTTP, then its assessment (SPEC §6), on both backends: regions on
time, late, missing and zero-with-a-hidden-enterprise, eliminations verified and rejected, the
office's inputs; the expected scores are worked out below by hand from SPEC §6, not by the code.
Then publication: refused while inputs are missing, recorded on the ledger once they are in, and
recomputed offline from an export to the same digest."""
from __future__ import annotations

import time

import pytest

from shared.testing import data

from .helpers import at, cli_json, recorded

pytestmark = pytest.mark.e2e

ZZ, KF, LY, PDS = "410100", "410200", "410300", "410400"  # 郑州, 开封, 洛阳, 平顶山






def followed(api, office, ledger_head: int) -> dict:
    """The year's assessment once the assessment service has followed the log to ``ledger_head``."""
    deadline = time.monotonic() + 20
    while True:
        found = office.get("assessment", "/v1/assessments/2016").json()
        if found["position"] >= ledger_head or time.monotonic() > deadline:
            assert found["position"] == ledger_head, found["position"]
            return found
        time.sleep(0.05)


def head(api) -> int:
    return api.get("ledger", "/v1/verify").json()["count"]


def items_of(office, region: str) -> list[dict]:
    return office.get("ledger", "/v1/items", params={"region": region}).json()["items"]


def score_input(office, region: str, criterion: int, score: str) -> None:
    answer = office.post("assessment", "/v1/assessment-inputs", json={
        "region": region, "year": 2016, "criterion": criterion, "score": score, "note": "省办公室评定"})
    assert answer.status_code == 202, answer.text
    status = office.get("assessment", answer.json()["status_url"], params={"wait": 10}).json()
    assert status["status"] == "recorded", status


def test_a_campaign_is_scored_as_spec_6_says_and_published(system, api, keys, clock, tmp_path):
    office = api.as_key(keys("office"))
    zz, kf, ly = (api.as_key(keys("region", region=code)) for code in (ZZ, KF, LY))

    # 2016-11-01 — 郑州 files three lines on time; 开封 a zero report on time.
    zz_form = data.report(ZZ, entries=0)
    zz_form["entries"] = [data.entry(1, capacity="100", workers_affected=100),
                          data.entry(2, capacity="50", workers_affected=50),
                          data.entry(3, industry="水泥", equipment="立窑", capacity="30", workers_affected=20)]
    recorded(zz, zz.file_report(zz_form))
    recorded(kf, kf.file_report(data.report(KF, zero=True)))

    # 2016-11-20 — 洛阳 files late (due 11-15); tips about 开封 and 洛阳.
    clock.set(at("2016-11-20T02:00:00"))
    recorded(ly, ly.file_report(data.report(LY, entries=0) | {"entries": [
        data.entry(9, region=LY, industry="水泥", equipment="立窑", capacity="20", workers_affected=0)]}))
    hidden = data.entry(7, region=KF, industry="焦炭", equipment="土焦炉", capacity="10", workers_affected=30)
    kf_tip = api.post("intake", "/v1/tips", json={"region": KF, "enterprise": hidden["enterprise"], "location": "开封",
                                                  "description": "零报告后仍在生产"}).json()["tip_id"]
    api.post("intake", "/v1/tips", json={"region": LY, "enterprise": "洛阳某厂", "location": "洛阳", "description": "偷偷生产"})

    # Eliminations: 郑州's first two verified (100 of 100 and 35 of 50 workers resettled), the
    # third rejected; 洛阳's line verified.
    zz_items = {i["capacity"]: i["item_id"] for i in items_of(office, ZZ)}
    ly_item = items_of(office, LY)[0]["item_id"]
    for client, item_id, workers in ((zz, zz_items["100"], 100), (zz, zz_items["50"], 35), (zz, zz_items["30"], 20),
                                     (ly, ly_item, 0)):
        recorded(client, client.post("intake", "/v1/eliminations", json={
            "item_id": item_id, "eliminated_on": "2016-11-19", "method": "拆除", "evidence": "现场核查",
            "workers_resettled": workers}))
    for item_id in (zz_items["100"], zz_items["50"], ly_item):
        recorded(office, office.post("intake", "/v1/verifications", json={"item_id": item_id, "decision": "verified"}))
    recorded(office, office.post("intake", "/v1/verifications",
                                 json={"item_id": zz_items["30"], "decision": "rejected", "reason": "未拆除到位"}))

    # 2016-11-25 — 开封 confirms its tip: capacity its zero report hid (a target, unverified).
    clock.set(at("2016-11-25T02:00:00"))
    recorded(kf, kf.post("intake", f"/v1/tips/{kf_tip}/resolution", json={
        "resolution": "confirmed", "explanation": "属实，列入淘汰计划", "entry": hidden}))

    # The office's inputs for four regions (criteria 2 and 3).
    for region, c2, c3 in ((ZZ, "90", "80"), (KF, "70", "60"), (LY, "100", "100"), (PDS, "50", "50")):
        score_input(office, region, 2, c2)
        score_input(office, region, 3, c3)
    score_input(office, ZZ, 2, "90.00")  # a later input replaces the earlier (same score: same result)

    clock.set(at("2017-01-10T00:00:00"))  # after the acceptance stage (2017-01-03): the default cut-off
    result = followed(api, office, head(api))
    rows = {row["region"]: row for row in result["regions"]}
    scores = {code: [rows[code]["criteria"][c]["score"] for c in "12345"] for code in (ZZ, KF, LY, PDS)}

    # 郑州: C1 = 100 × mean(炼钢 150/150, 水泥 0/30) = 50; C4 = 100 × (100+35)/(100+50) = 90;
    # C5 on time = 100; total = 0.2 × (50+90+80+90+100) = 82.00 → 良好; 水泥 unverified: not cleared.
    assert scores[ZZ] == ["50.00", "90.00", "80.00", "90.00", "100.00"]
    assert (rows[ZZ]["total"], rows[ZZ]["grade"], rows[ZZ]["cleared"]) == ("82.00", "良好", False)
    # 开封: the tip's 焦炭 line is its only target, unverified: C1 = 0; nothing verified: C4 = 100;
    # C5 = 100 − 10 (confirmed tip revealing capacity under a zero report) = 90;
    # total = 0.2 × (0+70+60+100+90) = 64.00 → 合格.
    assert scores[KF] == ["0.00", "70.00", "60.00", "100.00", "90.00"]
    assert (rows[KF]["total"], rows[KF]["grade"], rows[KF]["cleared"]) == ("64.00", "合格", False)
    # 洛阳: C1 = 20/20 → 100; C4: no worker affected → 100; C5 late = 60 − 5 (its tip, filed
    # 11-20, due 12-05, still open at the cut-off) = 55; total = 0.2 × (100+100+100+100+55) = 91.00
    # → 优秀; report filed and every item verified: cleared.
    assert scores[LY] == ["100.00", "100.00", "100.00", "100.00", "55.00"]
    assert (rows[LY]["total"], rows[LY]["grade"], rows[LY]["cleared"]) == ("91.00", "优秀", True)
    # 平顶山: no report: C1 = 0 (nothing due, nothing filed), C4 = 100, C5 = 0;
    # total = 0.2 × (0+50+50+100+0) = 40.00 → 不合格.
    assert scores[PDS] == ["0.00", "50.00", "50.00", "100.00", "0.00"]
    assert (rows[PDS]["total"], rows[PDS]["grade"]) == ("40.00", "不合格")
    assert result["ranking"][:4] == [LY, ZZ, KF, PDS] and rows[LY]["rank"] == 1

    # Every lost point names the events that caused it.
    feed = {e["seq"]: e for e in office.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]}
    for code in (ZZ, KF, LY, PDS):
        for criterion in ("1", "4", "5"):
            for lost in rows[code]["criteria"][criterion]["lost"]:
                assert lost["seqs"] and all(seq in feed for seq in lost["seqs"]), (code, criterion, lost)
    assert {feed[s]["type"] for s in _seqs(rows[LY]["criteria"]["5"])} == {"intake.report_filed.v1", "intake.tip_filed.v1"}
    assert {feed[s]["type"] for s in _seqs(rows[KF]["criteria"]["5"])} >= {"intake.tip_resolved.v1"}
    assert rows[ZZ]["draft"] is False and rows["410500"]["draft"] is True  # 安阳 has no inputs
    assert (result["status"], result["published"]) == ("draft", None)

    one = zz.get("assessment", f"/v1/assessments/2016/{ZZ}").json()
    assert one["total"] == "82.00"
    assert zz.get("assessment", f"/v1/assessments/2016/{KF}").status_code == 404
    assert [r["region"] for r in zz.get("assessment", "/v1/assessments/2016").json()["regions"]] == [ZZ]
    summary = office.get("assessment", "/v1/assessments/2016/summary").json()
    assert summary["cleared"] == {"count": 1, "regions": [LY]}
    steel = next(i for i in summary["industries"] if i["industry"] == "炼钢")
    assert (steel["unit"], steel["verified"]) == ("万吨", "150")

    # Publication: refused while any region lacks the office's inputs, then recorded on the ledger.
    refused = office.post("assessment", "/v1/assessments/2016/publish", json={})
    assert refused.status_code == 409
    assert len(refused.json()["missing"]) == 24 and {"region": "410500", "criteria": [2, 3]} in refused.json()["missing"]
    for region in [code for code in rows if code not in (ZZ, KF, LY, PDS)]:
        score_input(office, region, 2, "60")
        score_input(office, region, 3, "60")
    final = followed(api, office, head(api))
    published = office.post("assessment", "/v1/assessments/2016/publish", json={})
    assert published.status_code == 202, published.text
    status = office.get("assessment", published.json()["status_url"], params={"wait": 10}).json()
    assert status["status"] == "recorded"
    event = office.get("ledger", "/v1/events", params={"after": status["seq"] - 1, "limit": 1}).json()["events"][0]
    assert event["type"] == "assessment.published.v1"
    assert (event["payload"]["digest"], event["payload"]["position"]) == (final["digest"], final["position"])
    # it carries the ledger's signed checkpoint of its position: whoever keeps it holds the log to it
    witness = event["payload"]["checkpoint"]
    assert witness["size"] == final["position"] and witness == {
        key: office.get("ledger", f"/v1/checkpoints/{final['position']}").json()[key] for key in ("size", "root", "note")}
    assert published.json()["digest"] == final["digest"] and final["draft"] is False
    assert api.get("ledger", "/v1/verify").json()["ok"] is True

    # An auditor recomputes it offline from an export: the same numbers, the same digest.
    export_file = tmp_path / "ledger.jsonl"
    cli_json(system.env, "ledger", "export", str(export_file))
    offline = cli_json(system.env, "assess", "--year", "2016", "--from-export", str(export_file),
                       "--as-of", str(final["position"]))
    assert offline == {key: value for key, value in final.items() if key not in ("status", "published")}
    # ...and an operator from the assessment's own copy of the log, with no export at hand.
    from_journal = cli_json(system.env, "assess", "--year", "2016", "--as-of", str(final["position"]))
    assert from_journal == offline
    as_then = office.get("assessment", "/v1/assessments/2016", params={"as_of": str(final["position"])}).json()
    assert as_then["digest"] == final["digest"] and final["status"] == "provisional"
    now = followed(api, office, head(api))
    assert now["status"] == "final" and now["published"]["digest"] == final["digest"]
    assert now["published"]["seq"] == status["seq"] and now["published"]["position"] == final["position"]
    assert now["published"]["checkpoint"] == witness

    # A year is published once: a second publication is refused, a correction names the official
    # one and says why, and then it is the official one every reader shows.
    again = office.post("assessment", "/v1/assessments/2016/publish", json={})
    assert again.status_code == 409 and again.json()["published"]["seq"] == status["seq"]
    score_input(office, ZZ, 2, "95")
    followed(api, office, head(api))
    corrected = office.post("assessment", "/v1/assessments/2016/publish",
                            json={"corrects": status["seq"], "reason": "郑州组织领导评分录入有误，予以更正"})
    assert corrected.status_code == 202, corrected.text
    correction = office.get("assessment", corrected.json()["status_url"], params={"wait": 10}).json()
    assert correction["status"] == "recorded", correction
    official = followed(api, office, head(api))["published"]
    assert (official["seq"], official["replaces"], official["reason"]) == (
        correction["seq"], status["seq"], "郑州组织领导评分录入有误，予以更正")
    stale = office.post("assessment", "/v1/assessments/2016/publish", json={"corrects": status["seq"], "reason": "再次"})
    assert stale.status_code == 409 and stale.json()["published"]["seq"] == correction["seq"]


def _seqs(criterion: dict) -> list[int]:
    return [seq for lost in criterion["lost"] for seq in lost["seqs"]]
