"""The acceptance rules (SPEC §5): each proposed fact becomes the recorded fact — after opening
its year if it is the year's first — or exactly one recorded rejection with its reasons."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest

from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START

from services.ledger.domain.events import REPORT_FILED, SUBMISSION_REJECTED, YEAR_OPENED
from services.ledger.domain.rules import SYSTEM_ACTOR, decide
from services.ledger.domain.state import LedgerState

from ..builders import YEARS_LATER, message, record_in_memory, report_message, report_payload


def with_entry(**changes):
    """A one-entry report payload whose entry has ``changes``."""
    def build():
        return {**report_payload("410100"), "entries": [data.entry(1, **changes)]}
    return build


def without(key):
    def build():
        payload = report_payload("410100")
        del payload[key]
        return payload
    return build


def replaced(**changes):
    def build():
        return {**report_payload("410100"), **changes}
    return build


@dataclass
class Case:
    name: str
    codes: list[str]
    payload: Callable[[], dict] = field(default=replaced())
    actor: str = "region/410100/ktest"
    type: str = REPORT_FILED
    already_filed: bool = False
    stream: str | None = "report/410100/2016"  # where a well-formed rejection is filed
    says: str = ""  # a phrase one of the reasons must contain


CASES = [
    Case("a second report for the same region and year", ["duplicate_report"], already_filed=True,
         payload=replaced(zero_report=True, entries=[]), says="already filed its 2016 report"),
    Case("a region filing for another region", ["outside_territory"], actor="region/410200/ktest"),
    Case("a department key filing a report", ["not_allowed"], actor="department/industry/ktest"),
    Case("an auditor key filing a report", ["not_allowed"], actor="auditor/ktest"),
    Case("a service key filing a report", ["not_allowed"], actor="service/ktest"),
    Case("a region that is not on the register", ["unknown_region"], actor="office/ktest",
         payload=replaced(region="419999"), stream="report/419999/2016"),
    Case("a region code that is not six digits", ["unknown_region"], actor="office/ktest",
         payload=replaced(region="4101"), stream=None),
    Case("a year before the campaign", ["year_out_of_range"], payload=replaced(year=2015),
         stream="report/410100/2015", says="2016"),
    Case("a zero report with entries", ["zero_report_mismatch"], payload=replaced(zero_report=True)),
    Case("a form without entries", ["zero_report_mismatch"], payload=replaced(entries=[])),
    Case("an industry not in the catalogue", ["unknown_industry"], payload=with_entry(industry="纺纱"),
         says="entries[0]"),
    Case("capacity in the wrong unit", ["wrong_unit"], payload=with_entry(unit="万千瓦"), says="万吨"),
    Case("several faults at once", ["year_out_of_range", "zero_report_mismatch", "unknown_industry"],
         payload=replaced(year=2015, zero_report=True, entries=[data.entry(1, industry="纺纱")]),
         stream="report/410100/2015"),
    Case("a missing field", ["malformed"], payload=without("document_no"), says="document_no"),
    Case("a missing region", ["malformed"], payload=without("region"), stream=None, says="region"),
    Case("a year given as text", ["malformed"], payload=replaced(year="2016"), stream=None, says="year"),
    Case("a year given as a boolean", ["malformed"], payload=replaced(year=True), stream=None, says="year"),
    Case("zero_report given as a number", ["malformed"], payload=replaced(zero_report=0), says="zero_report"),
    Case("entries that are not a list", ["malformed"], payload=replaced(entries={"0": data.entry()}),
         says="entries must be a list"),
    Case("an entry that is not an object", ["malformed"], payload=replaced(entries=["炼钢"]), says="entries[0] must be an object"),
    Case("a negative capacity", ["malformed"], payload=with_entry(capacity="-1"), says="entries[0].capacity"),
    Case("a zero capacity", ["malformed"], payload=with_entry(capacity="0.0"), says="entries[0].capacity"),
    Case("a capacity given as a number", ["malformed"], payload=with_entry(capacity=12), says="entries[0].capacity"),
    Case("a capacity that is not a number", ["malformed"], payload=with_entry(capacity="十二"), says="entries[0].capacity"),
    Case("a planned date that is not a date", ["malformed"], payload=with_entry(planned_date="2016-13-01"),
         says="entries[0].planned_date"),
    Case("an equipment count given as text", ["malformed"], payload=with_entry(equipment_count="2"),
         says="entries[0].equipment_count"),
    Case("a message type the ledger does not record", ["unknown_type"], type="intake.tip_received.v1",
         says="intake.tip_received.v1"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_refused_fact_becomes_one_recorded_rejection_with_its_reasons(case, reference):
    state = LedgerState()
    if case.already_filed:
        state, _ = record_in_memory([report_message("410100")], reference)
    proposed = message(case.type, case.payload(), actor=case.actor, causation_id="cause-1", correlation_id="corr-1")

    decided = decide(state, proposed, reference, CAMPAIGN_START)

    assert len(decided) == 1
    rejection = decided[0]
    assert rejection.type == SUBMISSION_REJECTED
    assert [r["code"] for r in rejection.payload["reasons"]] == case.codes
    assert rejection.causation_id == proposed.id
    assert rejection.correlation_id == "corr-1"
    assert rejection.actor == SYSTEM_ACTOR
    assert rejection.id != proposed.id
    assert rejection.payload["message_id"] == proposed.id
    assert rejection.payload["message_type"] == case.type
    assert rejection.stream == (case.stream or f"rejection/{proposed.id}")
    assert all(r["message"] and r["message_zh"] for r in rejection.payload["reasons"])
    assert case.says in " ".join(r["message"] for r in rejection.payload["reasons"])


def test_a_rejection_names_the_submission_region_and_year_when_the_payload_gives_them(reference):
    proposed = report_message("410100", actor="region/410200/ktest")
    [rejection] = decide(LedgerState(), proposed, reference, CAMPAIGN_START)
    assert rejection.payload["submission_id"] == proposed.payload["submission_id"]
    assert (rejection.payload["region"], rejection.payload["year"], rejection.region) == ("410100", 2016, "410100")
    assert rejection.occurred_at == "2016-11-01T00:00:00.000000Z"


def test_a_rejection_of_an_unreadable_payload_keeps_no_region_or_year(reference):
    proposed = message(REPORT_FILED, {"region": 410100, "year": "2016"})
    [rejection] = decide(LedgerState(), proposed, reference, CAMPAIGN_START)
    assert (rejection.region, rejection.payload["region"], rejection.payload["year"]) == (None, None, None)
    assert rejection.payload["submission_id"] is None


def test_the_first_report_of_a_year_opens_the_year_before_it(reference):
    proposed = report_message("410100", entries=2)
    opened, filed = decide(LedgerState(), proposed, reference, CAMPAIGN_START)

    assert opened.type == YEAR_OPENED and opened.stream == "year/2016"
    assert opened.payload == {"year": 2016, "report_due": "2016-11-15", "deadline": "2016-11-15T15:59:59.999999Z",
                              "time_zone": "Asia/Shanghai", "regions": reference.region_codes()}
    assert len(opened.payload["regions"]) == 28
    assert (opened.causation_id, opened.actor, opened.region) == (proposed.id, SYSTEM_ACTOR, None)

    assert filed.type == REPORT_FILED
    assert (filed.id, filed.stream, filed.region, filed.actor) == (proposed.id, "report/410100/2016", "410100", proposed.actor)
    assert filed.payload == proposed.payload
    assert filed.occurred_at == proposed.occurred_at


def test_a_report_for_a_year_already_open_is_recorded_alone(reference):
    state, _ = record_in_memory([report_message("410100")], reference)
    decided = decide(state, report_message("410200", zero=True), reference, CAMPAIGN_START)
    assert [e.type for e in decided] == [REPORT_FILED]


def test_the_provincial_office_may_file_for_any_region(reference):
    decided = decide(LedgerState(), report_message("419001", actor="office/ktest"), reference, CAMPAIGN_START)
    assert [e.type for e in decided] == [YEAR_OPENED, REPORT_FILED]


def test_a_second_report_for_another_year_of_the_same_region_is_accepted(reference):
    state, _ = record_in_memory([report_message("410100", 2016)], reference)
    decided = decide(state, report_message("410100", 2017), reference, YEARS_LATER)
    assert [(e.type, e.stream) for e in decided] == [(YEAR_OPENED, "year/2017"), (REPORT_FILED, "report/410100/2017")]


def test_the_year_opens_with_the_regions_on_the_register_at_that_moment(reference):
    from dataclasses import replace

    smaller = replace(reference, regions={c: r for c, r in reference.regions.items() if c != "419001"})
    opened, _ = decide(LedgerState(), report_message("410100"), smaller, CAMPAIGN_START)
    assert len(opened.payload["regions"]) == 27 and "419001" not in opened.payload["regions"]


def test_a_report_for_an_impossible_year_is_rejected_not_crashed_on(reference):
    decided = decide(LedgerState(), report_message("410100", 10000), reference, CAMPAIGN_START)
    assert [e.type for e in decided] == [SUBMISSION_REJECTED]
    assert [r["code"] for r in decided[0].payload["reasons"]] == ["year_out_of_range"]
