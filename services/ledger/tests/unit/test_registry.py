"""The report registry of a year (SPEC §5): every region expected when the year opened, each on
time, late, missing (deadline passed) or awaiting, zero reports counted, never over 100%."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from shared.reference import Region
from shared.testing.plugin import CAMPAIGN_START

from services.ledger.domain.registry import registry
from services.ledger.domain.state import LedgerState

from ..builders import AFTER_DEADLINE, record_in_memory, report_message

BEFORE_DEADLINE = datetime(2016, 11, 10, tzinfo=timezone.utc)


def rows(result) -> dict:
    return {row["region"]: row for row in result["regions"]}


def test_before_any_report_every_region_is_awaited(reference):
    result = registry(LedgerState(), 2016, BEFORE_DEADLINE, reference)
    assert (result["opened"], result["expected"], result["filed"], result["completeness"]) == (False, 28, 0, 0.0)
    assert result["counts"] == {"on_time": 0, "late": 0, "missing": 0, "awaiting": 28, "zero": 0}
    assert result["deadline"] == "2016-11-15T15:59:59.999999Z" and result["report_due"] == "2016-11-15"
    assert rows(result)["410100"] == {"region": "410100", "name": reference.regions["410100"].name, "status": "awaiting"}


def test_a_silent_region_is_missing_once_the_deadline_has_passed(reference):
    state, _ = record_in_memory([report_message("410100")], reference)
    result = registry(state, 2016, AFTER_DEADLINE, reference)
    assert result["counts"] == {"on_time": 1, "late": 0, "missing": 27, "awaiting": 0, "zero": 0}
    assert result["completeness"] == round(100 / 28, 2)
    assert rows(result)["410200"]["status"] == "missing"


def test_on_time_late_and_zero_reports_are_told_apart(reference):
    state, sealed = record_in_memory([report_message("410100", entries=2), report_message("419001", zero=True)], reference)
    state, _ = record_in_memory([report_message("410200", at=AFTER_DEADLINE)], reference, now=AFTER_DEADLINE, state=state)
    result = registry(state, 2016, AFTER_DEADLINE, reference)

    assert result["opened"] is True and (result["expected"], result["filed"]) == (28, 3)
    assert result["counts"] == {"on_time": 2, "late": 1, "missing": 25, "awaiting": 0, "zero": 1}
    form = rows(result)["410100"]
    assert (form["status"], form["zero_report"], form["item_count"], form["seq"]) == ("on_time", False, 2, 2)
    assert form["submission_id"] == sealed[1].event.id and form["filed_at"] == sealed[1].event.occurred_at
    assert (rows(result)["419001"]["status"], rows(result)["419001"]["zero_report"]) == ("on_time", True)
    assert rows(result)["410200"]["status"] == "late"
    assert result["as_of"] == "2016-11-20T00:00:00.000000Z"


def test_a_rejected_second_report_does_not_change_the_registry(reference):
    state, _ = record_in_memory([report_message("410100")], reference)
    before = registry(state, 2016, AFTER_DEADLINE, reference)
    state, _ = record_in_memory([report_message("410100", zero=True)], reference, state=state)
    assert registry(state, 2016, AFTER_DEADLINE, reference) == before


def test_completeness_never_exceeds_100_percent_when_a_region_joins_after_the_year_opened(reference):
    state, _ = record_in_memory([report_message(code) for code in reference.region_codes()], reference)
    newcomer = Region("419002", "新区", "New District", "county")
    grown = replace(reference, regions={**reference.regions, newcomer.code: newcomer})
    state, sealed = record_in_memory([report_message("419002")], grown, state=state)
    assert sealed[-1].event.region == "419002"  # recorded, but the year's expectations were fixed

    result = registry(state, 2016, AFTER_DEADLINE, grown)
    assert (result["expected"], result["filed"], result["completeness"]) == (28, 28, 100.0)
    assert "419002" not in rows(result)


def test_a_year_not_yet_opened_is_judged_as_opening_it_now_would_fix_it(reference):
    result = registry(LedgerState(), 2017, CAMPAIGN_START, reference)
    assert (result["opened"], result["report_due"], result["expected"]) == (False, "2017-12-15", 28)
    assert result["deadline"] == "2017-12-15T15:59:59.999999Z"


def test_the_only_filter_narrows_the_registry_to_some_regions(reference):
    state, _ = record_in_memory([report_message("410100"), report_message("410200")], reference)
    result = registry(state, 2016, AFTER_DEADLINE, reference, only={"410100"})
    assert [row["region"] for row in result["regions"]] == ["410100"]
    assert (result["expected"], result["filed"], result["completeness"]) == (1, 1, 100.0)
    assert result["counts"] == {"on_time": 1, "late": 0, "missing": 0, "awaiting": 0, "zero": 0}


def test_the_only_filter_shows_a_silent_region_as_missing_not_as_zero_percent_of_nothing(reference):
    state, _ = record_in_memory([report_message("410100")], reference)
    result = registry(state, 2016, AFTER_DEADLINE, reference, only={"410300"})
    assert (result["expected"], result["filed"], result["completeness"]) == (1, 0, 0.0)
    assert rows(result)["410300"]["status"] == "missing"
