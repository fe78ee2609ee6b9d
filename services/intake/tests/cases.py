"""The table of bad report bodies, shared by the schema's unit tests and the HTTP tests.

Each case changes a valid two-entry registration form of Zhengzhou (410100) for 2016 and names
the field paths the answer must point at — with the entry index, as in ``entries[1].uscc``.
The bad entry is always the second one, so an error naming the first would be caught.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from shared.testing import data

REGION = "410100"
TOP_FIELDS = ("region", "year", "document_no", "signed_by", "zero_report", "entries")
ENTRY_FIELDS = ("enterprise", "uscc", "county", "industry", "equipment", "equipment_count", "capacity", "unit",
                "target_source", "planned_date", "method", "workers_affected")


@dataclass(frozen=True)
class Bad:
    id: str
    change: Callable[[dict], Any]
    fields: tuple[str, ...]

    def body(self, document_no: str | None = None) -> dict:
        value = data.report(REGION, entries=2)
        if document_no is not None:
            value["document_no"] = document_no
        self.change(value)
        return value


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(body: dict) -> None:
        *parents, last = path.split(".")
        target = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return change


def _delete(path: str) -> Callable[[dict], None]:
    def change(body: dict) -> None:
        *parents, last = path.split(".")
        target = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]
    return change


def _bad_check_digit(body: dict) -> None:
    code = body["entries"][1]["uscc"]
    body["entries"][1]["uscc"] = code[:-1] + ("0" if code[-1] != "0" else "1")


def _entries_in_zero_report(body: dict) -> None:
    body["zero_report"] = True


def _empty_form(body: dict) -> None:
    body["entries"] = []


def _empty_body(body: dict) -> None:
    body.clear()


def _also(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(body: dict) -> None:
        for c in changes:
            c(body)
    return change


def by_field(errors) -> dict[str, list[str]]:
    """Problem errors ``[{field, message}]`` by field; an entry refused as a whole (marshmallow's
    ``entries[1]._schema``) counts as ``entries[1]``."""
    named: dict[str, list[str]] = {}
    for error in errors:
        field = error["field"]
        if field.endswith("]._schema"):
            field = field[: -len("._schema")]
        named.setdefault(field, []).append(error["message"])
    return named


E = "entries[1]"
BAD: list[Bad] = [
    Bad("unknown region", _set("region", "410199"), ("region",)),
    Bad("a region outside Henan", _set("region", "110100"), ("region",)),
    Bad("bad USCC check digit", _bad_check_digit, (f"{E}.uscc",)),
    Bad("USCC too short", _set("entries.1.uscc", "91410100MA3X"), (f"{E}.uscc",)),
    Bad("capacity in the wrong unit", _set("entries.1.unit", "万米"), (f"{E}.unit",)),
    Bad("flat glass in tonnes", _also(_set("entries.1.industry", "平板玻璃"), _set("entries.1.unit", "万吨")), (f"{E}.unit",)),
    Bad("an unknown unit", _set("entries.1.unit", "吨"), (f"{E}.unit",)),
    Bad("negative capacity", _set("entries.1.capacity", "-5"), (f"{E}.capacity",)),
    Bad("negative capacity as a number", _set("entries.1.capacity", -5), (f"{E}.capacity",)),
    Bad("zero capacity", _set("entries.1.capacity", "0"), (f"{E}.capacity",)),
    Bad("zero capacity as a number", _set("entries.1.capacity", 0), (f"{E}.capacity",)),
    Bad("non-numeric capacity", _set("entries.1.capacity", "twelve"), (f"{E}.capacity",)),
    Bad("empty capacity", _set("entries.1.capacity", ""), (f"{E}.capacity",)),
    Bad("NaN capacity", _set("entries.1.capacity", "NaN"), (f"{E}.capacity",)),
    Bad("infinite capacity", _set("entries.1.capacity", "Infinity"), (f"{E}.capacity",)),
    Bad("capacity with too many decimals", _set("entries.1.capacity", "12.34567"), (f"{E}.capacity",)),
    Bad("capacity too large", _set("entries.1.capacity", "1000000000"), (f"{E}.capacity",)),
    Bad("a boolean capacity", _set("entries.1.capacity", True), (f"{E}.capacity",)),
    Bad("entries in a zero report", _entries_in_zero_report, ("entries",)),
    Bad("an empty form", _empty_form, ("entries",)),
    Bad("an empty body", _empty_body, TOP_FIELDS),
    *[Bad(f"missing {name}", _delete(name), (name,)) for name in TOP_FIELDS],
    *[Bad(f"missing entry {name}", _delete(f"entries.1.{name}"), (f"{E}.{name}",)) for name in ENTRY_FIELDS],
    Bad("a blank document number", _set("document_no", " \u3000 "), ("document_no",)),
    Bad("a null signer", _set("signed_by", None), ("signed_by",)),
    Bad("year as a string", _set("year", "2016"), ("year",)),
    Bad("year as a fraction", _set("year", 2016.5), ("year",)),
    Bad("year as a boolean", _set("year", True), ("year",)),
    Bad("zero_report as 1", _set("zero_report", 1), ("zero_report",)),
    Bad("zero_report as the string true", _set("zero_report", "true"), ("zero_report",)),
    Bad("region as a number", _set("region", 410100), ("region",)),
    Bad("entries as an object", _set("entries", {"0": {}}), ("entries",)),
    Bad("an entry that is not an object", _set("entries.1", "炼钢"), (E,)),
    Bad("equipment count as a string", _set("entries.1.equipment_count", "2"), (f"{E}.equipment_count",)),
    Bad("equipment count of zero", _set("entries.1.equipment_count", 0), (f"{E}.equipment_count",)),
    Bad("workers affected as a fraction", _set("entries.1.workers_affected", 1.5), (f"{E}.workers_affected",)),
    Bad("negative workers affected", _set("entries.1.workers_affected", -1), (f"{E}.workers_affected",)),
    Bad("a planned date that is not ISO", _set("entries.1.planned_date", "31/12/2016"), (f"{E}.planned_date",)),
    Bad("an enterprise name as a number", _set("entries.1.enterprise", 123), (f"{E}.enterprise",)),
    Bad("an enterprise name too long", _set("entries.1.enterprise", "厂" * 201), (f"{E}.enterprise",)),
    Bad("an unknown industry", _set("entries.1.industry", "造船"), (f"{E}.industry",)),
    Bad("an unknown target source", _set("entries.1.target_source", "十三五"), (f"{E}.target_source",)),
    Bad("an unknown elimination method", _set("entries.1.method", "搬迁"), (f"{E}.method",)),
    Bad("an unknown field", _set("comment", "hi"), ("comment",)),
    Bad("an unknown entry field", _set("entries.1.colour", "red"), (f"{E}.colour",)),
    Bad("a future year", _set("year", 2017), ("year",)),
    Bad("a year before 2016", _set("year", 2015), ("year",)),
]
BAD_IDS = [case.id for case in BAD]
