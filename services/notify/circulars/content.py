"""The content of a circular (通报) and what every rendering of it shares.

A circular is a plain dict, computed by the caller from the ledger's events as of one log
position; this package only checks it and renders it. Its shape (every key required, no other
key allowed, so a misspelt key is an error rather than a silently missing figure)::

    {"circular_id": "2016-11",              # or a uuid-like string: letters, digits, "-", "_"
     "number": 2,                           # optional: the issue number (第2期), from 1
     "document_no": "豫淘汰办〔2016〕12号",   # optional: its document number (文号), or null
     "title": "河南省淘汰落后产能清零行动工作通报（2016年第2期）",
     "issued_at": "2016-11-30T02:00:00Z",   # the recording time of the event at its position
     "dated": "2016-12-01",                 # optional: the business date it was issued on
     "position": 1234,                      # the ledger sequence number it is pinned to
     "head_hash": "<64 lowercase hex>",     # the hash of that event
     "year": 2016, "period": "2016-11",
     "province": {"regions": 28, "reported": 20, "on_time": 15, "late": 5, "missing": 8,
                  "zero_reports": 3, "cleared": 2,
                  "items": {"registered": n, "eliminated": n, "verified": n, "overdue": n},
                  "tips": {"received": n, "resolved": n, "late": n},
                  "discrepancies": n, "resurgences": n},
     "regions": [{"region": "410100", "name": "郑州市",
                  "report": "on_time" | "late" | "missing" | "awaiting" | "zero",
                  "industries": [{"industry": "炼钢", "unit": "万吨", "registered": "150",
                                  "eliminated": "100", "verified": "50"}],
                  "overdue_items": [{"item_id": "...", "enterprise": "...", "equipment": "...",
                                     "planned_date": "2016-06-30", "days_late": 153}],
                  "tips": {"received": n, "resolved": n, "late": n},
                  "discrepancies": n, "resurgences": n, "cleared": bool,
                  "rank": int | None,               # from 1; equal totals share a rank (1, 2, 2, 4)
                  "total": "82.00" | None,          # the SPEC §6 total the ranking is by
                  "grade": "良好" | None,            # 优秀, 良好, 合格 or 不合格
                  "draft": bool}],                  # an office score still missing (counted as 0)
     "ranking": {"position": 1234,          # optional: the assessment the ranks and totals are
                 "cut_off": "<instant>",    # from, as of that position (its cut-off and digest)
                 "digest": "<64 hex>", "draft": bool},
     "previous": {"circular_id": "2016-1200", "number": 1, "position": 1200} | None,  # optional
     "changes": [{"region": "410100", "what": "报送排查登记表"}]}   # since the previous one

Counts are non-negative integers (never booleans); quantities are non-negative decimal strings
("150", "12.5"); ``total`` is a decimal string. No floats anywhere: the JSON rendering is the
canonical JSON that is hashed. Lists are rendered in the order given, so the caller decides the
order (regions by code or by rank) and identical content always gives identical bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal
from typing import Any, Callable, Mapping

from shared.canonical import dumps_checked

REPORT_STATUS_ZH = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送",
                    "awaiting": "待报送", "zero": "零报告"}
GRADES_ZH = ("优秀", "良好", "合格", "不合格")  # SPEC §6: ≥ 90, ≥ 75, ≥ 60, below
OFFICE_ZH = "河南省淘汰落后产能工作领导小组办公室"
BEIJING = timezone(timedelta(hours=8), "CST")  # no daylight saving in China since 1991

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_REGION = re.compile(r"[0-9]{6}")
_QUANTITY = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")
_TOTAL = re.compile(r"-?[0-9]{1,6}(\.[0-9]{1,6})?")
_DEC = Context(prec=34)


# --- validation ---------------------------------------------------------------------------

def validate_content(content: Any) -> None:
    """Raise ``ValueError`` naming the path (``$.regions[0].industries[1].unit``) of the first
    missing, unexpected or mistyped value; return ``None`` when the content can be rendered."""
    dumps_checked(content)  # floats, huge ints, non-ASCII keys: NotCanonicalisable (ValueError)
    _check(content, _CIRCULAR, "$")
    seen: set[str] = set()
    for index, region in enumerate(content["regions"]):
        if region["region"] in seen:
            raise ValueError(f"$.regions[{index}].region: region {region['region']} appears twice")
        seen.add(region["region"])


def _fail(path: str, expected: str, value: Any) -> None:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise ValueError(f"{path}: expected {expected}, got {type(value).__name__} {shown}")


def _count(value: Any, path: str) -> None:
    if type(value) is not int or value < 0:
        _fail(path, "a non-negative integer", value)


def _text(value: Any, path: str) -> None:
    if type(value) is not str or not value.strip():
        _fail(path, "a non-empty string", value)


def _matching(pattern: re.Pattern[str], expected: str) -> Callable[[Any, str], None]:
    def check(value: Any, path: str) -> None:
        if type(value) is not str or not pattern.fullmatch(value):
            _fail(path, expected, value)
    return check


def _one_of(*allowed: str) -> Callable[[Any, str], None]:
    def check(value: Any, path: str) -> None:
        if value not in allowed:
            _fail(path, "one of " + ", ".join(allowed), value)
    return check


def _nullable(check: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def maybe(value: Any, path: str) -> None:
        if value is not None:
            check(value, path)
    return maybe


def _instant(value: Any, path: str) -> None:
    try:
        parsed = datetime.fromisoformat(value) if type(value) is str else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        _fail(path, "an ISO 8601 instant with an offset", value)


def _date(value: Any, path: str) -> None:
    try:
        parsed = date.fromisoformat(value) if type(value) is str and len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        _fail(path, "an ISO date YYYY-MM-DD", value)


def _year(value: Any, path: str) -> None:
    if type(value) is not int or not 1900 <= value <= 9999:
        _fail(path, "a year such as 2016", value)


def _flag(value: Any, path: str) -> None:
    if type(value) is not bool:
        _fail(path, "true or false", value)


def _rank(value: Any, path: str) -> None:
    if value is not None and (type(value) is not int or value < 1):
        _fail(path, "a rank (integer from 1) or null", value)


def _ordinal(value: Any, path: str) -> None:
    if type(value) is not int or value < 1:
        _fail(path, "an integer from 1", value)


@dataclass(frozen=True)
class _Optional:
    """A key that may be left out (when present, ``check`` applies)."""
    check: Callable[[Any, str], None]


@dataclass(frozen=True)
class _Nullable:
    """An object of ``shape``, or null."""
    shape: Any


_TIPS = {"received": _count, "resolved": _count, "late": _count}
_QUANTITY_CHECK = _matching(_QUANTITY, "a non-negative decimal string such as \"150\" or \"12.5\"")
_INDUSTRY = {"industry": _text, "unit": _text, "registered": _QUANTITY_CHECK,
             "eliminated": _QUANTITY_CHECK, "verified": _QUANTITY_CHECK}
_OVERDUE = {"item_id": _text, "enterprise": _text, "equipment": _text,
            "planned_date": _date, "days_late": _count}
_REGION_SHAPE = {
    "region": _matching(_REGION, "a six-digit region code"), "name": _text,
    "report": _one_of(*REPORT_STATUS_ZH), "industries": [_INDUSTRY], "overdue_items": [_OVERDUE],
    "tips": _TIPS, "discrepancies": _count, "resurgences": _count, "cleared": _flag,
    "rank": _rank, "total": _nullable(_matching(_TOTAL, "a decimal string such as \"82.00\"")),
    "grade": _nullable(_one_of(*GRADES_ZH)), "draft": _flag,
}
_PROVINCE = {
    "regions": _count, "reported": _count, "on_time": _count, "late": _count, "missing": _count,
    "zero_reports": _count, "cleared": _count,
    "items": {"registered": _count, "eliminated": _count, "verified": _count, "overdue": _count},
    "tips": _TIPS, "discrepancies": _count, "resurgences": _count,
}
_CIRCULAR = {
    "circular_id": _matching(_ID, "an identifier such as \"2016-11\" or a uuid"),
    "number": _Optional(_ordinal), "document_no": _Optional(_nullable(_text)), "title": _text,
    "issued_at": _instant, "dated": _Optional(_date), "position": _count,
    "head_hash": _matching(_HEX64, "64 lowercase hexadecimal digits"),
    "year": _year, "period": _text,
    "province": _PROVINCE, "regions": [_REGION_SHAPE],
    "ranking": _Optional({"position": _count, "cut_off": _instant,
                          "digest": _matching(_HEX64, "64 lowercase hexadecimal digits"), "draft": _flag}),
    "previous": _Optional(_Nullable({"circular_id": _matching(_ID, "an identifier"), "number": _ordinal,
                                     "position": _count})),
    "changes": [{"region": _matching(_REGION, "a six-digit region code"), "what": _text}],
    # the ledger's signed checkpoint of the tree at the circular's position (a C2SP signed note)
    "checkpoint": _Optional({"size": _count, "root": _matching(_HEX64, "64 lowercase hexadecimal digits"),
                             "note": _text}),
}


def _check(value: Any, shape: Any, path: str) -> None:
    if isinstance(shape, _Nullable):
        if value is not None:
            _check(value, shape.shape, path)
    elif isinstance(shape, dict):
        if type(value) is not dict:
            _fail(path, "an object", value)
        for key, inner in shape.items():
            if isinstance(inner, _Optional):
                if key not in value:
                    continue
                inner = inner.check
            elif key not in value:
                raise ValueError(f"{path}.{key}: missing")
            _check(value[key], inner, f"{path}.{key}")
        for key in value:
            if key not in shape:
                raise ValueError(f"{path}.{key}: unexpected field")
    elif isinstance(shape, list):
        if type(value) is not list:
            _fail(path, "a list", value)
        for index, item in enumerate(value):
            _check(item, shape[0], f"{path}[{index}]")
    else:
        shape(value, path)


# --- what the renderings share ------------------------------------------------------------

def issued_beijing(content: Mapping[str, Any]) -> datetime:
    """The instant of issue in Beijing time (the business time zone, a fixed UTC+8, so the
    rendering does not depend on the host's time zone data)."""
    return datetime.fromisoformat(content["issued_at"]).astimezone(BEIJING)


def issued_date_zh(content: Mapping[str, Any]) -> str:
    """The date of the log's state at the position (its recording time, in Beijing), as the office
    writes it: ``2016年11月30日``."""
    day = issued_beijing(content)
    return f"{day.year}年{day.month}月{day.day}日"


def dated_zh(content: Mapping[str, Any]) -> str:
    """The date the circular was issued (the business date it bears in its head and under its
    signature); a circular without one bears the date of its position."""
    if not content.get("dated"):
        return issued_date_zh(content)
    day = date.fromisoformat(content["dated"])
    return f"{day.year}年{day.month}月{day.day}日"


def period_zh(content: Mapping[str, Any]) -> str:
    """``2016-11`` → ``2016年11月``; any other period is shown as given."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", content["period"])
    return f"{match[1]}年{int(match[2])}月" if match else content["period"]


def provenance_zh(content: Mapping[str, Any]) -> str:
    return f"本通报依据台账第{content['position']}条记录（哈希 {content['head_hash']}）"


def checkpoint_zh(content: Mapping[str, Any]) -> str | None:
    """The witness line: the signed checkpoint it carries, for a reader to hold the log to later."""
    checkpoint = content.get("checkpoint")
    if checkpoint is None:
        return None
    return (f"台账签名检查点：共{checkpoint['size']}条记录，默克尔树根 {checkpoint['root']}。"
            "请留存下列签名文本，可随时向台账索取一致性证明，核验台账未被改写。")


def region_names(content: Mapping[str, Any]) -> dict[str, str]:
    return {region["region"]: region["name"] for region in content["regions"]}


def percent(part: str | Decimal, whole: str | Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to one decimal place; ``None`` when whole is 0."""
    whole = Decimal(whole)
    if not whole:
        return None
    value = _DEC.divide(_DEC.multiply(Decimal(part), Decimal(100)), whole)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP, context=_DEC)


