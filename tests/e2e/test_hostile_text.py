"""Text at the door: what no store can hold is refused with a 4xx naming the field (in English and
Chinese) on every write path, the JSON API and the spreadsheet alike, and nothing is recorded;
what a person filed is kept as filed (only trimmed, NFC) on the ledger and in the announcement —
on the embedded and the real backend alike (where PostgreSQL once refused a NUL only later).

The refusals share one system per backend (``shared_system``): none records anything, so the
ledger's count each one takes before and after moves only if that refusal recorded something. The
test that records a report (and runs notify's schedule, which issues a circular onto the ledger
after it answers) keeps a system of its own."""
from __future__ import annotations

import io

import orjson
import pytest
from openpyxl import Workbook

from shared.testing import data

pytestmark = pytest.mark.e2e


def _count(api) -> int:
    return api.get("ledger", "/v1/verify").json()["count"]


def _fields(answer) -> dict[str, dict]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    return {error["field"]: error for error in answer.json()["errors"]}


def test_a_tip_with_a_nul_is_refused_naming_the_field_and_nothing_is_recorded(shared_api):
    api = shared_api
    before = _count(api)
    answer = api.post("intake", "/v1/tips", json={"region": "410100", "enterprise": "毒\u0000厂",
                                                   "location": "中牟县", "description": "夜间\u0007生产"})
    errors = _fields(answer)
    assert set(errors) == {"enterprise", "description"}
    assert errors["enterprise"]["message"] == "Contains a control character (U+0000)."
    assert errors["enterprise"]["message_zh"] == "含有控制字符（U+0000）"
    assert _count(api) == before


def test_a_lone_surrogate_is_refused_naming_the_field_never_a_500(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    zhengzhou = api.as_key(keys("region", region="410100"))
    body = orjson.dumps(data.report("410100")).replace(b'"signed_by":"', b'"signed_by":"\\ud800')
    answer = zhengzhou.post("intake", "/v1/reports", data=body, headers={"Content-Type": "application/json"})
    errors = _fields(answer)
    assert list(errors) == ["signed_by"]
    assert "surrogate" in errors["signed_by"]["message"] and errors["signed_by"]["message_zh"]


def test_every_field_error_of_the_json_api_carries_its_chinese(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    zhengzhou = api.as_key(keys("region", region="410100"))
    body = data.report("410100", entries=1)
    body["entries"][0].update(industry="纺织", capacity="-1", workers_affected="many")
    body["document_no"] = "  "
    errors = _fields(zhengzhou.file_report(body))
    assert set(errors) == {"document_no", "entries[0].industry", "entries[0].capacity", "entries[0].workers_affected"}
    assert errors["document_no"]["message_zh"] == "必填项为空"
    assert errors["entries[0].industry"]["message_zh"].startswith("不在可选范围内")
    assert all(error["message_zh"] != "格式错误" for error in errors.values())


def _form(enterprise: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet["A1"] = "郑州市2016年落后产能排查登记表"
    sheet.append(["产能单位：万吨"])
    fields = ("enterprise", "uscc", "county", "industry", "equipment", "equipment_count", "capacity", "unit",
              "target_source", "planned_date", "method", "workers_affected", "remarks")
    sheet.append(["企业名称", "统一社会信用代码", "所在县（市、区）", "行业", "落后工艺装备", "装备数量（台/套）", "产能",
                  "产能单位", "淘汰目标来源", "计划淘汰时间", "淘汰方式", "涉及职工人数", "备注"])
    sheet.append([data.entry(1, enterprise=enterprise)[name] for name in fields])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_spreadsheet_cell_no_record_can_hold_is_named_by_row_and_column(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    before = _count(api)
    answer = api.as_key(keys("region", region="410100")).post(
        "intake", "/v1/reports/upload",
        data={"region": "410100", "year": "2016", "document_no": "郑政〔2016〕1号", "signed_by": "张三"},
        files={"file": ("form.xlsx", _form("郑州某\n钢铁厂"), "application/octet-stream")})
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["row"], error["column"], error["header"]) == (4, "A", "企业名称")
    assert error["message_zh"] == "应为单行文字，不能含换行或制表符"
    assert _count(api) == before


def test_names_and_remarks_are_recorded_and_announced_exactly_as_filed(system, api, keys):
    zhengzhou = api.as_key(keys("region", region="410100"))
    body = data.report("410100", entries=1, document_no="郑政文〔２０１６〕８８号")
    body["entries"][0].update(enterprise=" 洛阳某（集团）有限公司 ", remarks="已停产，待拆除。")
    submission = zhengzhou.file_report(body).json()
    decided = zhengzhou.wait_decided(submission["submission_id"])
    assert decided["status"] == "recorded", decided
    auditor = api.as_key(keys("auditor"))
    [event] = [e for e in auditor.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
               if e["id"] == submission["submission_id"]]
    entry = event["payload"]["entries"][0]
    assert (entry["enterprise"], entry["remarks"]) == ("洛阳某（集团）有限公司", "已停产，待拆除。")
    assert event["payload"]["document_no"] == "郑政文〔2016〕88号"  # a document number's digits are folded
    api.post("notify", "/v1/schedule/run", headers={"Authorization": f"Bearer {keys('office')}"})
    announced = _wait_announced(api, event["seq"])
    assert "洛阳某（集团）有限公司" in [e["enterprise"] for e in announced["enterprises"]]


def _wait_announced(api, seq: int) -> dict:
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        content = api.get("notify", "/public/announcement.json").json()
        if content["position"] >= seq:
            return content
        time.sleep(0.1)
    raise AssertionError(f"the announcement did not reach position {seq}")


def test_a_subscription_with_a_nul_is_refused_naming_the_field(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    office = api.as_key(keys("office"))
    answer = office.post("notify", "/v1/subscriptions", json={
        "agency": "省环保厅\u0000", "channel": "email", "address": "duty@example.org", "topics": ["alerts"]})
    assert list(_fields(answer)) == ["agency"]
