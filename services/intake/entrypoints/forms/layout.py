"""The columns of the registration form, shared by the writer and the reader.

One table so that the blank form handed out and the reader of the filled form can never drift
apart: each column names the field of a registration entry (``entry_schema``), its Chinese
header as printed on the official form, an English header, and its width in the sheet.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    field: str | None  # None: the 序号 column, written for people and ignored by the reader
    header: str
    header_en: str
    width: float


ROW_NUMBER = Column(None, "序号", "No.", 6)
FIELDS = (
    Column("enterprise", "企业名称", "Enterprise", 28),
    Column("uscc", "统一社会信用代码", "Unified social credit code", 22),
    Column("county", "所在县（市、区）", "County (city, district)", 14),
    Column("industry", "行业", "Industry", 10),
    Column("equipment", "落后工艺装备", "Outdated process or equipment", 24),
    Column("equipment_count", "装备数量（台/套）", "Equipment count (units/sets)", 10),
    Column("capacity", "产能", "Capacity", 10),
    Column("unit", "产能单位", "Capacity unit", 10),
    Column("target_source", "淘汰目标来源", "Target source", 18),
    Column("planned_date", "计划淘汰时间", "Planned elimination date", 13),
    Column("method", "淘汰方式", "Method", 10),
    Column("workers_affected", "涉及职工人数", "Workers affected", 10),
    Column("remarks", "备注", "Remarks", 20),
)
COLUMNS = (ROW_NUMBER, *FIELDS)
BY_FIELD = {column.field: column for column in FIELDS}
OPTIONAL_FIELDS = frozenset({"remarks"})  # the schema defaults it; a form without the column is still a form

TITLE = "{region}{year}年落后产能排查登记表"
#: The title as read back, once ``header_key`` has folded it: the region (as written) and the year.
TITLE_PATTERN = re.compile(r"^(?P<region>.*?)(?P<year>[0-9]{4})年落后产能排查登记表$")
UNITS_NOTE = "产能单位：万吨（其中，玻璃，万重量箱；制革，万标张；印染，万米；电力，万千瓦）"
TITLE_ROW, FILER_ROW, UNITS_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3, 4, 5
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class FilerLine:
    """One of the official form's filer lines: the label, and the columns of its label and value."""

    field: str
    label: str
    label_column: int
    value_columns: tuple[int, int]


#: 填报单位 / 填报人 / 联系电话 / 填报日期 on the row under the title, as an official form carries them.
FILER_LINES = (
    FilerLine("organisation", "填报单位（盖章）：", 2, (3, 5)),
    FilerLine("person", "填报人：", 6, (7, 8)),
    FilerLine("phone", "联系电话：", 9, (10, 11)),
    FilerLine("date", "填报日期：", 12, (13, 14)),
)


def filer_label_keys() -> dict[str, FilerLine]:
    """Each filer label as ``header_key`` folds it (with and without 盖章, without its colon)."""
    keys = {}
    for line in FILER_LINES:
        bare = header_key(line.label).rstrip(":")
        keys[bare] = line
        keys[bare.replace("(盖章)", "")] = line
    return keys


def header_key(text: object) -> str:
    """What a header cell says once office software's variations are folded away.

    NFKC makes full-width brackets and letters half-width; all whitespace goes, including the
    line breaks people put inside header cells; a required-field star (*) is dropped.
    """
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    return "".join(folded.split()).strip("*").casefold()


def header_keys() -> dict[str, Column]:
    """Each recognised header (Chinese, or the English one) → its column."""
    keys: dict[str, Column] = {}
    for column in COLUMNS:
        keys[header_key(column.header)] = column
        keys[header_key(column.header_en)] = column
    return keys
