"""A region files its report, another its zero report; the ledger records both exactly once,
and an auditor verifies, exports and replays the log — on SQLite + in-process broker and on
PostgreSQL + RabbitMQ.

The journey (which counts the whole registry and replays the whole log) and the late report (which
moves the clock and counts the registry) each keep a system of their own; the retry (洛阳) and the
duplicate (开封) look only at their own region's events and share one system per backend."""
from __future__ import annotations

import pytest

from shared.testing import data

from .helpers import cli_json, standalone_verify

pytestmark = pytest.mark.e2e


def test_reports_and_zero_reports_are_recorded_verified_exported_and_replayed(system, api, keys, tmp_path, backend):
    zhengzhou = api.as_key(keys("region", region="410100"))
    jiyuan = api.as_key(keys("region", region="419001"))
    auditor = api.as_key(keys("auditor"))

    form = zhengzhou.file_report(data.report("410100", entries=3), idempotency_key="zz-2016")
    zero = jiyuan.file_report(data.report("419001", zero=True))
    assert form.status_code == 202, form.text
    assert zero.status_code == 202, zero.text
    assert form.headers["Location"] == form.json()["status_url"]

    recorded_form = zhengzhou.wait_decided(form.json()["submission_id"])
    recorded_zero = jiyuan.wait_decided(zero.json()["submission_id"])
    for recorded in (recorded_form, recorded_zero):
        assert recorded["status"] == "recorded"
        assert recorded["seq"] >= 1 and len(recorded["hash"]) == 64

    feed = auditor.get("ledger", "/v1/events", params={"after": 0, "limit": 1000}).json()
    by_id = {e["id"]: e for e in feed["events"]}
    assert by_id[recorded_form["submission_id"]]["seq"] == recorded_form["seq"]
    assert by_id[recorded_form["submission_id"]]["hash"] == recorded_form["hash"]
    assert len(by_id[recorded_form["submission_id"]]["payload"]["entries"]) == 3
    assert by_id[recorded_zero["submission_id"]]["payload"]["zero_report"] is True
    assert [e["seq"] for e in feed["events"]] == list(range(1, feed["head_seq"] + 1))

    registry = auditor.get("ledger", "/v1/reports", params={"year": 2016}).json()
    rows = {r["region"]: r for r in registry["regions"]}
    assert rows["410100"]["status"] == "on_time" and rows["410100"]["item_count"] == 3
    assert rows["419001"]["status"] == "on_time" and rows["419001"]["zero_report"] is True
    assert registry["expected"] == 28 and registry["filed"] == 2
    assert registry["counts"] == {"on_time": 2, "late": 0, "missing": 0, "awaiting": 26, "zero": 1}

    verdict = api.get("ledger", "/v1/verify").json()
    assert {k: verdict[k] for k in ("ok", "count", "head")} == {"ok": True, "count": feed["head_seq"],
                                                          "head": feed["events"][-1]["hash"]}

    live = auditor.get("ledger", "/v1/state").json()
    env = system.env
    assert cli_json(env, "ledger", "verify")["ok"] is True
    replayed = cli_json(env, "ledger", "replay", "--digest-only")
    assert (replayed["seq"], replayed["digest"]) == (live["seq"], live["digest"])

    export_file = tmp_path / "ledger.jsonl"
    checkpoint = cli_json(env, "ledger", "export", str(export_file))
    assert checkpoint["count"] == verdict["count"] and checkpoint["head"] == verdict["head"]
    status, result = standalone_verify(export_file)
    assert (status, result["ok"], result["count"], result["head"]) == (0, True, verdict["count"], verdict["head"])
    from_export = cli_json(env, "ledger", "replay", "--from-export", str(export_file), "--digest-only")
    assert from_export["digest"] == live["digest"]


def test_a_retried_idempotency_key_answers_the_same_and_records_once(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    region = api.as_key(keys("region", region="410300"))
    body = data.report("410300", entries=2)
    first = region.file_report(body, idempotency_key="luoyang-2016-form")
    again = region.file_report(body, idempotency_key="luoyang-2016-form")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    region.wait_decided(first.json()["submission_id"])

    different = region.file_report(data.report("410300", entries=1), idempotency_key="luoyang-2016-form")
    assert different.status_code == 422
    assert different.headers["Content-Type"] == "application/problem+json"

    auditor = api.as_key(keys("auditor"))
    events = auditor.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
    assert [e["type"] for e in events if e["region"] == "410300"] == ["intake.report_filed.v1"]


def test_a_second_report_for_the_same_year_is_rejected_and_the_rejection_recorded(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    region = api.as_key(keys("region", region="410200"))
    first = region.wait_decided(region.file_report(data.report("410200")).json()["submission_id"])
    second = region.wait_decided(region.file_report(data.report("410200", zero=True)).json()["submission_id"])
    assert first["status"] == "recorded"
    assert second["status"] == "rejected"
    assert [r["code"] for r in second["reasons"]] == ["duplicate_report"]
    assert second["seq"] > first["seq"]

    auditor = api.as_key(keys("auditor"))
    stream = [e for e in auditor.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
              if e["stream"] == "report/410200/2016"]
    assert [e["type"] for e in stream] == ["intake.report_filed.v1", "ledger.submission_rejected.v1"]
    assert stream[1]["causation_id"] == second["submission_id"]
    assert api.get("ledger", "/v1/verify").json()["ok"] is True


def test_a_late_report_and_a_silent_region_show_in_the_registry(system, api, keys, clock):
    from datetime import datetime, timezone

    region = api.as_key(keys("region", region="410400"))
    clock.set(datetime(2016, 11, 20, tzinfo=timezone.utc))  # after the 2016 deadline (11-15)
    late = region.wait_decided(region.file_report(data.report("410400")).json()["submission_id"])
    assert late["status"] == "recorded"
    registry = api.as_key(keys("office")).get("ledger", "/v1/reports", params={"year": 2016}).json()
    rows = {r["region"]: r for r in registry["regions"]}
    assert rows["410400"]["status"] == "late"
    assert rows["410100"]["status"] == "missing"
    assert registry["counts"]["missing"] == 27 and registry["completeness"] == round(100 / 28, 2)

    own = region.get("ledger", "/v1/reports", params={"year": 2016}).json()
    assert [r["region"] for r in own["regions"]] == ["410400"]
