"""The registration form as XLSX (``services.intake.entrypoints.forms``) without HTTP.

The blank form must look like the official one and carry the drop-downs; a filled form, whether
built on the blank form or by hand the way other office suites write it, must read back as the
entries of the JSON API; every bad cell is named by Excel row and column; and a hostile or
broken file is a ``FormErrors``, never another exception.
"""
from __future__ import annotations

import csv
import dataclasses
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from io import BytesIO

import openpyxl
import pytest
from openpyxl import Workbook, load_workbook

from services.intake.entrypoints.forms import layout
from services.intake.entrypoints.forms.reader import FormErrors, read_form
from services.intake.entrypoints.forms.template import blank_form
from shared import messages_zh
from shared.reference import Industry, default_reference
from shared.testing import data

REF = default_reference()
ERROR_KEYS = {"row", "column", "header", "field", "message", "message_zh"}
FIELD_NAMES = [column.field for column in layout.FIELDS]


def _bytes(workbook: Workbook) -> bytes:
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def _filled_blank_form(rows: dict[int, dict], *, form_rows: int = 200) -> bytes:
    """The blank form with ``rows`` (Excel row → field values) typed into it."""
    workbook = load_workbook(BytesIO(blank_form(REF, "410100", 2016, rows=form_rows)))
    sheet = workbook.worksheets[0]
    for number, values in rows.items():
        for field, value in values.items():
            sheet.cell(number, layout.COLUMNS.index(layout.BY_FIELD[field]) + 1, value)
    return _bytes(workbook)


def _entry_cells(n: int, **overrides) -> dict:
    """An entry as a person types it: native numbers and a real date."""
    value = data.entry(n, capacity=12.5, planned_date=date(2016, 12, 31))
    value.update(overrides)
    return value


def _refusal(content: bytes, **kwargs) -> list[dict]:
    with pytest.raises(FormErrors) as refused:
        read_form(content, REF, **kwargs)
    errors = refused.value.errors
    assert errors and all(set(error) == ERROR_KEYS for error in errors)
    assert all(error["message"] and error["message_zh"] for error in errors)
    return errors


def _whole_file_refusal(content: bytes, **kwargs) -> dict:
    errors = _refusal(content, **kwargs)
    assert len(errors) == 1
    assert errors[0]["row"] is None and errors[0]["column"] is None
    return errors[0]


# --- the blank form ------------------------------------------------------------------------

def test_openpyxl_parses_xml_through_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def test_blank_form_has_title_filer_lines_units_note_headers_and_merged_cells():
    workbook = load_workbook(BytesIO(blank_form(REF, "410100", 2016)))
    sheet = workbook.worksheets[0]
    last = openpyxl.utils.get_column_letter(len(layout.COLUMNS))
    assert sheet["A1"].value == "郑州市2016年落后产能排查登记表"
    assert [sheet["B2"].value, sheet["F2"].value, sheet["I2"].value, sheet["L2"].value] == [
        "填报单位（盖章）：", "填报人：", "联系电话：", "填报日期："]
    assert sheet["A3"].value == "产能单位：万吨（其中，玻璃，万重量箱；制革，万标张；印染，万米；电力，万千瓦）"
    assert {str(r) for r in sheet.merged_cells.ranges} == {f"A1:{last}1", f"A3:{last}3", "C2:E2", "G2:H2", "J2:K2",
                                                           "M2:N2"}
    headers = [cell.value for cell in sheet[4]]
    assert headers == ["序号", "企业名称", "统一社会信用代码", "所在县（市、区）", "行业", "落后工艺装备", "装备数量（台/套）",
                       "产能", "产能单位", "淘汰目标来源", "计划淘汰时间", "淘汰方式", "涉及职工人数", "备注"]
    assert all(cell.font.b and cell.alignment.wrap_text for cell in sheet[4])
    assert sheet.column_dimensions["B"].width == layout.BY_FIELD["enterprise"].width
    assert sheet["K5"].number_format == "yyyy-mm-dd" and sheet["K204"].number_format == "yyyy-mm-dd"
    assert sheet["C5"].number_format == "@"  # codes stay text, never a float
    assert sheet["M2"].number_format == "yyyy-mm-dd"
    assert sheet.max_row == 204
    assert workbook.properties.created == workbook.properties.modified == datetime(2016, 1, 1)


