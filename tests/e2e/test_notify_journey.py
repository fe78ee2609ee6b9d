"""Notify, driven by the clock (SPEC §7): every overdue duty raises exactly one alert to its region
and, 7 days later if still open, one to the office; a duty done stops its alerts; every alert is
on the ledger. And the public announcement: the enterprises and their progress, the outcomes of
resolved tips — never a tipster, never an open or unfounded allegation's target. Both backends."""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from decimal import Decimal
import io
import json
import time

import pytest

from shared.testing import data

from .helpers import at, notify_caught_up as caught_up, recorded

pytestmark = pytest.mark.e2e

ZZ, KF, LY = "410100", "410200", "410300"








def check(api, office) -> set[tuple[str, str, int]]:
    caught_up(api, office)
    answer = office.post("notify", "/v1/alerts/check")
    assert answer.status_code == 200, answer.text
    return {(a["subject"], a["rule"], a["level"]) for a in answer.json()["alerts"]}


def test_overdue_duties_alert_once_escalate_and_stop_when_done(system, api, keys, clock):
    office = api.as_key(keys("office"))
    zz, kf = api.as_key(keys("region", region=ZZ)), api.as_key(keys("region", region=KF))

    # 2016-11-01: 郑州 files a line planned for 2016-11-30; a tip about 开封.
    form = data.report(ZZ, entries=0) | {"entries": [data.entry(1, planned_date="2016-11-30")]}
    recorded(zz, zz.file_report(form))
    tip = api.post("intake", "/v1/tips", json={"region": KF, "enterprise": "开封某厂", "location": "开封",
                                               "description": "偷偷生产"}).json()["tip_id"]
    assert check(api, office) == set()  # nothing is due yet

    # 2016-11-16: the 2016 reports were due on 11-15: every other region is alerted, once.
    clock.set(at("2016-11-16T02:00:00"))
    first = check(api, office)
    assert ("report/410200/2016", "report_missing", 1) in first and len([a for a in first if a[1] == "report_missing"]) == 27
    assert not [a for a in first if a[0] == "report/410100/2016"]
    assert check(api, office) == set()  # asked again: nothing new

    # 开封 files; 2016-11-23 (7 days after the deadline): the others escalate to the office, 开封 not.
    recorded(kf, kf.file_report(data.report(KF, zero=True)))
    clock.set(at("2016-11-23T02:00:00"))
    escalated = check(api, office)
    assert ("report/410300/2016", "report_missing", 2) in escalated
    assert not [a for a in escalated if a[0] == "report/410200/2016"]
    # the tip (filed 11-01, due at the end of 11-16 Beijing time) is unresolved: alerted to 开封
    assert ("tip/" + tip, "tip_unresolved", 1) in escalated and ("tip/" + tip, "tip_unresolved", 2) not in escalated

    # 2016-12-01: 郑州's line (planned 11-30) is overdue; the tip escalates; 郑州 reports the
    # line eliminated the day after.
    clock.set(at("2016-12-01T02:00:00"))
    item_id = office.get("ledger", "/v1/items", params={"region": ZZ}).json()["items"][0]["item_id"]
    december = check(api, office)
    assert {("item/" + item_id, "elimination_overdue", 1), ("tip/" + tip, "tip_unresolved", 2)} <= december
    clock.set(at("2016-12-02T02:00:00"))
    recorded(zz, zz.post("intake", "/v1/eliminations", json={
        "item_id": item_id, "eliminated_on": "2016-12-02", "method": "拆除", "evidence": "照片", "workers_resettled": 120}))
    clock.set(at("2016-12-10T02:00:00"))
    assert not [a for a in check(api, office) if a[0] == "item/" + item_id]  # done: no escalation

    # Every alert is on the ledger, once, and the log verifies.
    issued = office.get("notify", "/v1/alerts").json()["alerts"]
    keys_issued = [(a["subject"], a["rule"], a["level"]) for a in issued]
    assert len(keys_issued) == len(set(keys_issued))
    caught_up(api, office)
    events = office.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
    on_log = {e["id"]: e for e in events if e["type"] == "notify.alert_issued.v1"}
    assert set(on_log) == {a["alert_id"] for a in issued}
    assert all(a["seq"] == on_log[a["alert_id"]]["seq"] for a in office.get("notify", "/v1/alerts").json()["alerts"])
    # issued in business time, as their events say: on the day the clock stood at, not the real one
    assert all(a["issued_at"] == on_log[a["alert_id"]]["occurred_at"] for a in issued)
    assert {a["issued_at"][:10] for a in issued} == {"2016-11-16", "2016-11-23", "2016-12-01"}
    some = on_log[next(a["alert_id"] for a in issued if a["subject"] == "report/410300/2016" and a["level"] == 2)]
    assert some["payload"]["recipient"] == "office" and some["payload"]["late_days"] == 7
    assert "洛阳市2016年度排查登记表" in some["payload"]["case"]
    assert api.get("ledger", "/v1/verify").json()["ok"] is True

    # A region sees its own alerts only.
    mine = kf.get("notify", "/v1/alerts").json()["alerts"]
    assert mine and {a["region"] for a in mine} == {KF}


