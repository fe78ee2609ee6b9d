"""Reading a proposed fact's payload: every field of exactly its type and no longer than its
column holds, every problem collected as a ``Reason`` (English and Chinese), raised together as
``Malformed`` — which the ledger records as a rejection.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from collections.abc import Mapping
from typing import Any

DECIMAL_TEXT = re.compile(r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,4})?$")
DIGEST_TEXT = re.compile(r"^[0-9a-f]{64}$")


class Malformed(ValueError):
    def __init__(self, reasons: list["Reason"]):
        super().__init__("; ".join(r.message for r in reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    message_zh: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "message_zh": self.message_zh}


#: The longest text each field may hold (the projection columns' sizes); any other text field 5000.
MAX_LENGTH = {"organisation": 100, "person": 50, "phone": 40, "date": 10, "submission_id": 64, "region": 6, "uscc": 18, "industry": 32, "unit": 16, "method": 16, "item_id": 64,
              "tip_id": 64, "duplicate_of": 64, "department": 16, "basis": 16, "resolution": 16, "decision": 16,
              "subject": 80, "rule": 32, "recipient": 16, "deadline": 27,
              "circular_id": 40, "period": 16}
DEFAULT_MAX_LENGTH = 5000


def typed(mapping: Any, spec: tuple[tuple[str, type], ...], where: str, reasons: list[Reason]) -> dict[str, Any]:
    """The fields of ``spec`` from ``mapping``, each of exactly its type (a bool is no int), a text
    no longer than its column holds (whoever sent it: intake validates more, other producers may not)."""
    if not isinstance(mapping, Mapping):
        name = where.rstrip(".") or "the payload"
        reasons.append(Reason("malformed", f"{name} must be an object", f"{name} 格式错误"))
        return {name: None for name, _ in spec}
    values = {}
    for name, kind in spec:
        value = values[name] = mapping.get(name)
        if type(value) is not kind:
            reasons.append(Reason("malformed", f"{where}{name} must be a {kind.__name__}", f"{where}{name} 格式错误"))
        elif kind is str and len(value) > MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH):
            limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
            reasons.append(Reason("malformed", f"{where}{name} is longer than {limit} characters", f"{where}{name} 过长"))
        elif kind is int and not -2**31 < value < 2**31:
            reasons.append(Reason("malformed", f"{where}{name} is out of range", f"{where}{name} 超出范围"))
    return values


def capacity(raw, where, reasons) -> str | None:
    value = raw.get("capacity")
    if not isinstance(value, str) or not DECIMAL_TEXT.match(value) or Decimal(value) <= 0:
        reasons.append(Reason("malformed", f"{where}capacity must be a positive decimal string", f"{where}capacity 须为正数"))
        return None
    return value


def iso_date(raw, where, reasons, name: str = "planned_date") -> str | None:
    value = raw.get(name)
    try:
        if len(value) != 10:
            raise ValueError(value)
        date.fromisoformat(value)
        return value
    except (TypeError, ValueError):
        reasons.append(Reason("malformed", f"{where}{name} must be an ISO date", f"{where}{name} 日期格式错误"))
        return None
