"""A cell of a filled form as the JSON API would receive it: lenient about how a value is written
(text or number, full-width digits, thousands separators, dates as dates, Excel serials or text),
leaving anything unrecognised for ``entry_schema`` to refuse."""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.utils.datetime import from_excel

from ...domain.submissions import decimal_text

INTEGER_FIELDS = frozenset({"equipment_count", "workers_affected"})
SERIAL_YEARS = (1950, 2100)  # an Excel serial number is read as a date only if it lands in these years


def cell_value(field: str, value: Any, epoch) -> Any:
    """The value as the JSON API would receive it; anything unrecognised goes on for the schema to refuse."""
    if field in INTEGER_FIELDS:
        return _integer(value)
    if field == "capacity":
        return _decimal(value)
    if field == "planned_date":
        return date_value(value, epoch)
    text = text_value(value)
    if field == "uscc":
        text = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    return text


def text_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return _decimal(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_INTEGER = re.compile(r"[+-]?\d+(\.0*)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def _number_text(value: str) -> str:
    text = "".join(unicodedata.normalize("NFKC", value).split())
    return text.replace(",", "") if _THOUSANDS.fullmatch(text) else text


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = _number_text(value)
        return int(text.split(".")[0]) if len(text) <= 20 and _INTEGER.fullmatch(text) else value
    return value if isinstance(value, (int, float)) else text_value(value)


def _decimal(value: Any) -> str:
    """A decimal string; a float keeps what the user typed, not its binary approximation."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        four = f"{value:.4f}"
        if math.isclose(float(four), value, rel_tol=1e-9, abs_tol=0.0):
            return decimal_text(Decimal(four))
        return repr(value)  # more than 4 decimals for real: the schema says so
    if isinstance(value, str):
        return _number_text(value)
    return text_value(value)


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[T ]\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def date_value(value: Any, epoch) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and 0 < value < 2958466:
            day = from_excel(value, epoch).date()
            if SERIAL_YEARS[0] <= day.year <= SERIAL_YEARS[1]:
                return day.isoformat()
        value = text_value(value)
    if isinstance(value, str):
        text = " ".join(unicodedata.normalize("NFKC", value).split())
        match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
        if match:
            try:
                return date(*(int(part) for part in match.groups())).isoformat()
            except ValueError:
                pass
        return text
    return text_value(value)
