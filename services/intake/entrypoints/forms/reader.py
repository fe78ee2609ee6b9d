"""Reading a filled registration form back into the ``entries`` of a report.

The form comes from people and from several office suites, so the reader is lenient about how
a value is written (text or number, full-width digits, dates as dates, serials or text) and
strict about what it means: every row goes through ``entry_schema``, the very rules of the JSON
API. Every bad cell is named by its Excel row and column letter, in English and Chinese, so a
clerk can fix the whole sheet in one go. The file itself is untrusted: size, zip structure and
XML are checked before anything is parsed, and no parse error escapes as anything but
``FormErrors``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Iterable
from zipfile import BadZipFile, ZipFile

from defusedxml import DefusedXmlException
from marshmallow import ValidationError
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from shared.messages_zh import zh
from shared.reference import Reference

from ...domain.submissions import decimal_text
from ..schemas import FilerSchema, entry_schema
from . import layout
from .cells import cell_value, date_value, text_value

MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024  # below this a member cannot hurt, and tiny XML parts compress very well
MAX_MEMBERS = 1000
EXCEL_MAX_ROW = 1_048_576  # a row number past this is crafted, and openpyxl would walk every row up to it
HEADER_SCAN_ROWS = 30
HEADER_SCAN_COLUMNS = 64
TOTAL_LABELS = frozenset({"合计", "总计", "小计"})  # a totals row at the bottom is not an entry


class FormErrors(Exception):
    """The form cannot be taken; ``errors`` lists every reason, each a dict naming the cell."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("; ".join(error["message"] for error in errors[:5]))
        self.errors = errors


def _problem(message: str, message_zh: str, *, row: int | None = None, column: int | None = None,
             field: str | None = None) -> dict[str, Any]:
    return {
        "row": row,
        "column": get_column_letter(column) if column else None,
        "header": layout.BY_FIELD[field].header if field else None,
        "field": field,
        "message": message,
        "message_zh": message_zh,
    }


def _refuse(message: str, message_zh: str, **where: Any) -> FormErrors:
    return FormErrors([_problem(message, message_zh, **where)])


@dataclass(frozen=True)
class FilledForm:
    """What an uploaded form says: its entries and its filer lines (填报单位, 填报人, 联系电话,
    填报日期: those filled in, JSON-ready)."""

    entries: list[dict]
    filer: dict[str, str]


def read_form(data: bytes, reference: Reference, *, region: str | None = None, year: int | None = None,
              max_bytes: int = 5_000_000, max_rows: int = 5000) -> FilledForm:
    """The filled form, each entry valid for ``entry_schema(reference)``. A title that names another
    region or year than the filing's (``region``, ``year``) is refused, naming the title's cell."""
    _check_archive(data, max_bytes)
    try:
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise _parse_failure(exc) from None
    try:
        sheet, header_row, columns = _find_header(workbook.worksheets)
        head = read_head(sheet, header_row, workbook.epoch)
        rows = list(_data_rows(sheet, header_row, columns, max_rows, workbook.epoch))
    except FormErrors:
        raise
    except Exception as exc:
        raise _parse_failure(exc) from None
    finally:
        workbook.close()
    check_title(head, reference, region, year)
    filer = judge_filer(head)
    if not rows:
        raise _refuse("The form has no filled-in rows below the header row.", "表头下没有填写任何数据行。")
    return FilledForm(_judge(rows, columns, reference), filer)


# --- the file ------------------------------------------------------------------------------

def _check_archive(data: bytes, max_bytes: int) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise _unreadable()
    if len(data) > max_bytes:
        raise _refuse(f"The file is larger than {max_bytes} bytes.", f"文件超过 {max_bytes} 字节，过大。")
    if bytes(data[:4]) == b"\xd0\xcf\x11\xe0":
        raise _refuse("This is an old .xls workbook; save it as .xlsx (Excel 2007 or later) and upload again.",
                      "这是旧版 .xls 文件，请另存为 .xlsx 格式后重新上传。")
    try:
        with ZipFile(BytesIO(data)) as archive:
            members = archive.infolist()
    except (BadZipFile, OSError, ValueError, EOFError):
        raise _unreadable() from None
    if len(members) > MAX_MEMBERS:
        raise _refuse(f"The file has more than {MAX_MEMBERS} parts; it is not a registration form.",
                      f"文件内部部件超过 {MAX_MEMBERS} 个，不是登记表。")
    if sum(member.file_size for member in members) > MAX_UNCOMPRESSED:
        raise _refuse(f"The file unpacks to more than {MAX_UNCOMPRESSED // 2**20} MB.",
                      f"文件解压后超过 {MAX_UNCOMPRESSED // 2**20} MB。")
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise _refuse(f"The file is compressed suspiciously well ({member.filename}: over {MAX_RATIO}:1); "
                          "it looks like a zip bomb.",
                          f"文件压缩比异常（{member.filename} 超过 {MAX_RATIO}:1），疑似压缩炸弹，拒绝读取。")


