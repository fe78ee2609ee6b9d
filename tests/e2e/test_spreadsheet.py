"""The official registration form as a spreadsheet, end to end: download the blank form, fill
it in (and build one cell by cell, as other office software writes them), upload, see it recorded
on the ledger; a form with a dozen bad cells names every one by its row and column and records
nothing — on both backends, one system per backend for the whole module: only the first test
records anything (洛阳's report), and each test that proves nothing was recorded looks at a region
of its own (新乡, 三门峡) that no other test files for."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from shared.testing import data

pytestmark = pytest.mark.e2e

FIELDS = ("enterprise", "uscc", "county", "industry", "equipment", "equipment_count", "capacity", "unit",
          "target_source", "planned_date", "method", "workers_affected", "remarks")
HEADERS = ("企业名称", "统一社会信用代码", "所在县（市、区）", "行业", "落后工艺装备", "装备数量（台/套）", "产能",
           "产能单位", "淘汰目标来源", "计划淘汰时间", "淘汰方式", "涉及职工人数", "备注")
MULTIPART_FIELDS = {"region": "410300", "year": "2016", "document_no": "洛政〔2016〕88号", "signed_by": "李四"}


@pytest.fixture
def system(module_system):
    return module_system


def upload(client, content: bytes, **fields):
    return client.post("intake", "/v1/reports/upload", data={**MULTIPART_FIELDS, **fields},
                       files={"file": ("登记表.xlsx", content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})


def hand_made_form(rows: list[dict], city: str = "洛阳市") -> bytes:
    """A form as another program writes it: merged title, headers on row 3 without 序号, numbers
    as text with full-width digits, dates as text, a blank trailing row."""
    book = Workbook()
    sheet = book.active
    sheet["A1"] = f"{city}2016年落后产能排查登记表"
    sheet.merge_cells("A1:M1")
    sheet["A2"] = "产能单位：万吨"
    sheet.merge_cells("A2:M2")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([row.get(name) for name in FIELDS])
    sheet.append([None] * len(FIELDS))
    sheet.append(["  "] + [None] * (len(FIELDS) - 1))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_filled_form_uploads_and_lands_on_the_ledger(system, api, keys):
    luoyang = api.as_key(keys("region", region="410300"))
    blank = luoyang.get("intake", "/v1/forms/registration.xlsx", params={"region": "410300", "year": 2016})
    assert blank.status_code == 200
    book = load_workbook(io.BytesIO(blank.content))
    sheet = book.active
    assert sheet["A1"].value == "洛阳市2016年落后产能排查登记表"
    assert {str(r) for r in sheet.merged_cells.ranges} >= {"A1:N1", "A3:N3"}
    sheet["C2"], sheet["G2"], sheet["J2"], sheet["M2"] = "洛阳市工业和信息化局", "赵六", "0379-63921234", date(2016, 11, 8)
    first, second = data.entry(1, region="410300"), data.entry(2, region="410300", industry="水泥")
    for row, entry in ((5, first), (6, second)):
        sheet.cell(row, 1, row - 4)
        for column, name in enumerate(FIELDS, start=2):
            sheet.cell(row, column, entry[name])
        sheet.cell(row, 2 + FIELDS.index("planned_date"), date(2016, 12, 31))  # a real date cell
    out = io.BytesIO()
    book.save(out)

    answer = upload(luoyang, out.getvalue())
    assert answer.status_code == 202, answer.text
    outcome = luoyang.wait_decided(answer.json()["submission_id"])
    assert outcome["status"] == "recorded"
    [event] = [e for e in luoyang.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
               if e["id"] == answer.json()["submission_id"]]
    assert event["payload"]["filer"] == {"organisation": "洛阳市工业和信息化局", "person": "赵六",
                                         "phone": "0379-63921234", "date": "2016-11-08"}
    items = luoyang.get("ledger", "/v1/items").json()["items"]
    assert sorted((i["uscc"], i["industry"], i["capacity"], i["planned_date"]) for i in items) == sorted([
        (first["uscc"], "炼钢", "12.5", "2016-12-31"), (second["uscc"], "水泥", "12.5", "2016-12-31")])

    # An amendment as a hand-made sheet: text numbers with full-width digits, dates as text.
    amended = [{**first, "capacity": "２０．５", "equipment_count": "２", "workers_affected": " 80 ",
                "planned_date": "2016年12月30日"}]
    answer = upload(luoyang, hand_made_form(amended), amendment="true", reason="核减产能")
    assert answer.status_code == 202, answer.text
    assert luoyang.wait_decided(answer.json()["submission_id"])["status"] == "recorded"
    current = {i["uscc"]: i for i in luoyang.get("ledger", "/v1/items").json()["items"]}
    assert (current[first["uscc"]]["capacity"], current[first["uscc"]]["planned_date"]) == ("20.5", "2016-12-30")
    assert current[second["uscc"]]["status"] == "withdrawn"


def test_a_form_with_a_dozen_bad_cells_names_them_all_and_records_nothing(system, api, keys):
    """新乡 (not 洛阳, whose report another test of the module records) files the form."""
    xinxiang = api.as_key(keys("region", region="410700"))
    good = data.entry(1, region="410700")
    bad_rows = [
        {**good, "uscc": good["uscc"][:-1] + ("0" if good["uscc"][-1] != "0" else "1")},  # check digit
        {**good, "industry": "纺织"},                    # not in the catalogue
        {**good, "unit": "万千瓦"},                       # wrong unit for 炼钢
        {**good, "capacity": "-3"},                      # negative
        {**good, "capacity": "很多"},                     # not a number
        {**good, "planned_date": "明年"},                 # not a date
        {**good, "enterprise": None},                    # missing
        {**good, "target_source": "上级要求"},             # not a target source
        {**good, "method": "炸掉"},                       # not a method
        {**good, "equipment_count": "2.5"},              # not an integer
        {**good, "workers_affected": "-1"},              # negative
        {**good, "county": None, "equipment": None},     # two missing in one row
    ]
    answer = upload(xinxiang, hand_made_form([good] + bad_rows, city="新乡市"), region="410700",
                    document_no="新政〔2016〕88号")
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert answer.headers["Content-Type"] == "application/problem+json"
    found = {(e["row"], e["column"]) for e in problem["errors"]}
    expected = {(5, "B"), (6, "D"), (7, "H"), (8, "G"), (9, "G"), (10, "J"), (11, "A"), (12, "I"), (13, "K"),
                (14, "F"), (15, "L"), (16, "C"), (16, "E")}
    assert found == expected
    assert all(e["message"] and e["message_zh"] and e["header"] for e in problem["errors"])

    office = api.as_key(keys("office"))
    assert office.get("ledger", "/v1/items", params={"region": "410700"}).json()["items"] == []
    events = office.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
    assert not [e for e in events if e["region"] == "410700"]


@pytest.mark.parametrize("content, says", [(b"not a spreadsheet", "xlsx"), (b"PK\x03\x04broken", "xlsx")])
def test_a_file_that_is_no_form_is_refused_clearly(system, api, keys, content, says):
    answer = upload(api.as_key(keys("region", region="410300")), content)
    assert answer.status_code == 422
    assert says in answer.text.lower()


def test_bad_fields_beside_the_file_are_named(system, api, keys):
    office = api.as_key(keys("office"))
    form = hand_made_form([data.entry(1, region="410300")])
    unknown = upload(office, form, region="999999")
    assert unknown.status_code == 422 and {e["field"] for e in unknown.json()["errors"]} == {"region"}
    no_reason = upload(office, form, amendment="true")
    assert no_reason.status_code == 422 and {e["field"] for e in no_reason.json()["errors"]} == {"reason"}
    not_a_year = upload(office, form, year="next")
    assert not_a_year.status_code == 422 and "year" in not_a_year.text


def test_a_form_titled_for_another_region_is_refused_naming_the_title_and_nothing_is_recorded(system, api, keys):
    """A 郑州 form filed as 三门峡's report was once recorded as 三门峡's."""
    zhengzhou_form = api.as_key(keys("region", region="410100")).get(
        "intake", "/v1/forms/registration.xlsx", params={"region": "410100", "year": 2016}).content
    book = load_workbook(io.BytesIO(zhengzhou_form))
    for column, name in enumerate(FIELDS, start=2):
        book.active.cell(5, column, data.entry(1, region="411200")[name])
    out = io.BytesIO()
    book.save(out)
    sanmenxia = api.as_key(keys("region", region="411200"))
    answer = upload(sanmenxia, out.getvalue(), region="411200", document_no="三政〔2016〕1号")
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["row"], error["column"]) == (1, "A") and "郑州市" in error["message_zh"]
    events = api.as_key(keys("auditor")).get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
    assert not [e for e in events if e["region"] == "411200"]
