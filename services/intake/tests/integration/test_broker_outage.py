"""An accepted submission survives a broker outage: with intake cut off from RabbitMQ (its
connection runs through a TCP proxy we cut), reports are still accepted — 202, pending — and
wait in intake's outbox; once the proxy is restored they are recorded on the ledger exactly once."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from services.intake.adapters.tables import outbox
from shared.clock import SettableClock
from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START
from shared.testing.proxy import TcpProxy
from shared.testing.services import AMQP_URL, need

from shared.testing.plugin import system_on

pytestmark = pytest.mark.e2e
REGIONS = ("410500", "410600", "411481")


@pytest.fixture
def proxy():
    need("rabbitmq")
    with TcpProxy.to_url(AMQP_URL) as proxy:
        yield proxy


@pytest.fixture
def system(proxy, tmp_path, reference):
    env = {"ZEROCLEAR_INTAKE_BROKER_URL": proxy.url(AMQP_URL)}
    with system_on("real", tmp_path, clock=SettableClock(CAMPAIGN_START), reference=reference, env=env) as running:
        yield running


def _unpublished(system) -> int:
    with system.services["intake"].repo.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))).scalar_one()


def test_reports_accepted_while_the_broker_is_unreachable_are_recorded_exactly_once_when_it_is_back(system, proxy, api, keys):
    assert system.services["intake"].settings.broker_url == proxy.url(AMQP_URL)
    assert system.services["ledger"].settings.broker_url == AMQP_URL
    auditor = api.as_key(keys("auditor"))
    head_before = api.get("ledger", "/v1/verify").json()["count"]

    proxy.cut()
    filers = {region: api.as_key(keys("region", region=region)) for region in REGIONS}
    accepted = {}
    for region, filer in filers.items():
        response = filer.file_report(data.report(region, entries=2))
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "pending"
        accepted[region] = response.json()["submission_id"]

    tries = proxy.accepted
    deadline = time.monotonic() + 10
    while proxy.accepted < tries + 2 and time.monotonic() < deadline:  # the relay keeps knocking
        time.sleep(0.05)
    assert proxy.accepted >= tries + 2
    assert _unpublished(system) == len(REGIONS)
    for region, submission_id in accepted.items():
        assert filers[region].get("intake", f"/v1/submissions/{submission_id}").json()["status"] == "pending"
    assert api.get("ledger", "/v1/verify").json()["count"] == head_before

    proxy.restore()
    decided = {region: filers[region].wait_decided(sid, timeout=30) for region, sid in accepted.items()}
    assert {d["status"] for d in decided.values()} == {"recorded"}
    assert _unpublished(system) == 0

    events = auditor.get("ledger", "/v1/events", params={"after": 0, "limit": 1000}).json()["events"]
    ids = [e["id"] for e in events]
    for region, submission_id in accepted.items():
        assert ids.count(submission_id) == 1
        assert decided[region]["seq"] == next(e["seq"] for e in events if e["id"] == submission_id)
    assert not [e for e in events if e["type"] == "ledger.submission_rejected.v1"]
    verdict = api.get("ledger", "/v1/verify").json()
    assert verdict["ok"] is True and verdict["count"] == head_before + len(REGIONS)
