"""The report registry for a year (SPEC §5): every region expected when the year opened, with
its report's timeliness — so completeness never exceeds 100% and a silent region is *missing*.

A register may be a country's (thousands of regions), so the registry is a summary of the whole
year (``summary``: counts the caller may take from storage) and the rows of the regions asked
for (``rows``: a page of them).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping

from shared.clock import format_instant
from shared.reference import Reference

from .records import ReportRecord, YearRecord

from .state import LedgerState


def schedule(record: YearRecord | None, year: int, reference: Reference) -> tuple[list[str], str, str]:
    """(the regions expected, the deadline, the due date) fixed when the year opened, or what
    opening it now would fix."""
    if record is not None:
        return list(record.regions), record.deadline, record.report_due
    calendar = reference.calendar
    return (reference.region_codes(), format_instant(calendar.report_deadline(year)),
            calendar.report_due_date(year).isoformat())


def rows(codes: Iterable[str], reports: Mapping[tuple[str, int], ReportRecord], year: int, deadline: str, now: str,
         reference: Reference) -> list[dict]:
    """One row per region of ``codes``: its report's timeliness, or missing / awaiting at ``now``."""
    found = []
    for code in codes:
        report = reports.get((code, year))
        region = reference.regions.get(code)
        row = {"region": code, "name": region.name if region else None}
        if report is None:
            row["status"] = "missing" if now > deadline else "awaiting"
        else:
            row.update(status="on_time" if report.on_time else "late", zero_report=report.zero_report,
                       filed_at=report.filed_at, seq=report.seq, submission_id=report.submission_id,
                       document_no=report.document_no, signed_by=report.signed_by, item_count=len(report.item_ids),
                       amended_at=report.amended_at, history=[dict(version) for version in report.history])
        found.append(row)
    return found


def summary(year: int, record: YearRecord | None, expected: int, filed: Mapping[str, int], deadline: str, due: str,
            now: str) -> dict:
    """The year at a glance from the counts of its filed reports (``on_time``, ``late``, ``zero``)."""
    on_time, late = filed.get("on_time", 0), filed.get("late", 0)
    silent = expected - on_time - late
    counts = {"on_time": on_time, "late": late, "missing": silent if now > deadline else 0,
              "awaiting": 0 if now > deadline else silent, "zero": filed.get("zero", 0)}
    return {"year": year, "opened": record is not None, "report_due": due, "deadline": deadline, "as_of": now,
            "expected": expected, "filed": on_time + late,
            "completeness": round(100 * (on_time + late) / expected, 2) if expected else 100.0, "counts": counts}


def registry(state: LedgerState, year: int, as_of: datetime, reference: Reference,
             only: set[str] | None = None) -> dict:
    """The whole registry of ``year`` judged at ``as_of`` from a state in memory (a replay's);
    ``only`` narrows it to some regions."""
    record = state.years.get(year)
    expected, deadline, due = schedule(record, year, reference)
    if only is not None:
        expected = [code for code in expected if code in only]
    now = format_instant(as_of)
    found = rows(expected, state.reports, year, deadline, now, reference)
    filed = {"on_time": sum(r["status"] == "on_time" for r in found), "late": sum(r["status"] == "late" for r in found),
             "zero": sum(bool(r.get("zero_report")) for r in found)}
    return {**summary(year, record, len(expected), filed, deadline, due, now), "regions": found}