def test_blank_form_has_the_four_drop_downs_over_the_data_rows():
    workbook = load_workbook(BytesIO(blank_form(REF, "410300", 2017, rows=50)))
    sheet = workbook.worksheets[0]
    assert sheet["A1"].value == "洛阳市2017年落后产能排查登记表"
    lists = {str(rule.sqref): rule for rule in sheet.data_validations.dataValidation if rule.type == "list"}
    assert set(lists) == {"E5:E54", "I5:I54", "J5:J54", "L5:L54"}
    assert lists["E5:E54"].formula1 == '"' + ",".join(REF.industries) + '"'
    assert lists["I5:I54"].formula1 == '"' + ",".join(REF.units) + '"'
    assert lists["L5:L54"].formula1 == '"' + ",".join(REF.methods) + '"'
    # 国家"十二五"目标 has quotes: it cannot sit in an inline list, so it goes through the hidden sheet
    assert lists["J5:J54"].formula1 == "'lists'!$A$1:$A$5"
    hidden = workbook["lists"]
    assert hidden.sheet_state == "hidden"
    assert [row[0] for row in hidden.iter_rows(values_only=True)] == list(REF.target_sources)
    numbers = {str(rule.sqref): (rule.type, rule.formula1, rule.formula2)
               for rule in sheet.data_validations.dataValidation if rule.type != "list"}
    assert numbers["G5:G54"] == ("whole", "1", "100000") and numbers["M5:M54"] == ("whole", "0", "1000000")


def test_a_list_longer_than_255_characters_goes_through_the_hidden_sheet():
    many = {f"行业名称很长的第{i}号行业": Industry(f"行业名称很长的第{i}号行业", f"industry {i}", "万吨") for i in range(40)}
    reference = dataclasses.replace(REF, industries=many)
    sheet_book = load_workbook(BytesIO(blank_form(reference, "410100", 2016, rows=10)))
    rules = {str(rule.sqref): rule.formula1 for rule in sheet_book.worksheets[0].data_validations.dataValidation}
    assert len(",".join(many)) > 255
    assert rules["E5:E14"] == "'lists'!$A$1:$A$40"
    assert rules["J5:J14"] == "'lists'!$B$1:$B$5"
    assert [row[0] for row in sheet_book["lists"].iter_rows(max_col=1, values_only=True)] == list(many)


