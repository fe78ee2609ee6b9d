"""A database outage (SPEC §10) on RabbitMQ and PostgreSQL, each service's database reached through a
TCP proxy that we cut: while the ledger's database is away, intake goes on accepting, the ledger
acknowledges nothing it could not store and says it is unavailable (503, never 500); once it is
back, everything accepted is recorded exactly once. While intake's own database is away, a filing
is refused with 503 and leaves nothing behind, and the retry with the same Idempotency-Key is
recorded once."""
from __future__ import annotations

import time

import pytest

from shared.clock import SettableClock
from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START, system_on
from shared.testing.proxy import TcpProxy
from shared.testing.services import fresh_postgres_database, need

pytestmark = pytest.mark.e2e
REGIONS = ("410500", "410600", "411481")


@pytest.fixture
def databases():
    """A ledger and an intake database, each behind a proxy of its own: {service: proxy}."""
    need("postgres")
    with fresh_postgres_database("zc_ledger_out") as ledger_url, fresh_postgres_database("zc_intake_out") as intake_url:
        with TcpProxy.to_url(ledger_url) as ledger, TcpProxy.to_url(intake_url) as intake:
            ledger.database_url, intake.database_url = ledger.url(ledger_url), intake.url(intake_url)
            yield {"ledger": ledger, "intake": intake}


@pytest.fixture
def system(databases, tmp_path, reference):
    env = {f"ZEROCLEAR_{name.upper()}_DATABASE_URL": proxy.database_url for name, proxy in databases.items()}
    with system_on("real", tmp_path, clock=SettableClock(CAMPAIGN_START), reference=reference, env=env) as running:
        yield running


def _events(auditor) -> list[dict]:
    return auditor.get("ledger", "/v1/events", params={"after": 0, "limit": 1000}).json()["events"]


def test_what_intake_accepts_while_the_ledgers_database_is_away_is_recorded_once_it_is_back(system, databases, api, keys):
    proxy = databases["ledger"]
    assert system.services["ledger"].settings.database_url == proxy.database_url
    auditor = api.as_key(keys("auditor"))
    filers = {region: api.as_key(keys("region", region=region)) for region in REGIONS}
    first = filers[REGIONS[0]].file_report(data.report(REGIONS[0]))
    assert filers[REGIONS[0]].wait_decided(first.json()["submission_id"])["status"] == "recorded"
    head_before = api.get("ledger", "/v1/verify").json()["count"]

    proxy.cut()
    tries = proxy.accepted
    accepted = {}
    for region in REGIONS[1:]:
        answer = filers[region].file_report(data.report(region, entries=2))
        assert answer.status_code == 202, answer.text
        accepted[region] = answer.json()["submission_id"]
    deadline = time.monotonic() + 20
    while proxy.accepted < tries + 2:  # the ledger has tried its database again, and failed
        assert time.monotonic() < deadline, "the ledger did not try its database"
        time.sleep(0.05)
    ready = api.get("ledger", "/health/ready")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    refused = api.get("ledger", "/v1/verify")
    assert refused.status_code == 503 and refused.headers["Content-Type"] == "application/problem+json"
    for region, submission_id in accepted.items():
        assert filers[region].get("intake", f"/v1/submissions/{submission_id}").json()["status"] == "pending"

    proxy.restore()
    decided = {region: filers[region].wait_decided(sid, timeout=60) for region, sid in accepted.items()}
    assert {outcome["status"] for outcome in decided.values()} == {"recorded"}
    events = _events(auditor)
    for region, submission_id in accepted.items():
        assert [e["seq"] for e in events if e["id"] == submission_id] == [decided[region]["seq"]]
    verdict = api.get("ledger", "/v1/verify").json()
    assert verdict["ok"] is True and verdict["count"] == head_before + len(accepted)


def test_a_filing_while_intakes_database_is_away_is_refused_whole_and_its_retry_recorded_once(system, databases, api, keys):
    proxy = databases["intake"]
    auditor = api.as_key(keys("auditor"))
    filer = api.as_key(keys("region", region=REGIONS[0]))
    head_before = api.get("ledger", "/v1/verify").json()["count"]

    proxy.cut()
    refused = filer.file_report(data.report(REGIONS[0]), idempotency_key="outage-1")
    assert refused.status_code == 503, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json" and refused.headers["Retry-After"]
    assert api.get("intake", "/health/ready").status_code == 503

    proxy.restore()
    deadline = time.monotonic() + 30
    while (retried := filer.file_report(data.report(REGIONS[0]), idempotency_key="outage-1")).status_code == 503:
        assert time.monotonic() < deadline, "intake did not come back with its database"
        time.sleep(0.2)
    assert retried.status_code == 202, retried.text
    again = filer.file_report(data.report(REGIONS[0]), idempotency_key="outage-1")
    assert again.json()["submission_id"] == retried.json()["submission_id"]
    assert filer.wait_decided(retried.json()["submission_id"])["status"] == "recorded"
    assert [e["id"] for e in _events(auditor)].count(retried.json()["submission_id"]) == 1
    assert api.get("ledger", "/v1/verify").json()["count"] == head_before + 1
