"""Realistic report bodies for tests and benchmarks (valid USCCs computed, not copied)."""
from __future__ import annotations

import random
from typing import Any

from stdnum.cn import uscc as uscc_number

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(seed: int, region: str = "410100") -> str:
    """A unified social credit code with a correct check digit, registered in ``region``."""
    rnd = random.Random(seed)
    body = "91" + region + "".join(rnd.choice(_ALPHABET) for _ in range(9))
    return body + uscc_number.calc_check_digit(body)


def entry(n: int = 1, *, region: str = "410100", **overrides: Any) -> dict[str, Any]:
    value = {
        "enterprise": f"河南省第{n}钢铁有限公司",
        "uscc": make_uscc(n, region),
        "county": "中牟县",
        "industry": "炼钢",
        "equipment": "30吨转炉",
        "equipment_count": 2,
        "capacity": "12.5",
        "unit": "万吨",
        "target_source": "大气污染防治",
        "planned_date": "2016-12-31",
        "method": "拆除",
        "workers_affected": 120,
        "remarks": "",
    }
    value.update(overrides)
    return value


def report(region: str = "410100", year: int = 2016, *, entries: int = 1, zero: bool = False, **overrides: Any) -> dict[str, Any]:
    value = {
        "region": region,
        "year": year,
        "document_no": f"政文〔{year}〕{int(region) % 1000}号",
        "signed_by": "张三",
        "zero_report": zero,
        "entries": [] if zero else [entry(i + 1, region=region) for i in range(entries)],
    }
    value.update(overrides)
    return value
