"""Every kind of submission of the campaign, through HTTP and the broker onto the ledger and into
its projections — amendments, department lists, eliminations and their verification, anonymous
tips — on SQLite + in-process broker and on PostgreSQL + RabbitMQ, ending in a clean verify and a
replay that reproduces the live state."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.tips import verify_ack
from shared.testing import data

from .helpers import cli_json, recorded, rejected

pytestmark = pytest.mark.e2e






def items_of(reader, **params) -> dict:
    answer = reader.get("ledger", "/v1/items", params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    return {item["item_id"]: item for item in answer.json()["items"]}


def test_a_whole_campaign_lands_on_the_ledger_and_replays(system, api, keys, clock):
    zhengzhou = api.as_key(keys("region", region="410100"))
    kaifeng = api.as_key(keys("region", region="410200"))
    office = api.as_key(keys("office"))
    environment = api.as_key(keys("department", department="environment"))
    auditor = api.as_key(keys("auditor"))
    checkpoints = []  # the live state's (seq, digest) at moments along the way

    def checkpoint():
        live = auditor.get("ledger", "/v1/state").json()
        checkpoints.append((live["seq"], live["digest"]))

    # A form with two lines, then an amendment that drops one and adds another.
    recorded(zhengzhou, zhengzhou.file_report(data.report("410100", entries=2)))
    kept, dropped = data.entry(1), data.entry(2)
    added = data.entry(3, capacity="30")
    amendment = {**data.report("410100"), "amendment": True, "reason": "补报漏报企业",
                 "entries": [{**kept, "capacity": "15"}, added]}
    recorded(zhengzhou, zhengzhou.file_report(amendment))
    kaifeng_zero = recorded(kaifeng, kaifeng.file_report(data.report("410200", zero=True)))
    assert rejected(kaifeng, kaifeng.file_report(data.report("410200", zero=True))) == ["duplicate_report"]

    checkpoint()
    registry = {r["region"]: r for r in office.get("ledger", "/v1/reports", params={"year": 2016}).json()["regions"]}
    assert [v["kind"] for v in registry["410100"]["history"]] == ["filed", "amended"]
    assert registry["410100"]["history"][1]["reason"] == "补报漏报企业"
    assert registry["410100"]["status"] == "on_time" and registry["410100"]["item_count"] == 2
    items = items_of(office, region="410100")
    by_uscc = {i["uscc"]: i for i in items.values()}
    assert by_uscc[kept["uscc"]]["capacity"] == "15" and by_uscc[kept["uscc"]]["status"] == "registered"
    assert by_uscc[dropped["uscc"]]["status"] == "withdrawn"
    assert by_uscc[added["uscc"]]["status"] == "registered"
    kept_id, added_id = by_uscc[kept["uscc"]]["item_id"], by_uscc[added["uscc"]]["item_id"]

    # Elimination, a rejected verification, a second report and verification.
    eliminate = {"item_id": kept_id, "eliminated_on": "2016-10-30", "method": "拆除", "evidence": "拆除现场照片及验收单",
                 "workers_resettled": 100}
    recorded(zhengzhou, zhengzhou.post("intake", "/v1/eliminations", json=eliminate))
    assert rejected(zhengzhou, zhengzhou.post("intake", "/v1/eliminations", json=eliminate)) == ["already_reported"]
    recorded(office, office.post("intake", "/v1/verifications",
                                 json={"item_id": kept_id, "decision": "rejected", "reason": "设备未拆除到位"}))
    assert items_of(office, region="410100")[kept_id]["status"] == "scheduled"
    assert rejected(office, office.post("intake", "/v1/verifications",
                                        json={"item_id": kept_id, "decision": "verified"})) == ["no_elimination_reported"]
    recorded(zhengzhou, zhengzhou.post("intake", "/v1/eliminations", json=eliminate))
    verified = recorded(office, office.post("intake", "/v1/verifications", json={"item_id": kept_id, "decision": "verified"}))
    assert rejected(office, office.post("intake", "/v1/verifications",
                                        json={"item_id": kept_id, "decision": "verified"})) == ["already_verified"]
    assert rejected(zhengzhou, zhengzhou.post("intake", "/v1/eliminations",
                                              json={**eliminate, "item_id": "410100-2016-999-1"})) == ["unknown_item"]
    # Another region's item is not found for a region key, and nothing is recorded.
    refused = kaifeng.post("intake", "/v1/eliminations", json={**eliminate, "item_id": added_id})
    assert refused.status_code == 404
    assert kaifeng.get("ledger", f"/v1/items/{added_id}").status_code == 404
    one = zhengzhou.get("ledger", f"/v1/items/{kept_id}").json()
    assert (one["item_id"], one["status"], one["capacity"], one["workers_resettled"]) == (kept_id, "verified", "15", 100)

    checkpoint()
    history = office.get("ledger", f"/v1/items/{kept_id}/history").json()["events"]
    assert [e["type"].split(".")[1] for e in history] == [
        "report_filed", "report_amended", "elimination_reported", "elimination_decided", "elimination_reported",
        "elimination_decided"]
    assert history[-1]["seq"] == verified["seq"]

    # A department list: one enterprise Zhengzhou omits, one Kaifeng's zero report denies, and
    # one whose capacity was verified eliminated (a resurgence).
    hidden = data.entry(7, region="410200")
    listing = {"year": 2016, "entries": [
        {"enterprise": "郑州某焦化厂", "uscc": data.make_uscc(40), "region": "410100", "industry": "焦炭",
         "basis": "emissions", "detail": "超标排放"},
        {"enterprise": hidden["enterprise"], "uscc": hidden["uscc"], "region": "410200", "industry": "炼钢",
         "basis": "emissions", "detail": "无证排污"},
        {"enterprise": kept["enterprise"], "uscc": kept["uscc"], "region": "410100", "industry": "炼钢",
         "basis": "emissions", "detail": "死灰复燃"}]}
    recorded(environment, environment.post("intake", "/v1/department-lists", json=listing))
    assert rejected(environment, environment.post("intake", "/v1/department-lists", json={
        **listing, "entries": [{**listing["entries"][0], "basis": "safety"}]})) == ["basis_not_allowed"]
    checkpoint()
    cross = office.get("ledger", "/v1/discrepancies").json()
    assert {(d["region"], d["kind"]) for d in cross["discrepancies"]} == {("410100", "omitted"), ("410200", "zero_report")}
    resurgent = office.get("ledger", "/v1/resurgences").json()["resurgences"]
    assert [(r["source"], r["uscc"], r["item_ids"]) for r in resurgent] == [("list", kept["uscc"], [kept_id])]
    mine = zhengzhou.get("ledger", "/v1/discrepancies").json()
    assert {d["region"] for d in mine["discrepancies"]} == {"410100"}

    # An anonymous tip about the enterprise Kaifeng's zero report hides: receipt once, signed
    # acknowledgement of its place on the log, followed by receipt, resolved by Kaifeng.
    tip = api.as_key(None).post("intake", "/v1/tips", json={
        "region": "410200", "enterprise": hidden["enterprise"], "location": "开封市祥符区", "contact": "13800000000",
        "description": "夜间偷偷生产，烟囱冒黑烟"})
    assert tip.status_code == 201, tip.text
    receipt, tip_id = tip.json()["receipt"], tip.json()["tip_id"]
    ack = tip.json()["acknowledgement"]
    public_key = api.get("intake", "/v1/tips/signing-key").json()["public_key"]
    assert verify_ack(ack, public_key)
    feed = {e["id"]: e for e in auditor.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]}
    assert (ack["ack"]["seq"], ack["ack"]["hash"]) == (feed[tip_id]["seq"], feed[tip_id]["hash"])
    assert "13800000000" not in str(feed[tip_id]) and receipt not in str(feed[tip_id])
    assert api.post("intake", "/v1/tips/lookup", json={"receipt": receipt.lower()}).json()["status"] == "open"
    assert api.post("intake", "/v1/tips/lookup", json={"receipt": "TIP-" + "0" * 32}).status_code == 404

    assert zhengzhou.post("intake", f"/v1/tips/{tip_id}/resolution",
                          json={"resolution": "unfounded", "explanation": "x"}).status_code == 404
    clock.advance(timedelta(days=3))
    recorded(kaifeng, kaifeng.post("intake", f"/v1/tips/{tip_id}/resolution", json={
        "resolution": "confirmed", "explanation": "经核查属实，已责令停产并列入淘汰计划", "entry": hidden}))
    checkpoint()
    followed = api.post("intake", "/v1/tips/lookup", json={"receipt": receipt}).json()
    assert followed["status"] == "confirmed" and followed["explanation"].startswith("经核查属实")
    tips = office.get("ledger", "/v1/tips").json()["tips"]
    assert [(t["tip_id"], t["status"], t["revealed"], t["late"]) for t in tips] == [(tip_id, "confirmed", "zero_report", False)]
    from_tip = [i for i in items_of(office, region="410200").values() if i["source"] == "tip"]
    assert [(i["uscc"], i["tip_id"]) for i in from_tip] == [(hidden["uscc"], tip_id)]
    assert office.get("ledger", "/v1/tips", params={"region": "410100"}).json()["tips"] == []

    # Later: the plan is fixed (scheduled) and the unreported line is overdue.
    clock.set(clock.now().replace(year=2017, month=1, day=10))
    later = items_of(office, region="410100")
    assert later[added_id]["status"] == "scheduled" and later[added_id]["overdue"] is True
    assert later[kept_id]["status"] == "verified" and later[kept_id]["overdue"] is False
    assert set(items_of(office, status="overdue")) >= {added_id}

    # The state as of an earlier position is replayed from the log.
    before = items_of(office, region="410100", as_of=str(kaifeng_zero["seq"]))
    assert before[kept_id]["status"] == "registered" and before[kept_id]["capacity"] == "15"

    verdict = api.get("ledger", "/v1/verify").json()
    assert verdict["ok"] is True
    checkpoint()
    for seq, digest in checkpoints:  # replayed from the log as of each point: exactly the live state then
        replayed = cli_json(system.env, "ledger", "replay", "--as-of", str(seq), "--digest-only")
        assert (replayed["seq"], replayed["digest"]) == (seq, digest)
