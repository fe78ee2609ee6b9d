"""The published wire contract (shared/messages): type names carry their version, and an older
version of a type is read as the current one by every fold table built with its upcasters."""
import pytest

from shared import messages
from shared.messages import intake, ledger, type_name


@pytest.fixture
def report_filed_v0(monkeypatch):
    """A pretend older version of intake's report, whose payload named the year ``campaign_year``."""
    monkeypatch.setattr(messages, "_UPCASTERS", {})
    old = type_name("intake", "report_filed", 0)
    messages.register_upcaster(old, intake.REPORT_FILED,
                               lambda p: {**{k: v for k, v in p.items() if k != "campaign_year"}, "year": p["campaign_year"]})
    return old


def test_a_type_name_ends_in_its_version_and_reads_back():
    assert intake.REPORT_FILED == "intake.report_filed.v1"
    assert messages.parse_type(ledger.YEAR_OPENED) == ("ledger", "year_opened", 1)
    with pytest.raises(ValueError):
        messages.parse_type("intake.report_filed")


def test_an_older_version_is_upcast_to_the_current_type_and_payload(report_filed_v0):
    assert messages.upcast(report_filed_v0, {"campaign_year": 2016}) == (intake.REPORT_FILED, {"year": 2016})
    assert messages.upcast(intake.REPORT_FILED, {"year": 2016}) == (intake.REPORT_FILED, {"year": 2016})
    assert messages.older_types() == {report_filed_v0: intake.REPORT_FILED}
    with pytest.raises(ValueError):
        messages.register_upcaster(report_filed_v0, intake.REPORT_FILED, dict)


def test_a_fold_table_folds_an_older_version_as_the_current_one_and_the_current_one_unwrapped(report_filed_v0):
    seen = []

    def fold(state, seq, payload):
        seen.append((seq, payload))

    folds = messages.with_upcasters({intake.REPORT_FILED: fold})
    assert folds[intake.REPORT_FILED] is fold
    folds[report_filed_v0](None, 7, {"campaign_year": 2017})
    assert seen == [(7, {"year": 2017})]


def test_every_type_is_promised_once_by_its_producer():
    from shared.messages import assessment, notify

    for module in (intake, ledger, assessment, notify):
        for type_, promised in module.PROMISES.items():
            assert promised.type == type_ and messages.parse_type(type_)[0] == module.PRODUCER
            assert promised.required and not promised.required & promised.optional