def test_the_public_announcement_names_no_tipster_and_no_unconfirmed_allegation(system, api, keys, clock):
    office = api.as_key(keys("office"))
    zz, kf = api.as_key(keys("region", region=ZZ)), api.as_key(keys("region", region=KF))
    recorded(zz, zz.file_report(data.report(ZZ, entries=0) | {"entries": [data.entry(1, enterprise="郑州<b>钢铁</b>厂")]}))
    recorded(kf, kf.file_report(data.report(KF, zero=True)))
    confirmed = api.post("intake", "/v1/tips", json={"region": KF, "enterprise": "开封隐瞒焦化厂", "location": "开封",
                                                     "contact": "13900000000", "description": "零报告后仍在生产"}).json()
    unfounded = api.post("intake", "/v1/tips", json={"region": KF, "enterprise": "开封无辜企业", "location": "开封",
                                                     "description": "疑似"}).json()
    still_open = api.post("intake", "/v1/tips", json={"region": KF, "enterprise": "开封待查企业", "location": "开封",
                                                      "description": "待查"}).json()
    recorded(kf, kf.post("intake", f"/v1/tips/{confirmed['tip_id']}/resolution", json={
        "resolution": "confirmed", "explanation": "经核查属实，已列入淘汰计划",
        "entry": data.entry(7, region=KF, enterprise="开封隐瞒焦化厂", industry="焦炭", equipment="土焦炉")}))
    recorded(kf, kf.post("intake", f"/v1/tips/{unfounded['tip_id']}/resolution", json={
        "resolution": "unfounded", "explanation": "经现场核查，该企业已于2015年关停"}))
    caught_up(api, office)

    public = api.as_key(None)
    content = json.loads(public.get("notify", "/public/announcement.json").content)
    by_name = {row["enterprise"]: row for row in content["enterprises"]}
    assert by_name["开封隐瞒焦化厂"]["source"] == "群众举报" and by_name["开封隐瞒焦化厂"]["progress"] == "已登记"
    assert by_name["郑州<b>钢铁</b>厂"]["deadline"] == "2016-12-31"
    assert [(t["outcome"], t["enterprise"]) for t in content["tips"]] == [("属实", "开封隐瞒焦化厂"), ("不属实", "")]

    figures = public.get("notify", "/public/announcement/summary.json")  # what a home page shows, added up
    totals = figures.json()
    assert totals["position"] == content["position"] and totals["enterprises"] == len(content["enterprises"])
    assert totals["progress"] == dict(Counter(row["progress"] for row in content["enterprises"]))
    capacity: dict = defaultdict(Decimal)
    for row in content["enterprises"]:
        capacity[(row["industry"], row["unit"])] += Decimal(row["capacity"])
    assert {(line["industry"], line["unit"]): Decimal(line["capacity"]) for line in totals["industries"]} == capacity
    assert {row["region"]: row["enterprises"] for row in totals["regions"]} == dict(
        Counter(row["region"] for row in content["enterprises"]))
    assert totals["tips"] == {"属实": 1, "不属实": 1}
    assert [(t["outcome"], t["enterprise"]) for t in totals["latest_tips"]] == [("不属实", ""), ("属实", "开封隐瞒焦化厂")]

    page = public.get("notify", "/public/announcement")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.content.decode("utf-8")
    assert "郑州&lt;b&gt;钢铁&lt;/b&gt;厂" in text and "<b>钢铁</b>" not in text
    table = list(csv.reader(io.StringIO(public.get("notify", "/public/announcement.csv").content.decode("utf-8-sig"))))
    assert table[0][:4] == ["地区代码", "地区", "县（市、区）", "企业名称"] and len(table) == 1 + len(content["enterprises"])

    everything = page.content + public.get("notify", "/public/announcement.json").content + figures.content
    for secret in ("13900000000", "开封无辜企业", "开封待查企业", confirmed["receipt"], unfounded["receipt"],
                   still_open["tip_id"]):
        assert secret.encode() not in everything


