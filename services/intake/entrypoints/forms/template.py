"""The blank registration form an agency downloads, fills in and uploads.

It looks like the official paper form (title, units note, headers) and carries drop-down lists
of the reference data so that people pick 行业, 产能单位, 淘汰目标来源 and 淘汰方式 rather than
type them. The same request gives the same bytes, so the form can be cached and compared.
"""
from __future__ import annotations

from datetime import datetime
from io import BytesIO
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.writer.excel import ExcelWriter

from shared.reference import Reference

from . import layout

MAX_ROWS = 5000
INLINE_LIST_LIMIT = 255  # Excel refuses a longer inline list; longer lists go through a hidden sheet
LISTS_SHEET = "lists"

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


def blank_form(reference: Reference, region_code: str, year: int, rows: int = 200) -> bytes:
    """The XLSX form of ``region_code`` for ``year`` with ``rows`` empty data rows."""
    region = reference.regions.get(region_code)
    if region is None:
        raise ValueError(f"Unknown region code {region_code!r}.")
    if not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be between 1 and {MAX_ROWS}.")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "排查登记表"
    title = layout.TITLE.format(region=region.name, year=year)
    _head(sheet, title)
    last_row = layout.FIRST_DATA_ROW + rows - 1
    _body(sheet, last_row)
    _validations(workbook, sheet, reference, last_row)
    _page(sheet)
    fixed = datetime(year, 1, 1)
    workbook.properties.created = workbook.properties.modified = fixed
    workbook.properties.creator = workbook.properties.lastModifiedBy = "zeroclear"
    workbook.properties.title = title
    return _save(workbook, fixed)


def _head(sheet, title: str) -> None:
    width = len(layout.COLUMNS)
    for row, text, font, height in ((layout.TITLE_ROW, title, Font(bold=True, size=16), 32),
                                    (layout.UNITS_ROW, layout.UNITS_NOTE, Font(size=10), 20)):
        sheet.cell(row, 1, text).font = font
        sheet.cell(row, 1).alignment = Alignment(horizontal="center" if row == layout.TITLE_ROW else "left",
                                                 vertical="center")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        sheet.row_dimensions[row].height = height
    _filer_lines(sheet)
    for index, column in enumerate(layout.COLUMNS, start=1):
        cell = sheet.cell(layout.HEADER_ROW, index, column.header)
        cell.font, cell.alignment, cell.border = Font(bold=True), _CENTRE, _BORDER
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[layout.HEADER_ROW].height = 36
    sheet.freeze_panes = sheet.cell(layout.FIRST_DATA_ROW, 1)


def _filer_lines(sheet) -> None:
    """填报单位（盖章）/ 填报人 / 联系电话 / 填报日期: a label, then an underlined cell to fill in."""
    row = layout.FILER_ROW
    underline = Border(bottom=_THIN)
    for line in layout.FILER_LINES:
        label = sheet.cell(row, line.label_column, line.label)
        label.alignment = Alignment(horizontal="right", vertical="center", shrink_to_fit=True)
        first, last = line.value_columns
        for column in range(first, last + 1):
            sheet.cell(row, column).border = underline
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        if line.field == "date":
            sheet.cell(row, first).number_format = layout.DATE_FORMAT
    sheet.row_dimensions[row].height = 24


def _body(sheet, last_row: int) -> None:
    formats = {"planned_date": layout.DATE_FORMAT, "uscc": "@"}  # "@": keep long codes as text
    for index, column in enumerate(layout.COLUMNS, start=1):
        number_format = formats.get(column.field)
        for row in range(layout.FIRST_DATA_ROW, last_row + 1):
            cell = sheet.cell(row, index)
            cell.border = _BORDER
            if number_format:
                cell.number_format = number_format


def _letter(field: str) -> str:
    return get_column_letter(layout.COLUMNS.index(layout.BY_FIELD[field]) + 1)


def _validations(workbook: Workbook, sheet, reference: Reference, last_row: int) -> None:
    lists = _Lists(workbook)
    choices = {
        "industry": list(reference.industries),
        "unit": list(reference.units),
        "target_source": list(reference.target_sources),
        "method": list(reference.methods),
    }
    for field, items in choices.items():
        header = layout.BY_FIELD[field].header
        rule = DataValidation(type="list", formula1=lists.source(items), allow_blank=True,
                              showErrorMessage=True, errorTitle=header, error=f"请从下拉列表中选择{header}。")
        _apply(sheet, rule, field, last_row)
    # Hints only: the schema of the JSON API judges the uploaded form whatever Excel let through.
    numbers = {"equipment_count": ("whole", "1", "100000"), "workers_affected": ("whole", "0", "1000000")}
    for field, (kind, low, high) in numbers.items():
        rule = DataValidation(type=kind, operator="between", formula1=low, formula2=high, allow_blank=True,
                              showErrorMessage=True, error=f"请填写 {low} 到 {high} 之间的整数。")
        _apply(sheet, rule, field, last_row)
    rule = DataValidation(type="decimal", operator="greaterThan", formula1="0", allow_blank=True,
                          showErrorMessage=True, error="产能必须大于 0。")
    _apply(sheet, rule, "capacity", last_row)


def _apply(sheet, rule: DataValidation, field: str, last_row: int) -> None:
    letter = _letter(field)
    sheet.add_data_validation(rule)
    rule.add(f"{letter}{layout.FIRST_DATA_ROW}:{letter}{last_row}")


class _Lists:
    """Where a drop-down's items live: inline when Excel allows it, else a hidden sheet's column."""

    def __init__(self, workbook: Workbook):
        self.workbook = workbook
        self.sheet = None
        self.used = 0  # columns of the hidden sheet already holding a list

    def source(self, items: list[str]) -> str:
        inline = ",".join(items)
        if len(inline) <= INLINE_LIST_LIMIT and not any("," in item or '"' in item for item in items):
            return f'"{inline}"'
        if self.sheet is None:
            self.sheet = self.workbook.create_sheet(LISTS_SHEET)
            self.sheet.sheet_state = "hidden"
        self.used += 1
        column = self.used
        for row, item in enumerate(items, start=1):
            self.sheet.cell(row, column, item)
        letter = get_column_letter(column)
        return f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:${letter}${len(items)}"


def _page(sheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{layout.HEADER_ROW}:{layout.HEADER_ROW}"


def _save(workbook: Workbook, fixed: datetime) -> bytes:
    """openpyxl's ``save`` stamps the current time into core.xml and the zip entries; avoid both."""
    raw = BytesIO()
    ExcelWriter(workbook, ZipFile(raw, "w", ZIP_DEFLATED, allowZip64=True)).save()
    stamp = (max(fixed.year, 1980), 1, 1, 0, 0, 0)
    packed = BytesIO()
    with ZipFile(BytesIO(raw.getvalue())) as source, ZipFile(packed, "w", ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(ZipInfo(info.filename, date_time=stamp), source.read(info.filename),
                            compress_type=ZIP_DEFLATED)
    return packed.getvalue()
