"""The announcement's open data: the CSV shows every cell as text a spreadsheet will not run
(OWASP CSV injection), the JSON keeps the text exactly as filed."""
from __future__ import annotations

import csv
import io
import json

import pytest

from services.notify.announcement_render import as_csv, as_json, spreadsheet_text


@pytest.mark.parametrize("text", [
    '=HYPERLINK("http://x","点击查看")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1)",
    "＝HYPERLINK(\"http://x\")", "＋1", "－1", "＠SUM(1)", "﹦1+1",  # full-width and small forms
    " =1+1", "\u00a0=1+1", "\u3000@SUM(1)", "\u200b=1+1", "\ufeff+1",  # behind spaces and invisible marks
    "\t1", "\r1", "\t", "\r\n=1",
])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe_and_nothing_else(text):
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("value", ["郑州某钢铁有限公司", "12.5", "2016-12-31", "a=b", "洛阳某（集团）有限公司", "", " ", 3, 0])
def test_text_and_numbers_a_spreadsheet_would_not_run_are_left_as_they_are(value):
    assert spreadsheet_text(value) == value


def test_the_csv_neutralises_each_cell_and_the_json_keeps_it_as_filed():
    row = {"region": "410100", "region_name": "郑州市", "county": "@县", "enterprise": "=1+1", "industry": "炼钢",
           "equipment": "+转炉", "equipment_count": 2, "capacity": "12.5", "unit": "万吨", "deadline": "2016-12-31",
           "progress": "已登记", "source": "地区排查"}
    content = {"as_of": "2016-11-01", "position": 3, "enterprises": [row], "tips": []}
    table = list(csv.reader(io.StringIO(as_csv(content).decode("utf-8-sig"), newline="")))
    assert table[1][2:8] == ["'@县", "'=1+1", "炼钢", "'+转炉", "2", "12.5"]
    assert json.loads(as_json(content))["enterprises"][0] == row