def percent_zh(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def plain(value: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Series:
    name: str
    color: str                      # "#rrggbb"
    values: tuple[Decimal, ...]
    labels: tuple[str, ...]         # the text written at the end of each bar


@dataclass(frozen=True)
class Chart:
    """A horizontal grouped bar chart, drawn the same way in HTML (SVG) and PDF."""
    title: str
    axis_label: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    axis_max: Decimal
    step: Decimal


ELIMINATED_COLOR = "#e15759"
VERIFIED_COLOR = "#4e79a7"
OVERDUE_COLOR = "#f28e2b"


def industry_totals(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Province totals per (industry, unit), in order of first appearance."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for region in content["regions"]:
        for row in region["industries"]:
            key = (row["industry"], row["unit"])
            total = totals.setdefault(key, {"industry": key[0], "unit": key[1],
                                            "registered": Decimal(0), "eliminated": Decimal(0),
                                            "verified": Decimal(0)})
            for field in ("registered", "eliminated", "verified"):
                total[field] = _DEC.add(total[field], Decimal(row[field]))
    return list(totals.values())


def charts(content: Mapping[str, Any]) -> list[Chart]:
    """The circular's charts: progress per industry (a share, so units never mix) and the overdue
    items of the regions that have any, most first. A chart with nothing to show is left out."""
    found = []
    totals = industry_totals(content)
    if totals:
        found.append(_industry_chart(totals))
    late = sorted((r for r in content["regions"] if r["overdue_items"]), key=lambda r: -len(r["overdue_items"]))
    if late:
        found.append(_overdue_chart(late))
    return found


def _industry_chart(totals: list[dict[str, Any]]) -> Chart:
    def series(name: str, field: str, color: str) -> Series:
        shares = [percent(row[field], row["registered"]) for row in totals]
        return Series(name, color, tuple(share or Decimal(0) for share in shares),
                      tuple(f"{percent_zh(share)}（{plain(row[field])}/{plain(row['registered'])}）"
                            for share, row in zip(shares, totals)))
    eliminated = series("已淘汰", "eliminated", ELIMINATED_COLOR)
    verified = series("已验收", "verified", VERIFIED_COLOR)
    top = max([Decimal(100), *eliminated.values, *verified.values])
    axis_max, step = nice_axis(top)
    return Chart("分行业淘汰进度（占登记产能的百分比）", "%",
                 tuple(f"{row['industry']}（{row['unit']}）" for row in totals),
                 (eliminated, verified), axis_max, step)


def _overdue_chart(regions: list[dict[str, Any]]) -> Chart:
    counts = tuple(Decimal(len(region["overdue_items"])) for region in regions)
    axis_max, step = nice_axis(max(counts))
    return Chart("各地区逾期未淘汰项目数（有逾期项目的地区）", "项", tuple(region["name"] for region in regions),
                 (Series("逾期项目", OVERDUE_COLOR, counts, tuple(str(n) for n in counts)),),
                 axis_max, step)


def nice_axis(top: Decimal) -> tuple[Decimal, Decimal]:
    """An axis maximum ≥ ``top`` and a whole step of 1, 2 or 5 × 10ⁿ giving at most 5 ticks."""
    magnitude = 1
    while magnitude * 10 <= top:
        magnitude *= 10
    for step in sorted({max(magnitude * factor // 10, 1) for factor in (1, 2, 5, 10, 20, 50, 100)}):
        ticks = _DEC.divide(top, step).to_integral_value(rounding=ROUND_CEILING)
        if ticks <= 5:
            return max(ticks, Decimal(1)) * step, Decimal(step)
    raise AssertionError("unreachable: 10 × magnitude always fits")  # pragma: no cover