def test_the_same_request_gives_the_same_bytes():
    first = blank_form(REF, "410100", 2016)
    assert blank_form(REF, "410100", 2016) == first
    assert blank_form(REF, "410100", 2015) != first
    # Nothing of the clock gets in: zip entries and core properties carry the year's fixed stamp.
    with zipfile.ZipFile(BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2016, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert core.count("2016-01-01T00:00:00Z") == 2


def test_blank_form_refuses_an_unknown_region():
    with pytest.raises(ValueError):
        blank_form(REF, "999999", 2016)


# --- reading good forms --------------------------------------------------------------------

def test_the_blank_form_filled_in_reads_back_as_the_entries():
    content = _filled_blank_form({5: _entry_cells(1), 6: _entry_cells(2), 7: _entry_cells(3, remarks="已签订关停协议")})
    assert read_form(content, REF).entries == [data.entry(1), data.entry(2), data.entry(3, remarks="已签订关停协议")]


def _hand_made_form() -> bytes:
    """A form as another office suite might save it: no 序号, header on row 3 after a merged
    title and a free line, headers with line breaks, spaces and half-width brackets."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet["A1"] = "郑州市 2016 年落后产能排查登记表"
    sheet.merge_cells("A1:M1")
    sheet["A2"] = "填报单位：郑州市工业和信息化委员会"
    headers = ["企业\n名称", " 统一社会信用代码 ", "所在县(市、区)", "行　业", "落后工艺装备", "装备数量\n(台/套)",
               "产能", "产能单位", "淘汰目标来源", "计划淘汰\n时间", "淘汰方式", "涉及职工人数", "备注"]
    sheet.append(headers)
    u1, u2, u3, u4, u5 = (data.make_uscc(n) for n in range(11, 16))
    rows = [
        # text-typed numbers, a text date
        ["郑州甲钢铁有限公司", u1, "中牟县", "炼钢", "30吨转炉", "2", "12.5", "万吨", "大气污染防治", "2016-12-31", "拆除", " 120 ", None],
        # full-width digits and spaces, lower-case code with spaces, a Chinese date
        ["  郑州乙焦化厂　", " ".join([u2[:6].lower(), u2[6:12].lower(), u2[12:]]), "巩义市", "焦炭", "4.3米焦炉", "３",
         "１２．５", "万吨", "蓝天工程", "2016年12月31日", "关停", "１２０", "　"],
        # floats from formulas and a real datetime
        ["郑州丙玻璃有限公司", u3, "新郑市", "平板玻璃", "平拉工艺生产线", 4.0, 0.1 + 0.2, "万重量箱", "碧水工程",
         datetime(2017, 6, 30), "其他", 0.0, "整体搬迁"],
        None,  # a blank row in the middle
        # a real date, an Excel serial in a General cell, integers
        ["郑州丁造纸厂", u4, "登封市", "造纸", "1575mm以下造纸机", 1, 100, "万吨", "煤炭钢铁化解过剩产能", 42735, "拆除", 35, None],
        ["郑州戊印染厂", u5, "荥阳市", "印染", "J型箱", 2, "1,200.5", "万米", "大气污染防治", "2016/12/31", "拆除", "1,000", None],
        ["郑州己制革厂", data.make_uscc(16), "新密市", "制革", "转鼓", "5", "3", "万标张", "大气污染防治", "2016.12.31", "关停", "8", ""],
        ["郑州庚电厂", data.make_uscc(17), "上街区", "电力", "5万千瓦以下机组", 1, 5, "万千瓦", "大气污染防治", date(2017, 3, 1), "关停", 60, None],
    ]
    for number, row in enumerate(rows, start=4):
        for index, value in enumerate(row or [], start=1):
            sheet.cell(number, index, value)
    for number in range(12, 40):  # blank trailing rows, some with only spaces
        sheet.cell(number, 1, " " if number % 2 else None)
        sheet.cell(number, 13, "\u3000" if number % 3 == 0 else None)
    return _bytes(workbook)


def test_a_hand_made_form_reads_back_whatever_the_way_values_are_written():
    form = read_form(_hand_made_form(), REF)
    entries = form.entries
    assert form.filer == {"organisation": "郑州市工业和信息化委员会"}
    assert [entry["enterprise"] for entry in entries] == ["郑州甲钢铁有限公司", "郑州乙焦化厂", "郑州丙玻璃有限公司", "郑州丁造纸厂",
                                                         "郑州戊印染厂", "郑州己制革厂", "郑州庚电厂"]
    assert [entry["uscc"] for entry in entries] == [data.make_uscc(n) for n in range(11, 18)]
    assert [entry["equipment_count"] for entry in entries] == [2, 3, 4, 1, 2, 5, 1]
    assert [entry["capacity"] for entry in entries] == ["12.5", "12.5", "0.3", "100", "1200.5", "3", "5"]
    assert [entry["workers_affected"] for entry in entries] == [120, 120, 0, 35, 1000, 8, 60]
    assert [entry["planned_date"] for entry in entries] == ["2016-12-31", "2016-12-31", "2017-06-30", "2016-12-31",
                                                           "2016-12-31", "2016-12-31", "2017-03-01"]
    assert [entry["remarks"] for entry in entries] == ["", "", "整体搬迁", "", "", "", ""]
    assert entries[0] == {
        "enterprise": "郑州甲钢铁有限公司", "uscc": data.make_uscc(11), "county": "中牟县", "industry": "炼钢",
        "equipment": "30吨转炉", "equipment_count": 2, "capacity": "12.5", "unit": "万吨", "target_source": "大气污染防治",
        "planned_date": "2016-12-31", "method": "拆除", "workers_affected": 120, "remarks": "",
    }
    assert all(set(entry) == set(FIELD_NAMES) for entry in entries)


def test_the_form_is_found_on_a_later_sheet_and_totals_and_english_header_rows_are_skipped():
    workbook = Workbook()
    notes = workbook.active
    notes.title = "填表说明"
    notes["A1"] = "请在第二张工作表填写。"
    sheet = workbook.create_sheet("登记表")
    sheet.append([column.header for column in layout.COLUMNS])
    sheet.append([column.header_en for column in layout.COLUMNS])
    entry = _entry_cells(1)
    sheet.append([1, *(entry[field] for field in FIELD_NAMES)])
    sheet.append(["合计", None, None, None, None, None, 2, 12.5, None, None, None, None, 120, None])
    assert read_form(_bytes(workbook), REF).entries == [data.entry(1)]


def test_blank_rows_do_not_count_toward_the_row_cap():
    content = _filled_blank_form({n: _entry_cells(n) for n in range(5, 10)}, form_rows=300)
    assert len(read_form(content, REF, max_rows=5).entries) == 5


def test_formulas_are_read_as_their_cached_values():
    # openpyxl writes no cached values, so build the sheet part by hand with <f> and <v>.
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([column.header for column in layout.FIELDS])
    entry = _entry_cells(1)
    sheet.append([entry[field] for field in FIELD_NAMES])
    content = _bytes(workbook)
    with zipfile.ZipFile(BytesIO(content)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    assert '<c r="G2" t="n"><v>12.5</v></c>' in xml
    parts["xl/worksheets/sheet1.xml"] = xml.replace('<c r="G2" t="n"><v>12.5</v></c>',
                                                    '<c r="G2"><f>10+2.5</f><v>12.5</v></c>').encode()
    assert read_form(_zip(parts), REF).entries == [data.entry(1)]


def test_the_filer_lines_of_the_blank_form_are_read_back_as_filled_in():
    workbook = load_workbook(BytesIO(blank_form(REF, "410100", 2016)))
    sheet = workbook.worksheets[0]
    sheet["C2"], sheet["G2"], sheet["J2"], sheet["M2"] = "郑州市工业和信息化局", "王五", "0371-6718 8888", date(2016, 11, 10)
    sheet.cell(5, 2, None)
    for field, value in _entry_cells(1).items():
        sheet.cell(5, layout.COLUMNS.index(layout.BY_FIELD[field]) + 1, value)
    form = read_form(_bytes(workbook), REF, region="410100", year=2016)
    assert form.filer == {"organisation": "郑州市工业和信息化局", "person": "王五", "phone": "0371-67188888",
                          "date": "2016-11-10"}


def _titled(title: str, **filer) -> bytes:
    workbook = load_workbook(BytesIO(_filled_blank_form({5: _entry_cells(1)})))
    sheet = workbook.worksheets[0]
    sheet["A1"] = title
    for cell, value in filer.items():
        sheet[cell] = value
    return _bytes(workbook)


@pytest.mark.parametrize("title, says", [
    ("郑州市2016年落后产能排查登记表", "郑州市"),
    ("河南省 郑州市 2016年落后产能排查登记表", "郑州市"),
    ("三门峡市2015年落后产能排查登记表", "2015"),
])
def test_a_form_titled_for_another_region_or_year_is_refused_naming_the_title_cell(title, says):
    [error] = _refusal(_titled(title), region="411200", year=2016)
    assert (error["row"], error["column"]) == (1, "A")
    assert says in error["message"] and says in error["message_zh"]


def test_a_form_whose_title_names_the_filer_or_no_known_region_is_taken():
    assert read_form(_titled("三门峡市2016年落后产能排查登记表"), REF, region="411200", year=2016).entries
    assert read_form(_titled("××市（县）2016年落后产能排查登记表"), REF, region="411200", year=2016).entries


def test_a_bad_filer_line_is_named_by_its_cell():
    [error] = _refusal(_titled("郑州市2016年落后产能排查登记表", J2="打电话给我"), region="410100", year=2016)
    assert (error["row"], error["column"], error["message_zh"]) == (2, "J", "不是有效的电话号码")


# --- reading bad forms ---------------------------------------------------------------------

BAD_ROWS = {
    # Excel row: (changes to a good entry, the cells to be named)
    6: ({"uscc": data.make_uscc(5)[:-1] + ("0" if data.make_uscc(5)[-1] != "0" else "1")}, ["C"]),
    7: ({"industry": "炼金"}, ["E"]),
    8: ({"industry": "印染", "unit": "万吨"}, ["I"]),
    9: ({"capacity": -3}, ["H"]),
    10: ({"capacity": "十二"}, ["H"]),
    11: ({"planned_date": "2016-02-30"}, ["K"]),
    12: ({"enterprise": None}, ["B"]),
    13: ({"target_source": "十三五规划"}, ["J"]),
    14: ({"method": "拍卖"}, ["L"]),
    15: ({"equipment_count": 2.5}, ["G"]),
    16: ({"workers_affected": -1}, ["M"]),
    17: ({"capacity": 12.34567}, ["H"]),
    18: ({"county": "   ", "uscc": "91410100ABC", "unit": "吨"}, ["C", "D", "I"]),
    19: ({"remarks": "长" * 501}, ["N"]),
    20: ({"equipment_count": "两台", "planned_date": "明年"}, ["G", "K"]),
    31: ({"uscc": "abc"}, ["C"]),  # after a run of blank rows
}


def test_every_bad_cell_of_the_sheet_is_named_by_excel_row_and_column():
    rows = {5: _entry_cells(5)}
    rows.update({number: _entry_cells(number, **changes) for number, (changes, _) in BAD_ROWS.items()})
    errors = _refusal(_filled_blank_form(rows))
    named = [(error["row"], error["column"]) for error in errors]
    assert named == [(number, letter) for number, (_, letters) in sorted(BAD_ROWS.items()) for letter in letters]
    for error in errors:
        column = layout.BY_FIELD[error["field"]]
        assert openpyxl.utils.get_column_letter(layout.COLUMNS.index(column) + 1) == error["column"]
        assert error["header"] == column.header
        assert error["message_zh"] != "格式错误", error  # every message of this table has its Chinese
    by_cell = {(error["row"], error["column"]): error for error in errors}
    assert by_cell[6, "C"]["message_zh"] == "统一社会信用代码校验位错误"
    assert by_cell[7, "E"]["message_zh"].startswith("不在可选范围内：") and "炼钢" in by_cell[7, "E"]["message_zh"]
    assert by_cell[8, "I"]["message_zh"] == "印染的产能单位应为万米，不是万吨"
    assert by_cell[9, "H"]["message_zh"] == "必须大于 0"
    assert by_cell[10, "H"]["message_zh"] == "应为数字"
    assert by_cell[11, "K"]["message"] == "Not a valid date."
    assert by_cell[12, "B"]["message_zh"] == "必填项为空" and by_cell[18, "D"]["message_zh"] == "必填项为空"
    assert by_cell[15, "G"]["message_zh"] == "应为整数"
    assert by_cell[16, "M"]["message_zh"] == "应在 0 到 1000000 之间"
    assert by_cell[17, "H"]["message_zh"] == "最多保留 4 位小数"
    assert by_cell[18, "C"]["message_zh"] == "统一社会信用代码应为 18 位"
    assert by_cell[19, "N"]["message_zh"] == "超过 500 个字符"


def test_a_form_missing_a_column_names_the_column():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["郑州市2016年落后产能排查登记表"])
    sheet.append([column.header for column in layout.FIELDS if column.field != "capacity"])
    errors = _refusal(_bytes(workbook))
    assert [(error["row"], error["column"], error["field"]) for error in errors] == [(2, None, "capacity")]
    assert "产能" in errors[0]["message_zh"]


def _zip(parts: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def _form_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(_filled_blank_form({5: _entry_cells(1)}))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/styles.xml"])
def test_an_xml_entity_bomb_is_refused(part):
    parts = _form_parts()
    parts[part] = BILLION_LAUGHS
    error = _whole_file_refusal(_zip(parts))
    assert "XML" in error["message"]


def test_a_zip_bomb_is_refused():
    parts = _form_parts()
    parts["xl/media/padding.bin"] = b"\0" * (20 * 2**20)  # ~1000:1 once deflated
    error = _whole_file_refusal(_zip(parts))
    assert "zip bomb" in error["message"] and "压缩炸弹" in error["message_zh"]


def test_a_file_that_unpacks_to_more_than_50_mb_is_refused():
    parts = _form_parts()
    parts.update({f"xl/media/image{n}.bin": bytes(range(256)) * 4096 * 14 for n in range(4)})  # 4 × 14 MB
    error = _whole_file_refusal(_zip(parts))
    assert "50 MB" in error["message"]


def test_a_zip_that_lies_about_its_sizes_is_refused():
    parts = _form_parts()
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet + b" " * (20 * 2**20)
    content = bytearray(_zip(parts))
    declared = (len(sheet) + 10).to_bytes(4, "little")
    name = b"xl/worksheets/sheet1.xml"
    local = content.index(name) - 30  # a local header is 30 bytes, then the name
    central = content.index(name, local + 31) - 46  # a central directory entry is 46 bytes, then the name
    assert content[local:local + 4] == b"PK\x03\x04" and content[central:central + 4] == b"PK\x01\x02"
    content[local + 22:local + 26] = declared
    content[central + 24:central + 28] = declared
    with zipfile.ZipFile(BytesIO(bytes(content))) as archive:
        assert archive.getinfo(name.decode()).file_size == len(sheet) + 10  # the checks see a small part
    assert "not a readable .xlsx" in _whole_file_refusal(bytes(content))["message"]


def test_a_row_beyond_excels_last_row_is_refused():
    parts = _form_parts()
    far = b'<row r="1048600"><c r="B1048600" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b"</sheetData>", far)
    assert "beyond Excel's last row" in _whole_file_refusal(_zip(parts))["message"]


def test_a_zip_with_too_many_parts_is_refused():
    parts = _form_parts()
    parts.update({f"xl/media/p{n}.txt": b"x" for n in range(1000)})
    assert "parts" in _whole_file_refusal(_zip(parts))["message"]


def test_a_file_over_the_size_limit_is_refused():
    content = _filled_blank_form({5: _entry_cells(1)})
    assert "larger than 1000 bytes" in _whole_file_refusal(content, max_bytes=1000)["message"]


def test_more_rows_than_the_cap_are_refused():
    content = _filled_blank_form({n: _entry_cells(n) for n in range(5, 16)}, form_rows=20)
    error = _whole_file_refusal(content, max_rows=10)
    assert "more than 10" in error["message"] and "10" in error["message_zh"]


@pytest.mark.parametrize("content, says", [
    (b"", "not a readable .xlsx"),
    (b"enterprise,uscc\n", "not a readable .xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, ".xls"),
    (_zip({"word/document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"}), "not a readable .xlsx"),
    (b"PK\x03\x04 truncated zip", "not a readable .xlsx"),
], ids=["empty", "csv", "old-xls", "other-zip", "truncated-zip"])
def test_a_file_that_is_not_an_xlsx_is_refused(content, says):
    assert says in _whole_file_refusal(content)["message"]


def test_a_broken_sheet_is_refused_as_unreadable():
    parts = _form_parts()
    parts["xl/worksheets/sheet1.xml"] = b"<worksheet><sheetData><row r='1'><c r='A1'"
    assert "not a readable .xlsx" in _whole_file_refusal(_zip(parts))["message"]


def test_a_workbook_without_the_header_row_is_refused():
    workbook = Workbook()
    workbook.active.append(["name", "code", "amount"])
    workbook.active.append(["甲", "1", 2])
    error = _whole_file_refusal(_bytes(workbook))
    assert "No header row" in error["message"] and "未找到表头行" in error["message_zh"]


def test_the_blank_form_as_is_has_no_rows_to_read():
    error = _whole_file_refusal(blank_form(REF, "410100", 2016))
    assert "no filled-in rows" in error["message"]


@pytest.mark.parametrize("message, zh", [
    ("Missing data for required field.", "必填项为空"),
    ("Must be one of: 拆除, 关停, 其他.", "不在可选范围内：拆除、关停、其他"),
    ("Must be greater than or equal to 1 and less than or equal to 100000.", "应在 1 到 100000 之间"),
    ("Something nobody translated.", "格式错误"),
])
def test_schema_messages_have_their_chinese(message, zh):
    assert messages_zh.zh(message) == zh


# --- other office suites -------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_form_converted_by_libreoffice_reads_back(tmp_path):
    source = tmp_path / "form.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column.header for column in layout.COLUMNS])
        for n in (1, 2):
            entry = data.entry(n)
            writer.writerow([n, *(entry[field] for field in FIELD_NAMES)])
    subprocess.run(["soffice", "--headless", "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx",
                    "--outdir", str(tmp_path), str(source)],
                   check=True, timeout=180, capture_output=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert read_form((tmp_path / "form.xlsx").read_bytes(), REF) == [data.entry(1), data.entry(2)]
