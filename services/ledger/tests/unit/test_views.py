"""What readers see at a moment: an item becomes ``scheduled`` once its year's report deadline
has fixed the plan, and ``overdue`` once its planned date has passed without an elimination; the
department-list cross-check follows the region's current report."""
from __future__ import annotations

from shared.testing import data

from services.ledger.domain.views import deadlines, discrepancies, item_status, items_view

from ..builders import amendment_message, elimination_message, list_message, listing, record_in_memory, report_message

ITEM = "410100-2016-2-1"


def test_an_items_status_follows_the_calendar(reference):
    state, _ = record_in_memory([report_message("410100", entries=1)], reference)
    item = state.items[ITEM]  # planned 2016-12-31; the 2016 report deadline is 2016-11-15 (Henan time)
    assert item_status(item, deadlines(state), "2016-11-10T00:00:00.000000Z", "2016-11-10") == ("registered", False)
    assert item_status(item, deadlines(state), "2016-11-16T00:00:00.000000Z", "2016-11-16") == ("scheduled", False)
    assert item_status(item, deadlines(state), "2017-01-01T00:00:00.000000Z", "2017-01-01") == ("scheduled", True)
    state, _ = record_in_memory([elimination_message(ITEM)], reference, state=state)
    assert item_status(state.items[ITEM], deadlines(state), "2017-01-01T00:00:00.000000Z", "2017-01-01") == ("eliminated", False)
    assert [v["item_id"] for v in items_view(state, "2017-01-01T00:00:00.000000Z", "2017-01-01", status="overdue")] == []


def test_a_listed_enterprise_is_a_discrepancy_until_the_report_names_it(reference):
    listed = listing(region="410100", uscc=data.entry(5)["uscc"])
    state, _ = record_in_memory([list_message([listed])], reference)
    assert discrepancies(state) == []  # no report yet: the region is missing, not discrepant
    state, _ = record_in_memory([report_message("410100", entries=1)], reference, state=state)
    assert [(d["uscc"], d["kind"]) for d in discrepancies(state)] == [(listed["uscc"], "omitted")]
    state, _ = record_in_memory([amendment_message("410100", entries=[data.entry(1), data.entry(5)])], reference,
                                state=state)
    assert discrepancies(state) == []
    assert discrepancies(state, region="410200") == []
