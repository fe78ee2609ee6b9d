"""The fold: ``LedgerState.apply`` turns recorded events into the projections — years, the
report registry's records and the capacity items — and the state digest summarises them."""
from __future__ import annotations

from datetime import timedelta

import pytest

from shared.envelope import Envelope
from shared.testing.plugin import CAMPAIGN_START

from services.ledger.domain.chain import state_digest
from services.ledger.domain.events import REPORT_FILED, SUBMISSION_REJECTED, YEAR_OPENED
from services.ledger.domain.state import LedgerState

from ..builders import AFTER_DEADLINE, YEARS_LATER, record_in_memory, report_message


def test_an_event_out_of_order_is_refused_by_the_fold(reference):
    _, sealed = record_in_memory([report_message("410100")], reference)
    with pytest.raises(ValueError, match="out of order"):
        LedgerState().apply(sealed[1].event)


def test_opening_a_year_fixes_its_deadline_and_expected_regions(reference):
    state, sealed = record_in_memory([report_message("410100")], reference)
    year = state.years[2016]
    assert (year.report_due, year.deadline, year.time_zone) == ("2016-11-15", "2016-11-15T15:59:59.999999Z", "Asia/Shanghai")
    assert year.regions == reference.region_codes() and year.opened_seq == 1
    assert sealed[0].event.type == YEAR_OPENED


def test_a_filed_report_registers_its_entries_as_capacity_items(reference):
    filed = report_message("410100", entries=3)
    state, sealed = record_in_memory([filed], reference)

    report = state.reports[("410100", 2016)]
    assert (report.seq, report.submission_id, report.on_time, report.zero_report) == (2, filed.id, True, False)
    assert report.filed_at == filed.occurred_at
    assert report.item_ids == ["410100-2016-2-1", "410100-2016-2-2", "410100-2016-2-3"]
    first = state.items["410100-2016-2-1"]
    entry = filed.payload["entries"][0]
    assert (first.status, first.report_seq, first.region, first.year) == ("registered", 2, "410100", 2016)
    assert (first.uscc, first.capacity, first.unit, first.industry) == (entry["uscc"], "12.5", "万吨", "炼钢")


def test_a_zero_report_is_recorded_without_items(reference):
    state, _ = record_in_memory([report_message("419001", zero=True)], reference)
    report = state.reports[("419001", 2016)]
    assert report.zero_report is True and report.item_ids == [] and state.items == {}


def test_a_report_filed_after_the_deadline_is_late(reference):
    state, _ = record_in_memory([report_message("410100", at=AFTER_DEADLINE)], reference)
    assert state.reports[("410100", 2016)].on_time is False


def test_timeliness_is_judged_on_the_instant_whatever_offset_the_time_is_written_with(reference):
    on_time = report_message("410100")
    on_time = Envelope(**{**on_time.to_dict(), "occurred_at": "2016-11-15T23:00:00+08:00"})  # 15:00Z, in time
    state, _ = record_in_memory([on_time], reference)
    assert state.reports[("410100", 2016)].on_time is True


def test_a_rejection_moves_the_position_but_changes_no_projection(reference):
    state, _ = record_in_memory([report_message("410100")], reference)
    before = state.digest()
    head = state.head
    state, sealed = record_in_memory([report_message("410100", zero=True)], reference, state=state)
    assert [s.event.type for s in sealed] == [SUBMISSION_REJECTED]
    assert (state.seq, state.streams["report/410100/2016"]) == (3, 2)
    assert state.head == sealed[0].event.hash != head
    assert state.digest() == before


def test_the_fold_reports_what_each_event_touched(reference):
    _, sealed = record_in_memory([report_message("410100", entries=2)], reference)
    state = LedgerState()
    opened = state.apply(sealed[0].event)
    filed = state.apply(sealed[1].event)
    assert (opened.years, opened.reports, opened.items) == ({2016}, set(), set())
    assert filed.reports == {("410100", 2016)} and filed.items == {"410100-2016-2-1", "410100-2016-2-2"}
    assert (state.seq, state.head, state.recorded_at) == (2, sealed[1].event.hash, sealed[1].event.recorded_at)


def test_replaying_the_recorded_events_rebuilds_the_same_state(reference):
    messages = [report_message("410100", entries=2), report_message("410200", zero=True),
                report_message("410100", zero=True), report_message("410300", 2017)]
    live, sealed = record_in_memory(messages, reference, now=YEARS_LATER)
    replayed = LedgerState().apply_all(s.event for s in sealed)
    assert replayed == live
    assert replayed.digest() == live.digest()
    assert [s.event.type for s in sealed] == [YEAR_OPENED, REPORT_FILED, REPORT_FILED, SUBMISSION_REJECTED,
                                               YEAR_OPENED, REPORT_FILED]


def test_the_state_digest_is_stable_under_key_order(reference):
    messages = [report_message(code, entries=2, id=f"m-{code}") for code in ("410100", "410200", "410300")]
    live, _ = record_in_memory(messages, reference)
    shuffled, _ = record_in_memory(messages, reference)
    shuffled.reports = dict(reversed(list(shuffled.reports.items())))
    shuffled.items = dict(reversed(list(shuffled.items.items())))
    assert list(shuffled.reports) != list(live.reports)
    assert shuffled.digest() == live.digest()
    assert state_digest(reverse_keys(live.snapshot())) == live.digest()
    assert len(live.digest()) == 64


def reverse_keys(value):
    """The same JSON value with every object's keys inserted in reverse order."""
    if isinstance(value, dict):
        return {key: reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reverse_keys(item) for item in value]
    return value


def test_the_state_digest_changes_when_the_projection_changes(reference):
    messages = [report_message("410100", entries=2, id="m-1")]
    base, _ = record_in_memory(messages, reference)
    digests = {base.digest()}

    eliminated, _ = record_in_memory(messages, reference)
    eliminated.items["410100-2016-2-1"].status = "eliminated"
    digests.add(eliminated.digest())

    other_capacity, _ = record_in_memory(messages, reference)
    other_capacity.items["410100-2016-2-2"].capacity = "12.6"
    digests.add(other_capacity.digest())

    more, _ = record_in_memory([report_message("410200", zero=True, id="m-2")], reference, state=record_in_memory(messages, reference)[0])
    digests.add(more.digest())

    late, _ = record_in_memory(messages, reference)
    late.reports[("410100", 2016)].on_time = False
    digests.add(late.digest())
    assert len(digests) == 5


def test_the_state_digest_does_not_depend_on_when_events_were_recorded(reference):
    messages = [report_message("410100", id="m-1")]
    now, _ = record_in_memory(messages, reference, now=CAMPAIGN_START)
    later, _ = record_in_memory(messages, reference, now=CAMPAIGN_START + timedelta(hours=1))
    assert now.head != later.head
    assert now.digest() == later.digest()
