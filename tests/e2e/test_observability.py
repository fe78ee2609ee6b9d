"""What an operator sees of a running system (issues 16.5, 16.6, 16.10): Prometheus metrics on
every API, readiness that asks the broker (and reports notify's SMTP server without failing),
JSON log lines carrying the request's id through the broker to the ledger, no client address on
the tip endpoints, and the real client behind trusted proxies. The tests on ``system`` share one
system per backend (each files for a region of its own, none moves the clock, and the log lines
a test reads are those written while it runs); those needing other settings start their own."""
from __future__ import annotations

import io
import json
import logging
import socket

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared import logs
from shared.testing.client import Api
from shared.testing import data
from shared.testing.plugin import system_on

pytestmark = pytest.mark.e2e
TIP = {"region": "410500", "enterprise": "安阳某铁合金厂", "location": "安阳县某镇", "description": "偷偷生产"}


@pytest.fixture
def system(module_system):
    return module_system


def samples(api: Api, service: str) -> dict[str, list]:
    answer = api.get(service, "/metrics")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def test_every_api_serves_its_requests_and_its_figures_as_prometheus_metrics(system, api, keys):
    kf = api.as_key(keys("region", region="410200"))  # 郑州's report is the JSON log lines test's
    filed = kf.file_report(data.report("410200"))
    assert kf.wait_decided(filed.json()["submission_id"])["status"] == "recorded"
    api.get("ledger", "/v1/verify")
    ledger = samples(api, "ledger")
    (verify,) = [s for s in ledger["zeroclear_http_requests_total"]
                 if s.labels["endpoint"] == "/v1/verify" and s.labels["status"] == "200"]
    assert verify.labels == {"service": "ledger", "method": "GET", "endpoint": "/v1/verify", "status": "200"}
    assert verify.value >= 1
    assert ledger["zeroclear_ledger_head_seq"][0].value >= 1
    intake = samples(api, "intake")
    assert any(s.labels["endpoint"] == "/v1/reports" and s.labels["status"] == "202"
               for s in intake["zeroclear_http_requests_total"]), "endpoints are rules, never ids"
    states = {s.labels["state"]: s.value for s in intake["zeroclear_outbox_messages"]}
    assert set(states) == {"unpublished", "unsettled", "stalled"}
    assert "zeroclear_outbox_oldest_unsettled_age_seconds" in intake
    assert "zeroclear_follower_position" in intake and "zeroclear_follower_position" in samples(api, "assessment")
    notify = samples(api, "notify")
    assert {"zeroclear_deliveries", "zeroclear_alerts_issued_total", "zeroclear_circulars_issued_total"} <= set(notify) \
        or "zeroclear_alerts_issued_total" in notify


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readiness_asks_the_broker_and_reports_an_unreachable_smtp_server_without_failing(tmp_path, clock, reference):
    env = {"ZEROCLEAR_NOTIFY_SMTP_URL": f"smtp://127.0.0.1:{_closed_port()}"}
    with system_on("embedded", tmp_path, clock=clock, reference=reference, env=env) as system:
        api = Api(system.urls)
        for service in ("intake", "ledger", "assessment"):
            ready = api.get(service, "/health/ready")
            assert ready.status_code == 200 and ready.json() == {
                "status": "ok", "checks": {"database": "ok", "broker": "ok"}}, ready.text
        notify = api.get("notify", "/health/ready")
        assert notify.status_code == 200, notify.text
        assert notify.json()["status"] == "degraded" and notify.json()["checks"]["smtp"].startswith("unavailable")


def test_a_critical_check_that_fails_makes_readiness_503_naming_it():
    from shared.http import create_app

    app, _ = create_app("zeroclear.test", title="t", database=lambda: None)

    def broker_down():
        raise ConnectionRefusedError("broker")

    app.extensions["zeroclear.checks"] = {"broker": (broker_down, True)}
    answer = app.test_client().get("/health/ready")
    assert answer.status_code == 503
    assert answer.json == {"status": "unavailable", "checks": {"database": "ok",
                                                                "broker": "unavailable: ConnectionRefusedError"}}


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_json_log_lines_carry_the_request_id_through_the_broker_to_the_ledgers_line(system, api, keys, json_lines):
    zz = api.as_key(keys("region", region="410100"))
    filed = zz.post("intake", "/v1/reports", json=data.report("410100"), headers={"X-Request-ID": "req-0000-0001"})
    assert filed.headers["X-Request-ID"] == "req-0000-0001"
    recorded = zz.wait_decided(filed.json()["submission_id"])
    assert recorded["status"] == "recorded"
    lines = json_lines()
    access = [line for line in lines if line["logger"] == "zeroclear.access" and line["endpoint"] == "/v1/reports"]
    assert access and access[0]["service"] == "intake" and access[0]["request_id"] == "req-0000-0001"
    assert access[0]["level"] == "INFO" and access[0]["status"] == 202 and access[0]["client"] == "127.0.0.1"
    (ledger,) = [line for line in lines if line.get("event_type") == "intake.report_filed.v1"]
    assert ledger["correlation_id"] == "req-0000-0001" and ledger["service"] == "ledger"
    event = api.as_key(keys("auditor")).get("ledger", "/v1/events", params={"after": 0}).json()["events"]
    assert [e["correlation_id"] for e in event if e["id"] == recorded["submission_id"]] == ["req-0000-0001"]


def test_the_tip_endpoints_log_no_client_address_and_take_no_id_from_outside(system, api, json_lines):
    answer = api.post("intake", "/v1/tips", json=TIP, headers={"X-Request-ID": "proxy-logged-id-1234"})
    assert answer.status_code == 201, answer.text
    assert answer.headers["X-Request-ID"] != "proxy-logged-id-1234"
    api.post("intake", "/v1/tips/lookup", json={"receipt": answer.json()["receipt"]})
    tip_lines = [line for line in json_lines() if str(line.get("endpoint", "")).startswith("/v1/tips")]
    assert len(tip_lines) == 2 and all("client" not in line for line in tip_lines)
    assert "127.0.0.1" not in json.dumps(json_lines()) or all("client" not in l for l in tip_lines)
    assert "proxy-logged-id-1234" not in json.dumps(json_lines())


def test_behind_trusted_proxies_rate_limits_and_logs_see_the_forwarded_client(tmp_path, clock, reference, json_lines):
    env = {"ZEROCLEAR_TRUSTED_PROXIES": "127.0.0.1", "ZEROCLEAR_INTAKE_TIP_RATE_PER_MINUTE": "2"}
    with system_on("embedded", tmp_path, clock=clock, reference=reference, env=env) as system:
        api = Api(system.urls)
        first = [api.post("intake", "/v1/tips", json=TIP, headers={"X-Forwarded-For": "203.0.113.7"}).status_code
                 for _ in range(3)]
        assert first[-1] == 429, first
        other = api.post("intake", "/v1/tips", json=TIP, headers={"X-Forwarded-For": "203.0.113.8"})
        assert other.status_code == 201, "another client behind the same proxy has its own allowance"
        api.get("ledger", "/v1/verify", headers={"X-Forwarded-For": "198.51.100.9"})
    (verify,) = [line for line in json_lines() if line.get("endpoint") == "/v1/verify"]
    assert verify["client"] == "198.51.100.9"
