"""Who may do what (SPEC §2): every endpoint × every role × own and other region. A region key
acts only in its region and gets 404 — not 403 — for another region's object; a department key
files only lists; the office does everything; an auditor only reads; no key, only tips.

Authorization is the same code on either backend, so this runs on the embedded one, sharing one
system across the module."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from shared.clock import SettableClock
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import CAMPAIGN_START, system_on

pytestmark = pytest.mark.e2e

ROLES = ("region-own", "region-other", "department", "office", "auditor", "none")


@dataclass
class World:
    api: Api
    keys: dict[str, str]
    item_id: str  # Zhengzhou's (the own region's)
    tip_id: str  # about Zhengzhou
    submission_id: str  # Zhengzhou's report


@pytest.fixture(scope="module")
def world(tmp_path_factory, reference):
    clock = SettableClock(CAMPAIGN_START)
    with system_on("embedded", tmp_path_factory.mktemp("authz"), clock=clock, reference=reference,
                   env={"ZEROCLEAR_INTAKE_TIP_RATE_PER_MINUTE": "10000"}) as running:
        api = Api(running.urls)
        keys = {
            "region-own": running.keys.create("region", region="410100")[0],
            "region-other": running.keys.create("region", region="410200")[0],
            "department": running.keys.create("department", department="environment")[0],
            "office": running.keys.create("office")[0],
            "auditor": running.keys.create("auditor")[0],
        }
        own = api.as_key(keys["region-own"])
        filed = own.file_report(data.report("410100", entries=2))
        own.wait_decided(filed.json()["submission_id"])
        item_id = own.get("ledger", "/v1/items").json()["items"][0]["item_id"]
        tip = api.post("intake", "/v1/tips", json={"region": "410100", "enterprise": "某厂", "location": "某地",
                                                   "description": "偷偷生产"})
        assert tip.status_code == 201, tip.text
        yield World(api, keys, item_id, tip.json()["tip_id"], filed.json()["submission_id"])


def elimination(w: World) -> dict:
    return {"item_id": w.item_id, "eliminated_on": "2016-10-30", "method": "拆除", "evidence": "照片", "workers_resettled": 0}


@dataclass
class Endpoint:
    name: str
    call: Callable[[Api, World], object]
    expected: dict[str, int]  # status by role


def _expect(**by_role: int) -> dict[str, int]:
    return {role.replace("_", "-"): status for role, status in by_role.items()}


WRITE_REGION = _expect(region_own=202, region_other=403, department=403, office=202, auditor=403, none=401)
READ_ALL = _expect(region_own=200, region_other=200, department=403, office=200, auditor=200, none=401)
READ_OWN_OBJECT = _expect(region_own=200, region_other=404, department=403, office=200, auditor=200, none=401)

ENDPOINTS = [
    Endpoint("file a report", lambda a, w: a.file_report(data.report("410100", year=2016, amendment=True, reason="更正")),
             WRITE_REGION),
    Endpoint("upload a form (no file: 422 once allowed)", lambda a, w: a.post("intake", "/v1/reports/upload", data={
        "region": "410100", "year": "2016", "document_no": "x", "signed_by": "y"}),
        _expect(region_own=422, region_other=422, department=403, office=422, auditor=403, none=401)),
    Endpoint("blank form", lambda a, w: a.get("intake", "/v1/forms/registration.xlsx", params={"region": "410100", "year": 2016}),
             _expect(region_own=200, region_other=200, department=200, office=200, auditor=200, none=401)),
    Endpoint("department list", lambda a, w: a.post("intake", "/v1/department-lists", json={
        "year": 2016, "department": "environment",
        "entries": [{"enterprise": "某厂", "uscc": data.make_uscc(5), "region": "410100", "industry": "焦炭",
                     "basis": "emissions"}]}),
        _expect(region_own=403, region_other=403, department=202, office=202, auditor=403, none=401)),
    Endpoint("report an elimination", lambda a, w: a.post("intake", "/v1/eliminations", json=elimination(w)),
             _expect(region_own=202, region_other=404, department=403, office=202, auditor=403, none=401)),
    Endpoint("verify an elimination", lambda a, w: a.post("intake", "/v1/verifications",
                                                          json={"item_id": w.item_id, "decision": "verified"}),
             _expect(region_own=403, region_other=403, department=403, office=202, auditor=403, none=401)),
    Endpoint("resolve a tip", lambda a, w: a.post("intake", f"/v1/tips/{w.tip_id}/resolution",
                                                  json={"resolution": "unfounded", "explanation": "查无此事"}),
             _expect(region_own=202, region_other=404, department=403, office=202, auditor=403, none=401)),
    Endpoint("file a tip", lambda a, w: a.post("intake", "/v1/tips", json={
        "region": "410100", "enterprise": "某厂", "location": "某地", "description": "偷偷生产"}),
        {role: 201 for role in ROLES}),
    Endpoint("a submission's status", lambda a, w: a.get("intake", f"/v1/submissions/{w.submission_id}"),
             _expect(region_own=200, region_other=404, department=404, office=200, auditor=200, none=401)),
    Endpoint("items", lambda a, w: a.get("ledger", "/v1/items"), READ_ALL),
    Endpoint("items counted", lambda a, w: a.get("ledger", "/v1/items/counts", params={"group_by": "region"}), READ_ALL),
    Endpoint("one item", lambda a, w: a.get("ledger", f"/v1/items/{w.item_id}"), READ_OWN_OBJECT),
    Endpoint("an item's history", lambda a, w: a.get("ledger", f"/v1/items/{w.item_id}/history"), READ_OWN_OBJECT),
    Endpoint("registry", lambda a, w: a.get("ledger", "/v1/reports", params={"year": 2016}), READ_ALL),
    Endpoint("discrepancies (a department: what its own lists revealed)", lambda a, w: a.get("ledger", "/v1/discrepancies"),
             {**READ_ALL, "department": 200}),
    Endpoint("tips on the ledger", lambda a, w: a.get("ledger", "/v1/tips"), READ_ALL),
    Endpoint("tips counted", lambda a, w: a.get("ledger", "/v1/tips/counts", params={"group_by": "region"}), READ_ALL),
    Endpoint("the feed", lambda a, w: a.get("ledger", "/v1/events"), READ_ALL),
    Endpoint("the live digest", lambda a, w: a.get("ledger", "/v1/state"),
             _expect(region_own=403, region_other=403, department=403, office=200, auditor=200, none=401)),
    Endpoint("verify (open)", lambda a, w: a.get("ledger", "/v1/verify"), {role: 200 for role in ROLES}),
    Endpoint("a year's assessment", lambda a, w: a.get("assessment", "/v1/assessments/2016"), READ_ALL),
    Endpoint("a region's assessment", lambda a, w: a.get("assessment", "/v1/assessments/2016/410100"), READ_OWN_OBJECT),
    Endpoint("the province summary", lambda a, w: a.get("assessment", "/v1/assessments/2016/summary"),
             _expect(region_own=403, region_other=403, department=403, office=200, auditor=200, none=401)),
    Endpoint("an office input", lambda a, w: a.post("assessment", "/v1/assessment-inputs", json={
        "region": "410100", "year": 2016, "criterion": 2, "score": "90", "note": "好"}),
        _expect(region_own=403, region_other=403, department=403, office=202, auditor=403, none=401)),
    Endpoint("publish (409: inputs missing, once allowed)", lambda a, w: a.post("assessment", "/v1/assessments/2016/publish",
                                                                              json={}),
             _expect(region_own=403, region_other=403, department=403, office=409, auditor=403, none=401)),
    Endpoint("alerts issued", lambda a, w: a.get("notify", "/v1/alerts"), READ_ALL),
    Endpoint("check for overdue duties now", lambda a, w: a.post("notify", "/v1/alerts/check"),
             _expect(region_own=403, region_other=403, department=403, office=200, auditor=403, none=401)),
    Endpoint("the public announcement", lambda a, w: a.get("notify", "/public/announcement.json"),
             {role: 200 for role in ROLES}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_every_endpoint_for_every_role(world, endpoint, role):
    client = world.api.as_key(world.keys.get(role))
    answer = endpoint.call(client, world)
    assert answer.status_code == endpoint.expected[role], answer.text


@pytest.mark.parametrize("service, path", [("ledger", "/v1/items"), ("ledger", "/v1/discrepancies"),
                                           ("ledger", "/v1/tips"), ("ledger", "/v1/events"),
                                           ("assessment", "/v1/assessments/2016")])
def test_a_region_reads_only_its_own_region(world, service, path):
    other = world.api.as_key(world.keys["region-other"])
    body = other.get(service, path, params={"region": "410100"}).json()
    rows = body.get("items", body.get("tips", body.get("events", body.get("discrepancies", body.get("regions")))))
    assert all(row.get("region") in ("410200", None) for row in rows)
    assert not [row for row in rows if row.get("region") == "410100"]


@pytest.mark.parametrize("path", ["/v1/items/counts", "/v1/tips/counts"])
def test_a_region_counts_only_its_own_region(world, path):
    other = world.api.as_key(world.keys["region-other"])
    asked = other.get("ledger", path, params={"group_by": "region", "region": "410100"}).json()
    assert (asked["counts"], asked["total"]) == ([], 0)
    own = world.api.as_key(world.keys["region-own"]).get("ledger", path, params={"group_by": "region"}).json()
    assert [group["key"] for group in own["counts"]] == ["410100"] and own["total"] > 0


@pytest.mark.parametrize("service, path", [("ledger", "/v1/items"), ("ledger", "/v1/discrepancies"),
                                           ("assessment", "/v1/assessments/2016")])
@pytest.mark.parametrize("as_of", ["²", "yesterday", "-1"])
def test_an_as_of_that_is_neither_a_position_nor_a_time_is_a_400(world, service, path, as_of):
    answer = world.api.as_key(world.keys["office"]).get(service, path, params={"as_of": as_of})
    assert answer.status_code == 400 and answer.headers["Content-Type"] == "application/problem+json", answer.text
