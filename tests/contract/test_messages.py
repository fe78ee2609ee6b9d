"""The wire contract in one place (shared/messages): every type a producer publishes is one the
ledger records and describes in its AsyncAPI document, with the fields the producer promises; the
payloads intake builds keep that promise; the consumers fold by the producer's names."""
from __future__ import annotations

import dataclasses

from services.intake.domain import submissions
from services.intake.entrypoints.schemas import report_schema
from services.ledger import asyncapi
from shared.clock import SettableClock
from shared.messages import assessment, intake, ledger
from shared.messages.catalog import PROMISES
from shared.topology import Topology
from shared.reference import default_reference
from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START

def test_the_ledger_records_and_documents_every_published_type_with_the_promised_fields():
    assert set(asyncapi.EVENT_TYPES) == set(PROMISES)
    for type_, (payload_type, _, _) in asyncapi.EVENT_TYPES.items():
        fields = {f.name for f in dataclasses.fields(payload_type)}
        promised = PROMISES[type_]
        assert promised.required | promised.optional <= fields, type_
    messages = asyncapi.document(Topology("p"))["components"]["messages"]
    assert messages[intake.REPORT_FILED]["x-producer"] == "intake" and messages[intake.REPORT_FILED]["x-version"] == 1
    assert "entries" in messages[intake.REPORT_FILED]["x-promised-fields"]["required"]


def test_a_report_intake_builds_keeps_its_promise():
    schema = report_schema(default_reference(), SettableClock(CAMPAIGN_START))()
    for amendment in (False, True):
        valid = schema.load(data.report("410100", entries=1))
        if amendment:
            valid.update(amendment=True, reason="corrected")
        built = submissions.report_submission("s1", valid, actor="region/410100/k", key_id="k", now=CAMPAIGN_START).message
        promised = PROMISES[built.type]
        assert promised.required <= set(built.payload) <= promised.required | promised.optional, built.type


def test_the_readers_of_the_log_fold_by_the_producers_names():
    from services.assessment.domain import campaign as assessment_reader
    from services.notify.domain import campaign as notify_reader

    assert set(notify_reader._FOLDS) == {ledger.YEAR_OPENED, intake.REPORT_FILED, intake.REPORT_AMENDED,
                                         intake.ELIMINATION_REPORTED, intake.ELIMINATION_DECIDED, intake.TIP_FILED,
                                         intake.TIP_RESOLVED, intake.DEPARTMENT_LIST_FILED}
    assert assessment.INPUT_FILED in assessment_reader.FOLDS and intake.REPORT_FILED in assessment_reader.FOLDS
