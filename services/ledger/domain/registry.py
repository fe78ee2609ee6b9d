"""The report registry for a year (SPEC §5): every region expected when the year opened, with
its report's timeliness — so completeness never exceeds 100% and a silent region is *missing*.
"""
from __future__ import annotations

from datetime import datetime

from shared.clock import format_instant
from shared.reference import Reference

from .state import LedgerState


def registry(state: LedgerState, year: int, as_of: datetime, reference: Reference,
             only: set[str] | None = None) -> dict:
    """The registry of ``year`` judged at ``as_of``; ``only`` narrows it to some regions."""
    record = state.years.get(year)
    if record is not None:
        expected, deadline, due = record.regions, record.deadline, record.report_due
    else:  # not opened yet: what opening it now would fix
        expected = reference.region_codes()
        deadline = format_instant(reference.calendar.report_deadline(year))
        due = reference.calendar.report_due_date(year).isoformat()
    if only is not None:
        expected = [code for code in expected if code in only]
    now = format_instant(as_of)
    rows, counts = [], {"on_time": 0, "late": 0, "missing": 0, "awaiting": 0, "zero": 0}
    for code in expected:
        report = state.reports.get((code, year))
        region = reference.regions.get(code)
        row = {"region": code, "name": region.name if region else None}
        if report is None:
            row["status"] = "missing" if now > deadline else "awaiting"
        else:
            row.update(status="on_time" if report.on_time else "late", zero_report=report.zero_report,
                       filed_at=report.filed_at, seq=report.seq, submission_id=report.submission_id,
                       document_no=report.document_no, signed_by=report.signed_by, item_count=len(report.item_ids),
                       amended_at=report.amended_at, history=[dict(version) for version in report.history])
            counts["zero"] += report.zero_report
        counts[row["status"]] += 1
        rows.append(row)
    filed = counts["on_time"] + counts["late"]
    return {
        "year": year, "opened": record is not None, "report_due": due, "deadline": deadline, "as_of": now,
        "expected": len(expected), "filed": filed, "completeness": round(100 * filed / len(expected), 2) if expected else 100.0,
        "counts": counts, "regions": rows,
    }