def _parse_failure(exc: BaseException) -> FormErrors:
    """openpyxl wraps parser errors (e.g. in a ValueError); defusedxml's refusal may be deep in the chain."""
    seen: BaseException | None = exc
    for _ in range(20):  # a chain is short; the bound only guards against a cycle
        if seen is None:
            break
        if isinstance(seen, DefusedXmlException):
            return _forbidden_xml()
        seen = seen.__cause__ or seen.__context__
    return _unreadable()


def _unreadable() -> FormErrors:
    return _refuse("The file is not a readable .xlsx workbook.", "文件不是可读取的 .xlsx 工作簿。")


def _forbidden_xml() -> FormErrors:
    return _refuse("The workbook contains forbidden XML (DTD or entity declarations).",
                   "工作簿包含不允许的 XML 内容（DTD 或实体声明），拒绝读取。")


# --- the header ----------------------------------------------------------------------------

def _find_header(sheets: Iterable) -> tuple[Any, int, dict[str | None, int]]:
    """The first worksheet and row carrying the form's headers, and each field's column there."""
    keys = layout.header_keys()
    required = {column.field for column in layout.FIELDS} - layout.OPTIONAL_FIELDS
    partial = None
    for sheet in sheets:
        sheet.reset_dimensions()  # some writers record a wrong size; read what is there
        rows = sheet.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS, max_col=HEADER_SCAN_COLUMNS, values_only=True)
        for number, values in enumerate(rows, start=1):
            columns: dict[str | None, int] = {}
            for index, value in enumerate(values, start=1):
                column = keys.get(layout.header_key(value))
                if column is not None:
                    columns.setdefault(column.field, index)
            found = required & set(columns)
            if found == required:
                return sheet, number, columns
            if len(found) >= 3 and (partial is None or len(found) > len(partial[1] & required)):
                partial = (number, set(columns))
    if partial is not None:
        number, present = partial
        raise FormErrors([
            _problem(f"The header row lacks the column {layout.BY_FIELD[field].header} ({layout.BY_FIELD[field].header_en}).",
                     f"表头缺少“{layout.BY_FIELD[field].header}”列。", row=number, field=field)
            for field in (column.field for column in layout.FIELDS) if field in required - present
        ])
    headers = "、".join(column.header for column in layout.FIELDS[:3])
    raise _refuse(f"No header row found: the sheet needs the form's header row ({headers}, …).",
                  f"未找到表头行：工作表须含登记表的表头（{headers}……）。")


# --- above the header: the title and the filer lines ----------------------------------------

@dataclass
class FormHead:
    title: tuple[int, int, str, int] | None = None  # (row, column, region as written, year)
    filer: dict[str, tuple[Any, int, int]] = field(default_factory=dict)  # field -> (value, row, column)


def read_head(sheet, header_row: int, epoch) -> FormHead:
    """The title (where it is, the region and year it names) and the filer lines' values, as
    written in the rows above the header row."""
    labels = layout.filer_label_keys()
    head = FormHead()
    rows = sheet.iter_rows(min_row=1, max_row=header_row - 1, max_col=HEADER_SCAN_COLUMNS, values_only=True)
    for number, values in enumerate(rows, start=1):
        pending: layout.FilerLine | None = None
        for index, value in enumerate(values, start=1):
            if _blank(value):
                continue
            key = layout.header_key(value)
            title = layout.TITLE_PATTERN.fullmatch(key)
            if title and head.title is None:
                head.title = (number, index, title["region"], int(title["year"]))
                continue
            label, _, rest = key.partition(":")  # NFKC made a full-width colon plain
            if label in labels:
                pending = labels[label]
                if rest:  # "填报人：张三" in one cell: what follows the colon, as written
                    written = re.split("[:：]", str(value), maxsplit=1)[1]
                    head.filer[pending.field] = (_filer_value(pending.field, written, epoch), number, index)
                    pending = None
            elif pending is not None:
                head.filer[pending.field] = (_filer_value(pending.field, value, epoch), number, index)
                pending = None
    return head


def _filer_value(name: str, value: Any, epoch) -> Any:
    if name == "date":
        return date_value(value, epoch)
    text = text_value(value)
    return "".join(unicodedata.normalize("NFKC", text).split()) if name == "phone" else text


