"""The wire contract between intake and the ledger: every report intake's schema accepts becomes
a proposal the ledger's parser reads and its rules record (not reject), and the ledger's answer
types are the ones intake listens for."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

from services.intake.domain import submissions as intake
from services.intake.entrypoints.schemas import ReasonSchema, report_schema
from services.ledger.domain import events as ledger
from services.ledger.domain.rules import decide, rejection
from services.ledger.domain.state import LedgerState
from shared.clock import SettableClock
from shared.envelope import Envelope
from shared.reference import default_reference
from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START

REFERENCE = default_reference()
SCHEMA = report_schema(REFERENCE, SettableClock(CAMPAIGN_START))()
SUBMISSION_ID = "3f1c2a9e-6b7d-4c8e-9f0a-1b2c3d4e5f60"

words = st.text(alphabet="郑州钢铁有限公司水泥厂转炉 ABCxyz０１２３-〔〕号\u3000", min_size=1, max_size=30).filter(str.strip)
capacities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999999999.9999"), places=4)


@st.composite
def entries(draw, region: str):
    industry = draw(st.sampled_from(sorted(REFERENCE.industries)))
    capacity = draw(capacities)
    return data.entry(
        draw(st.integers(1, 10**6)), region=region, enterprise=draw(words), county=draw(words), industry=industry,
        unit=REFERENCE.industries[industry].unit, equipment=draw(words), equipment_count=draw(st.integers(1, 100000)),
        capacity=draw(st.sampled_from([str(capacity), capacity])),  # e.g. "100.0000" or a JSON number
        target_source=draw(st.sampled_from(REFERENCE.target_sources)), method=draw(st.sampled_from(REFERENCE.methods)),
        planned_date=draw(st.dates(date(2016, 1, 1), date(2030, 12, 31))).isoformat(),
        workers_affected=draw(st.integers(0, 10**6)), remarks=draw(st.just("") | words),
    )


@st.composite
def reports(draw):
    region = draw(st.sampled_from(sorted(REFERENCE.regions)))
    zero = draw(st.booleans())
    body = data.report(region, zero=zero, document_no=draw(words), signed_by=draw(words))
    if not zero:
        body["entries"] = draw(st.lists(entries(region), min_size=1, max_size=4))
    return body


def _proposal(body: dict) -> Envelope:
    valid = SCHEMA.load(body)
    submission = intake.report_submission(SUBMISSION_ID, valid, actor=f"region/{body['region']}/kcontract",
                                          key_id="kcontract", now=CAMPAIGN_START)
    return Envelope.from_bytes(submission.message.to_bytes())  # what the ledger's inbox receives


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_every_report_intake_accepts_is_read_by_the_ledgers_parser_as_the_same_report(body):
    message = _proposal(body)
    assert message.type == ledger.REPORT_FILED
    parsed = ledger.parse_report_filed(message.payload)
    assert (parsed.submission_id, parsed.region, parsed.year, parsed.zero_report) == (
        SUBMISSION_ID, body["region"], body["year"], body["zero_report"])
    assert len(parsed.entries) == len(body["entries"])
    for given_entry, entry in zip(body["entries"], parsed.entries):
        assert Decimal(entry.capacity) == Decimal(str(given_entry["capacity"]))
        assert ledger.DECIMAL_TEXT.match(entry.capacity)
        assert (entry.uscc, entry.industry, entry.unit, entry.planned_date) == (
            given_entry["uscc"], given_entry["industry"], given_entry["unit"], given_entry["planned_date"])


@settings(max_examples=60, deadline=None)
@given(reports())
def test_the_ledgers_rules_record_every_report_intake_accepts_on_a_fresh_log(body):
    message = _proposal(body)
    decided = decide(LedgerState(), message, REFERENCE, CAMPAIGN_START)
    assert [e.type for e in decided] == [ledger.YEAR_OPENED, ledger.REPORT_FILED]
    assert decided[1].id == message.id == SUBMISSION_ID and decided[1].region == body["region"]


def test_intake_listens_for_the_rejection_type_the_ledger_records():
    assert intake.LEDGER_REJECTED == ledger.SUBMISSION_REJECTED
    assert intake.REPORT_FILED == ledger.REPORT_FILED


def test_a_ledger_rejection_points_back_at_the_submission_with_reasons_intake_can_show():
    message = _proposal(data.report("410100", entries=1))
    reasons = [ledger.Reason("duplicate_report", "already filed", "本年度报告已报送")]
    refused = rejection(message, reasons, CAMPAIGN_START)
    assert refused.type == intake.LEDGER_REJECTED
    assert refused.causation_id == SUBMISSION_ID  # intake settles the submission by this id
    assert refused.payload["submission_id"] == SUBMISSION_ID
    assert ReasonSchema(many=True).load(refused.payload["reasons"]) == [r.to_dict() for r in reasons]


def test_every_message_type_intake_sends_is_one_the_ledger_judges_and_folds():
    from services.ledger.domain.rules import _JUDGES
    from services.ledger.domain.fold import FOLDS

    for name in ("REPORT_FILED", "REPORT_AMENDED", "DEPARTMENT_LIST_FILED", "ELIMINATION_REPORTED",
                 "ELIMINATION_DECIDED", "TIP_FILED", "TIP_RESOLVED"):
        sent = getattr(intake, name)
        assert sent == getattr(ledger, name)
        assert sent in _JUDGES and sent in FOLDS


def test_the_readers_of_the_log_name_the_types_the_ledger_records():
    """Assessment and notify fold the recorded events by type, each with its own constants."""
    from services.assessment.domain import campaign as assessment
    from services.notify.domain import campaign as notify

    for reader in (assessment, notify):
        for name in ("YEAR_OPENED", "REPORT_FILED", "REPORT_AMENDED", "ELIMINATION_REPORTED", "ELIMINATION_DECIDED",
                     "TIP_FILED", "TIP_RESOLVED"):
            assert getattr(reader, name) == getattr(ledger, name), (reader.__name__, name)
    assert assessment.INPUT_FILED == ledger.ASSESSMENT_INPUT_FILED
    assert notify.DEPARTMENT_LIST_FILED == ledger.DEPARTMENT_LIST_FILED
