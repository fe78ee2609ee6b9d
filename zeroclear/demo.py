"""The demo mode (SPEC §9): a realistic 2016 campaign, filed through the running system's HTTP APIs
by the keys of its actors while the demo clock walks the campaign's calendar — reports on time,
late and missing, zero reports, department lists with an omission, tips confirmed, unfounded and
left open, an amendment, eliminations verified and rejected, the office's scores, alerts, a
circular and the published assessment. The same seed files the same campaign (its ids, keys
and hashes are new each time).

The clock walks day by day, and on each business day notify's scheduler runs (asked through
``POST /v1/schedule/run`` once notify and the assessment have followed the log, as the scheduler
would find it that day), so the alerts, their escalations 7 days later and the monthly circulars
appear on their own business days, not all at the last step.

It goes through the front door only (HTTP, keys), so what it leaves is exactly what real users
would: every fact on the ledger, every read model following it.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from stdnum.cn import uscc as uscc_number

from shared.reference import Reference

from .client import Client

YEAR = 2016
HENAN = ZoneInfo("Asia/Shanghai")
#: When the demo's log begins: the 2016 inspection stage (排查), before the report is due.
START = datetime(2016, 10, 20, 9, 0, tzinfo=HENAN)
#: The hour of each business day at which the demo runs notify's scheduler.
SCHEDULE_HOUR = 8
#: Regions that file late, that never file, and that file zero reports (零报告).
LATE, MISSING, ZERO = ("410900", "411600"), ("411200",), ("410225", "411525", "411729")
_TRADE_NAMES = ("宏达", "金源", "华丰", "永兴", "恒通", "鑫磊", "中原", "天瑞", "明泰", "豫龙", "瑞丰", "嵩山", "伏牛",
                "黄河", "太行", "盛源", "昌盛", "万通", "兴华", "汇丰")
#: Per industry: the kind of enterprise, a line of equipment, and a capacity range in its unit.
_LINES = {
    "炼铁": ("钢铁", "450立方米高炉", (20, 60)), "炼钢": ("钢铁", "30吨转炉", (10, 40)),
    "焦炭": ("焦化", "4.3米焦炉", (20, 60)), "铁合金": ("铁合金", "6300千伏安矿热炉", (1, 5)),
    "电石": ("化工", "12500千伏安电石炉", (3, 8)), "水泥": ("水泥", "Φ3米立窑", (8, 30)),
    "平板玻璃": ("玻璃", "平拉工艺生产线", (30, 90)), "造纸": ("纸业", "1575毫米造纸机", (1, 5)),
    "印染": ("印染", "间歇式染色设备", (500, 2000)), "制革": ("皮革", "转鼓生产线", (5, 20)),
}
_COUNTIES = {"410100": ("中牟县", "新密市", "荥阳市"), "410300": ("偃师市", "新安县", "孟津县"),
             "410500": ("林州市", "安阳县", "汤阴县"), "410700": ("辉县市", "卫辉市", "获嘉县"),
             "410800": ("沁阳市", "博爱县", "修武县")}
_PEOPLE = ("张三", "李明", "王建国", "赵卫东", "刘振华", "陈志强", "杨国庆", "周海涛")


class DemoError(RuntimeError):
    """A step of the demo did not come out as planned (a refusal by the system is an ``ApiError``)."""


def make_uscc(rnd: random.Random, region: str) -> str:
    body = "91" + region + "".join(rnd.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc_number.calc_check_digit(body)


class Actor:
    """One actor of the campaign: its key on the running system's APIs."""

    def __init__(self, urls: dict[str, str], key: str | None = None):
        self.client = Client(urls, key, timeout=60)

    def call(self, method: str, service: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        return self.client.call(method, service, path, ok, **kwargs).json()

    def submit(self, service: str, path: str, body: dict) -> str:
        """Post a submission; its status URL (the outcome is waited for by ``settle``)."""
        return self.call("POST", service, path, ok=(202,), json=body)["status_url"]

    def outcome(self, service: str, status_url: str) -> dict:
        deadline = time.monotonic() + 60
        while True:
            status = self.call("GET", service, status_url, params={"wait": 10})
            if status["status"] != "pending":
                return status
            if time.monotonic() > deadline:
                raise DemoError(f"{status_url} still pending after a minute")


@dataclass
class Demo:
    urls: dict[str, str]
    reference: Reference
    clock: Any  # a DemoClock: set() moves the business time of the whole running system
    make_key: Callable[..., str]  # (role, **scope) -> a new key, as ``zeroclear keys add`` makes one
    seed: int = 2016
    log: Callable[[str], None] = print
    keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rnd = random.Random(self.seed)

    def actor(self, name: str, role: str, **scope: Any) -> Actor:
        if name not in self.keys:
            self.keys[name] = self.make_key(role, label=f"demo: {name}", **scope)
        return Actor(self.urls, self.keys[name])

    def at(self, day: str, hour: int = 9) -> None:
        """Move the business time on to ``day`` at ``hour`` in Henan (never back: the log's times only
        go on), through every day in between, running notify's scheduler on each as it would."""
        target = date.fromisoformat(day)
        when = datetime.combine(target, datetime.min.time(), HENAN) + timedelta(hours=hour)
        if when < self.clock.now():
            raise DemoError(f"the demo's calendar goes back to {day}")
        passing = self.clock.now().astimezone(HENAN).date() + timedelta(days=1)
        while passing < target:
            self.clock.set(datetime.combine(passing, datetime.min.time(), HENAN) + timedelta(hours=SCHEDULE_HOUR))
            self.tick()
            passing += timedelta(days=1)
        self.clock.set(when)
        self.log(f"  {day} {hour:02d}:00")
        self.tick()

    def tick(self) -> None:
        """What notify's scheduler does at this business time: the alerts due (and escalations), the
        monthly circular on its day — once notify and the assessment have followed the whole log."""
        office = self.actor("office", "office")
        self.followed(office)
        done = office.call("POST", "notify", "/v1/schedule/run")
        if done["alerts"]:
            levels = Counter(alert["level"] for alert in done["alerts"])
            self.log(f"    {sum(levels.values())} alert(s) issued ({levels[1]} to regions, {levels[2]} escalated)")
        if done["circular"]:
            self.log(f"    monthly circular {done['circular']['circular_id']} issued")

    def followed(self, office: Actor) -> None:
        """Wait until notify and the assessment have followed the ledger to its head."""
        head = office.call("GET", "ledger", "/v1/verify")["count"]
        deadline = time.monotonic() + 60
        while (office.call("GET", "notify", "/public/announcement.json")["position"] < head
               or office.call("GET", "assessment", f"/v1/assessments/{YEAR}")["position"] < head):
            if time.monotonic() > deadline:
                raise DemoError("notify or the assessment did not follow the ledger")
            time.sleep(0.1)

    def settle(self, pending: list[tuple[Actor, str, str]], expect: str = "recorded") -> list[dict]:
        outcomes = [client.outcome(service, url) for client, service, url in pending]
        wrong = [o for o in outcomes if o["status"] != expect]
        if wrong:
            raise DemoError(f"expected {expect}, got {wrong[0]}")
        return outcomes

    # -- the campaign ------------------------------------------------------------------------
    def run(self) -> dict:
        office = self.actor("office", "office")
        regions = {code: self.actor(f"region {code}", "region", region=code) for code in self.reference.regions}
        filing = [code for code in regions if code not in LATE + MISSING + ZERO]
        self.log("the 2016 campaign, filed through the APIs as the clock walks its calendar:")

        self.at("2016-11-03")
        forms = {code: self.report(code) for code in filing}
        self.settle([(regions[code], "intake", regions[code].submit("intake", "/v1/reports", forms[code]))
                     for code in filing[:12]])
        self.at("2016-11-10")
        self.settle([(regions[code], "intake", regions[code].submit("intake", "/v1/reports", forms[code]))
                     for code in filing[12:]])
        self.at("2016-11-14")
        self.settle([(regions[code], "intake", regions[code].submit("intake", "/v1/reports", self.report(code, zero=True)))
                     for code in ZERO])
        self.department_lists(forms)
        self.at("2016-11-18")  # past the deadline: two regions late, one never files
        self.settle([(regions[code], "intake", regions[code].submit("intake", "/v1/reports", self.report(code)))
                     for code in LATE])
        self.amend(regions, forms)
        self.tips(regions)
        items = self.eliminate_and_verify(regions, office)
        self.at("2016-12-28")
        self.settle([(office, "assessment", office.submit("assessment", "/v1/assessment-inputs", {
            "region": code, "year": YEAR, "criterion": criterion, "score": str(self.rnd.choice((70, 80, 85, 90, 95))),
            "note": "省办公室评定"})) for code in regions for criterion in (2, 3)])
        self.at("2017-01-04", 10)  # after the acceptance stage (检查验收)
        tips = Counter(tip["status"] for tip in office.call("GET", "ledger", "/v1/tips")["tips"])
        return {"tips": dict(sorted(tips.items())), "items": items, **self.close_the_year(office)}

    def report(self, region: str, zero: bool = False) -> dict:
        name = self.reference.regions[region].name
        lines = [] if zero else [self.line(region, n) for n in range(self.rnd.randint(1, 4))]
        return {"region": region, "year": YEAR, "document_no": f"{name[:2]}政文〔{YEAR}〕{self.rnd.randint(20, 180)}号",
                "signed_by": self.rnd.choice(_PEOPLE), "zero_report": zero, "entries": lines}

    def line(self, region: str, n: int) -> dict:
        industry = self.rnd.choice(sorted(_LINES))
        kind, equipment, (low, high) = _LINES[industry]
        counties = _COUNTIES.get(region, (self.reference.regions[region].name,))
        return {"enterprise": f"{self.reference.regions[region].name[:2]}{self.rnd.choice(_TRADE_NAMES)}{kind}有限公司",
                "uscc": make_uscc(self.rnd, region), "county": self.rnd.choice(counties), "industry": industry,
                "equipment": f"{equipment}{n + 1}号", "equipment_count": self.rnd.randint(1, 3),
                "capacity": str(self.rnd.randint(low, high)), "unit": self.reference.industries[industry].unit,
                "target_source": self.rnd.choice(self.reference.target_sources),
                "planned_date": self.rnd.choice(("2016-11-30", "2016-12-15", "2016-12-31")),
                "method": self.rnd.choice(("拆除", "拆除", "关停")), "workers_affected": self.rnd.randint(0, 300),
                "remarks": ""}

    def department_lists(self, forms: dict[str, dict]) -> None:
        """环保 lists two enterprises its regions reported and one that 郑州's report leaves out."""
        self.at("2016-11-15", 10)
        environment = self.actor("environment department", "department", department="environment")
        reported = [(code, entry) for code, form in sorted(forms.items()) for entry in form["entries"]][:2]
        listed = [{"enterprise": entry["enterprise"], "uscc": entry["uscc"], "region": code, "industry": entry["industry"],
                   "basis": "emissions", "detail": "在线监测超标排放"} for code, entry in reported]
        listed.append({"enterprise": "郑州豫北焦化有限公司", "uscc": make_uscc(self.rnd, "410100"), "region": "410100",
                       "industry": "焦炭", "basis": "emissions", "detail": "无组织排放，未纳入排查登记表"})
        self.settle([(environment, "intake", environment.submit("intake", "/v1/department-lists",
                                                                {"year": YEAR, "entries": listed}))])

    def tips(self, regions: dict[str, Actor]) -> None:
        """Three anonymous tips: one confirmed (capacity the region had not reported), one
        unfounded, one left open past its period."""
        self.at("2016-11-20")
        public = Actor(self.urls)
        about = [("410300", "洛阳金源铁合金有限公司", "新安县某工业园", "矿热炉仍在夜间生产"),
                 ("410700", "新乡恒通造纸有限公司", "辉县市某村", "小造纸机未拆除"),
                 ("411400", "商丘瑞丰水泥有限公司", "商丘市郊", "立窑冒烟")]
        filed = [public.call("POST", "intake", "/v1/tips", ok=(201,), json={
            "region": region, "enterprise": enterprise, "location": where, "description": what})
            for region, enterprise, where, what in about]
        self.at("2016-11-28")
        confirmed = self.line("410300", 9) | {"enterprise": about[0][1], "industry": "铁合金", "unit": "万吨",
                                              "equipment": "6300千伏安矿热炉", "planned_date": "2016-12-31"}
        self.settle([
            (regions["410300"], "intake", regions["410300"].submit("intake", f"/v1/tips/{filed[0]['tip_id']}/resolution", {
                "resolution": "confirmed", "explanation": "经核查属实，已纳入台账", "entry": confirmed})),
            (regions["410700"], "intake", regions["410700"].submit("intake", f"/v1/tips/{filed[1]['tip_id']}/resolution", {
                "resolution": "unfounded", "explanation": "经核查，该造纸机已于2015年拆除"})),
        ])

    def amend(self, regions: dict[str, Actor], forms: dict[str, dict]) -> None:
        """郑州 corrects a capacity it misreported (更正), with its reason."""
        self.at("2016-11-19")
        form = dict(forms["410100"], amendment=True, reason="第一行产能填报有误，予以更正")
        form["entries"] = [dict(form["entries"][0], capacity=str(int(form["entries"][0]["capacity"]) + 5)),
                           *form["entries"][1:]]
        self.settle([(regions["410100"], "intake", regions["410100"].submit("intake", "/v1/reports", form))])

    def eliminate_and_verify(self, regions: dict[str, Actor], office: Actor) -> dict:
        """Most lines eliminated by their planned dates and verified; two rejected, a few late."""
        self.at("2016-12-16")
        items = office.call("GET", "ledger", "/v1/items", params={"year": YEAR, "limit": 1000})["items"]
        done = [item for item in items if self.rnd.random() < 0.85]
        self.settle([(regions[item["region"]], "intake", regions[item["region"]].submit("intake", "/v1/eliminations", {
            "item_id": item["item_id"], "eliminated_on": min(item["planned_date"], "2016-12-15"),
            "method": item["method"], "evidence": "拆除现场照片、设备切割记录、电力部门断电证明",
            "workers_resettled": item["workers_affected"] if self.rnd.random() < 0.8 else item["workers_affected"] // 2}))
            for item in done])
        self.at("2016-12-22")
        rejected = {item["item_id"] for item in done[:2]}
        self.settle([(office, "intake", office.submit("intake", "/v1/verifications", {
            "item_id": item["item_id"], **({"decision": "rejected", "reason": "现场核查发现设备未彻底拆除"}
                                           if item["item_id"] in rejected else {"decision": "verified"})}))
            for item in done])
        return {"registered": len(items), "eliminated": len(done), "verified": len(done) - len(rejected),
                "rejected": len(rejected)}

    def close_the_year(self, office: Actor) -> dict:
        """An on-demand circular after the acceptance stage and the published assessment, once
        notify and the assessment have followed the whole log; what notify issued on the way."""
        self.followed(office)
        circular = office.call("POST", "notify", "/v1/circulars", ok=(200, 201), json={"year": YEAR})
        published = office.call("POST", "assessment", f"/v1/assessments/{YEAR}/publish", ok=(202,), json={})
        self.settle([(office, "assessment", published["status_url"])])
        alerts = office.call("GET", "notify", "/v1/alerts")["alerts"]
        monthly = [c["period"] for c in office.call("GET", "notify", "/v1/circulars", params={"year": YEAR})["circulars"]
                   if c["kind"] == "monthly"]
        return {"alerts": len(alerts), "monthly_circulars": monthly, "circular": circular["circular_id"],
                "assessment_digest": published["digest"]}