def check_title(head: FormHead, reference: Reference, region: str | None, year: int | None) -> None:
    """A form whose title names another region (on the register) or year than the filing's is refused."""
    if head.title is None:
        return
    row, column, written, title_year = head.title
    named = [code for code, known in reference.regions.items() if known.name in written]
    named = sorted(named, key=lambda code: len(reference.regions[code].name), reverse=True)[:1]
    expected = reference.regions.get(region) if region else None
    if expected is not None and named and named[0] != region:
        other = reference.regions[named[0]].name
        raise _refuse(f"The form's title names {other}, but it is filed for {expected.name}.",
                      f"登记表标题为{other}，与报送地区{expected.name}不符。", row=row, column=column)
    if year is not None and title_year != year:
        raise _refuse(f"The form's title is for {title_year}, but it is filed for {year}.",
                      f"登记表标题年度为{title_year}年，与报送年度{year}年不符。", row=row, column=column)


def judge_filer(head: FormHead) -> dict[str, str]:
    """The filer lines filled in, each valid for ``FilerSchema``; a bad one is named by its cell."""
    raw = {name: value for name, (value, _, _) in head.filer.items() if not _blank(value)}
    try:
        loaded = FilerSchema().load(raw)
    except ValidationError as refused:
        raise FormErrors([_problem(" ".join(_flat(messages)), "；".join(zh(m) for m in _flat(messages)),
                                   row=head.filer[name][1], column=head.filer[name][2])
                          for name, messages in refused.messages.items()]) from None
    return {name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in loaded.items()}


# --- the rows ------------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _data_rows(sheet, header_row: int, columns: dict[str | None, int], max_rows: int, epoch):
    """(Excel row, {field: value}) for each row with something filled in, values converted."""
    english = {field: layout.header_key(layout.BY_FIELD[field].header_en) for field in columns if field}
    width = max(columns.values())
    count = 0
    for number, values in enumerate(sheet.iter_rows(min_row=header_row + 1, max_col=width, values_only=True),
                                    start=header_row + 1):
        if number > EXCEL_MAX_ROW:
            raise _refuse(f"The sheet has rows beyond Excel's last row ({EXCEL_MAX_ROW}).",
                          f"工作表的行号超出 Excel 的最大行数（{EXCEL_MAX_ROW}）。")
        cells = {field: values[index - 1] for field, index in columns.items() if field}
        if all(_blank(value) for value in cells.values()):
            continue
        if all(_blank(value) or layout.header_key(value) == english[field] for field, value in cells.items()):
            continue  # an English header row under the Chinese one
        labels = (cells.get("enterprise"), values[columns[None] - 1] if None in columns else None)
        if any(isinstance(label, str) and "".join(label.split()) in TOTAL_LABELS for label in labels):
            continue
        count += 1
        if count > max_rows:
            raise _refuse(f"The form has more than {max_rows} filled-in rows.", f"登记表的数据行超过 {max_rows} 行。")
        yield number, {field: cell_value(field, value, epoch) for field, value in cells.items() if not _blank(value)}


# --- the judgement -------------------------------------------------------------------------

def _judge(rows: list[tuple[int, dict]], columns: dict[str | None, int], reference: Reference) -> list[dict]:
    schema = entry_schema(reference)()
    entries, problems = [], []
    for number, raw in rows:
        try:
            loaded = schema.load(raw)
        except ValidationError as refused:
            problems.extend(_cell_problems(number, refused.messages, columns))
            continue
        except Exception:  # a value no rule foresaw (e.g. an absurd exponent): name the row, never a 500
            problems.append(_problem("This row could not be checked; look for unusual values.",
                                     "此行无法校验，请检查是否有异常数值。", row=number))
            continue
        entries.append(_json(loaded))
    if problems:
        problems.sort(key=lambda p: (p["row"], columns.get(p["field"], 0) if p["field"] else 0))
        raise FormErrors(problems)
    return entries


def _json(loaded: dict) -> dict:
    """The loaded (normalised) entry in the types of the JSON body: strings, ints, ISO dates."""
    value = dict(loaded)
    value["capacity"] = decimal_text(loaded["capacity"])
    value["planned_date"] = loaded["planned_date"].isoformat()
    return value


def _flat(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [text for inner in messages.values() for text in _flat(inner)]
    if isinstance(messages, (list, tuple)):
        return [text for inner in messages for text in _flat(inner)]
    return [str(messages)]


def _cell_problems(number: int, messages: dict, columns: dict[str | None, int]) -> list[dict]:
    problems = []
    for field, inner in messages.items():
        texts = _flat(inner)
        known = field in layout.BY_FIELD
        problems.append(_problem(" ".join(texts), "；".join(dict.fromkeys(zh(text) for text in texts)),
                                 row=number, column=columns.get(field) if known else None,
                                 field=field if known else None))
    return problems
