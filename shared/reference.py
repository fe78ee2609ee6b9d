"""Reference data (SPEC §3) loaded from shipped JSON files.

The files live in ``shared/data``; point ``ZEROCLEAR_REFERENCE_DIR`` at another folder to run
the system for another province or campaign without touching code.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

DATA_DIR = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    name_en: str
    kind: str


@dataclass(frozen=True)
class Industry:
    name: str
    name_en: str
    unit: str


@dataclass(frozen=True)
class Calendar:
    """Campaign dates per report year; a due date is inclusive to the end of its business day."""

    time_zone: ZoneInfo
    first_year: int
    tip_resolution_days: int
    years: dict
    standing: dict

    def _spec(self, year: int) -> dict:
        return self.years.get(str(year), self.standing)

    def _resolve(self, year: int, text: str) -> date:
        if len(text) == 10:
            return date.fromisoformat(text)
        offset, _, month_day = text.rpartition(":")
        return date.fromisoformat(f"{year + int(offset or 0):04d}-{month_day}")

    def report_due_date(self, year: int) -> date:
        return self._resolve(year, self._spec(year)["report_due"])

    def report_deadline(self, year: int) -> datetime:
        """The last instant (UTC) at which a report for ``year`` is still on time."""
        return self.end_of_day(self.report_due_date(year))

    def stage(self, year: int, name: str) -> tuple[date, date] | None:
        bounds = self._spec(year).get("stages", {}).get(name)
        return None if bounds is None else tuple(self._resolve(year, b) for b in bounds)

    def end_of_day(self, day: date) -> datetime:
        local = datetime.combine(day + timedelta(days=1), time(0), self.time_zone)
        return local.astimezone(timezone.utc) - timedelta(microseconds=1)

    def business_date(self, instant: datetime) -> date:
        return instant.astimezone(self.time_zone).date()


@dataclass(frozen=True)
class Reference:
    province: Region
    regions: dict[str, Region]
    industries: dict[str, Industry]
    units: dict[str, str]
    target_sources: tuple[str, ...]
    methods: tuple[str, ...]
    calendar: Calendar

    def region_codes(self) -> list[str]:
        return sorted(self.regions)


def _read(folder: Path, name: str) -> dict:
    with open(folder / name, encoding="utf-8") as handle:
        return json.load(handle)


def load_reference(folder: Path | str | None = None) -> Reference:
    folder = Path(folder or os.environ.get("ZEROCLEAR_REFERENCE_DIR") or DATA_DIR)
    regions_doc = _read(folder, "regions.json")
    industries_doc = _read(folder, "industries.json")
    sources_doc = _read(folder, "target_sources.json")
    cal = _read(folder, "calendar.json")
    province = regions_doc["province"]
    return Reference(
        province=Region(province["code"], province["name"], province.get("name_en", ""), "province"),
        regions={r["code"]: Region(r["code"], r["name"], r["name_en"], r["kind"]) for r in regions_doc["regions"]},
        industries={i["name"]: Industry(i["name"], i["name_en"], i["unit"]) for i in industries_doc["industries"]},
        units=dict(industries_doc["units"]),
        target_sources=tuple(s["name"] for s in sources_doc["target_sources"]),
        methods=tuple(m["name"] for m in sources_doc["methods"]),
        calendar=Calendar(
            time_zone=ZoneInfo(cal["time_zone"]),
            first_year=int(cal["first_year"]),
            tip_resolution_days=int(cal["tip_resolution_days"]),
            years=cal.get("years", {}),
            standing=cal["standing"],
        ),
    )


@lru_cache(maxsize=1)
def default_reference() -> Reference:
    return load_reference()