def test_the_scheduler_wakes_on_its_own_and_issues_what_the_clock_says_is_due(tmp_path, clock, reference):
    from shared.testing.client import Api
    from shared.testing.plugin import system_on

    clock.set(at("2016-11-10T02:00:00"))
    with system_on("embedded", tmp_path, clock=clock, reference=reference,
                   env={"ZEROCLEAR_NOTIFY_SCHEDULE_SECONDS": "1"}) as running:
        api = Api(running.urls)
        office = api.as_key(running.keys.create("office")[0])
        zz = api.as_key(running.keys.create("region", region=ZZ)[0])
        filed = recorded(zz, zz.file_report(data.report(ZZ)))  # opens 2016, 郑州 on time
        deadline = time.monotonic() + 20
        while api.get("notify", "/public/announcement.json").json()["position"] < filed["seq"]:
            assert time.monotonic() < deadline, "notify did not follow the log"
            time.sleep(0.1)
        clock.set(at("2016-11-16T02:00:00"))  # the 27 other 2016 reports are overdue, the October circular due
        while len(office.get("notify", "/v1/alerts").json()["alerts"]) < 27:
            assert time.monotonic() < deadline, "the scheduler issued nothing on its own"
            time.sleep(0.1)
        issued = office.get("notify", "/v1/alerts").json()["alerts"]
        assert {a["rule"] for a in issued} == {"report_missing"} and ZZ not in {a["region"] for a in issued}
        while not office.get("notify", "/v1/circulars").json()["circulars"]:
            assert time.monotonic() < deadline, "no monthly circular"
            time.sleep(0.1)
        assert office.get("notify", "/v1/circulars").json()["circulars"][0]["period"] == "2016-10"



#: Enterprise names a spreadsheet would run as formulas (OWASP CSV injection); the variants
#: (full-width signs, leading whitespace, tab, carriage return) are the unit tests'.
FORMULAS = ('=HYPERLINK("http://x","点击查看")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3+cmd|' /C calc'!A0")


def test_the_open_data_csv_neutralises_formulas_while_the_json_keeps_the_text_as_filed(system, api, keys):
    office = api.as_key(keys("office"))
    zz = api.as_key(keys("region", region=ZZ))
    names = [*FORMULAS, "＝HYPERLINK(\"http://x\")"]  # full-width: whatever intake keeps of it
    entries = [data.entry(n, enterprise=name, county=name if n == 1 else "中牟县", equipment="=1+2")
               for n, name in enumerate(names, start=1)]
    recorded(zz, zz.file_report(data.report(ZZ, entries=0) | {"entries": entries}))
    caught_up(api, office)

    public = api.as_key(None)
    filed = [row["enterprise"] for row in json.loads(public.get("notify", "/public/announcement.json").content)["enterprises"]]
    assert set(FORMULAS) <= set(filed) and len(filed) == len(names)  # the JSON: the text as filed
    table = list(csv.reader(io.StringIO(public.get("notify", "/public/announcement.csv").content.decode("utf-8-sig"),
                                        newline="")))
    header, rows = table[0], table[1:]
    assert sorted(row[header.index("企业名称")] for row in rows) == sorted("'" + name for name in filed)
    assert {row[header.index("落后工艺装备")] for row in rows} == {"'=1+2"}
    assert "'" + FORMULAS[0] in {row[header.index("县（市、区）")] for row in rows}
    assert {row[header.index("产能")] for row in rows} == {"12.5"}  # figures stay figures
