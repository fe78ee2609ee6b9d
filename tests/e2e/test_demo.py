"""The demo mode (SPEC §9): ``zeroclear run --demo`` fills a new data folder with a realistic 2016
campaign through the HTTP APIs while the demo clock walks its calendar, then keeps running with
it; it refuses a folder that already holds a log, and production. The same campaign on RabbitMQ
and PostgreSQL (in the demo mode) through the same code."""
from __future__ import annotations

import json
import sys
import time
from collections import Counter

import pytest

from shared.clock import CLOCK_FILE, DemoClock
from shared.testing.client import Api
from shared.testing.plugin import system_on
from zeroclear.demo import MISSING, START, Demo

from .helpers import cli, cli_json, system_process

pytestmark = pytest.mark.e2e
#: 28 regions: 2 late, 1 missing, the rest on time, 3 of them with a zero report.
COUNTS = {"on_time": 25, "late": 2, "missing": 1, "awaiting": 0, "zero": 3}


def every_event(office: Api) -> list[dict]:
    found, after = [], 0
    while page := office.get("ledger", "/v1/events", params={"after": after, "limit": 1000}).json()["events"]:
        found += page
        after = page[-1]["seq"]
    return found


def check_campaign(office: Api, summary: dict) -> None:
    """What the campaign left, read back through the read APIs."""
    registry = office.get("ledger", "/v1/reports", params={"year": 2016}).json()
    assert registry["counts"] == COUNTS
    omitted = office.get("ledger", "/v1/discrepancies").json()["discrepancies"]
    assert [(d["region"], d["kind"]) for d in omitted] == [("410100", "omitted")]
    items = office.get("ledger", "/v1/items", params={"year": 2016, "limit": 1000}).json()["items"]
    statuses = Counter(item["status"] for item in items)
    assert statuses["verified"] == summary["items"]["verified"] > 0 and statuses["scheduled"] >= 2
    assert sum(item.get("source") == "tip" for item in items) == 1  # the confirmed tip's capacity
    tips = Counter(tip["status"] for tip in office.get("ledger", "/v1/tips").json()["tips"])
    assert tips == {"confirmed": 1, "unfounded": 1, "open": 1} == summary["tips"]
    issued = office.get("notify", "/v1/alerts").json()["alerts"]
    alerts = {(a["subject"], a["rule"]) for a in issued}
    assert (f"report/{MISSING[0]}/2016", "report_missing") in alerts
    # each alert on its own business day as the calendar walked: the missing report the day after
    # it was due, its escalation 7 days later; overdue eliminations once December began
    missing = {a["level"]: a["issued_at"][:10] for a in issued if a["subject"] == f"report/{MISSING[0]}/2016"}
    assert missing == {1: "2016-11-16", 2: "2016-11-23"}, missing
    assert min(a["issued_at"] for a in issued if a["rule"] == "elimination_overdue") >= "2016-12-01"
    assert len({a["issued_at"][:10] for a in issued}) >= 4 and summary["alerts"] == len(issued)
    # the monthly circulars on their day, for the month just ended, and the on-demand one last
    listed = office.get("notify", "/v1/circulars", params={"year": 2016}).json()["circulars"]
    assert [(c["kind"], c["period"]) for c in listed] == [("monthly", "2016-10"), ("monthly", "2016-11"),
                                                           ("monthly", "2016-12"), ("on_demand", "2017-01")]
    assert summary["monthly_circulars"] == ["2016-10", "2016-11", "2016-12"]
    sent = {e["payload"]["circular_id"]: e["occurred_at"][:10] for e in every_event(office)
            if e["type"] == "notify.circular_issued.v1"}
    assert [sent[f"2016-2016-{month}"] for month in (10, 11, 12)] == ["2016-11-01", "2016-12-01", "2017-01-01"], sent
    november = office.get("notify", "/v1/circulars/2016-2016-11.html").content.decode()
    assert '<span>2016年12月1日</span></div>' in november  # the masthead bears the day it was issued
    assert any(rule == "tip_unresolved" for _, rule in alerts) and any(rule == "elimination_overdue" for _, rule in alerts)
    assert [c["circular_id"] for c in office.get("notify", "/v1/circulars").json()["circulars"]][-1] == summary["circular"]
    assessment = office.get("assessment", "/v1/assessments/2016").json()
    assert assessment["status"] == "final" and assessment["published"]["digest"] == summary["assessment_digest"]
    assert office.get("ledger", "/v1/verify").json()["ok"] is True


def test_zeroclear_run_demo_fills_a_new_data_folder_and_keeps_running(tmp_path):
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "zeroclear", "run", "--demo", "--data-dir", str(data_dir)]
    with system_process(command, tmp_path / "run.log") as running:
        deadline = time.monotonic() + 240
        while "demo campaign filed:" not in running.output.read_text():
            assert running.process.poll() is None and time.monotonic() < deadline, running.output.read_text()[-3000:]
            time.sleep(0.2)
        printed = running.output.read_text()
        summary = json.loads(printed.split("demo campaign filed:", 1)[1].splitlines()[0])
        keys = json.loads((data_dir / "demo-keys.json").read_text(encoding="utf-8"))
        assert oct((data_dir / "demo-keys.json").stat().st_mode & 0o777) == "0o600"
        assert keys["office"] in printed and len([name for name in keys if name.startswith("region ")]) == 28
        check_campaign(Api(running.urls()).as_key(keys["office"]), summary)
        shown = cli_json({"ZEROCLEAR_DATA_DIR": str(data_dir)}, "clock", "show")
        assert shown["business_time"].startswith("2017-01-04T02:")  # left where the campaign ended, running

    again = cli({"ZEROCLEAR_DATA_DIR": str(data_dir)}, "run", "--demo", check=False)
    assert again.returncode == 2 and "already holds a log" in again.stderr, again.stderr
    production = cli({"ZEROCLEAR_DATA_DIR": str(tmp_path / "other"), "ZEROCLEAR_MODE": "production"}, "run", "--demo",
                     check=False)
    assert production.returncode == 2 and "ZEROCLEAR_MODE=production" in production.stderr, production.stderr


def test_the_demo_campaign_runs_on_rabbitmq_and_postgresql(tmp_path, reference):
    data_dir = tmp_path / "data"
    DemoClock(data_dir / CLOCK_FILE).set(START)
    env = {"ZEROCLEAR_DATA_DIR": str(data_dir), "ZEROCLEAR_MODE": "demo"}
    with system_on("real", tmp_path, clock=None, reference=reference, env=env) as running:
        demo = Demo(running.urls, reference, running.clock, lambda role, **scope: running.keys.create(role, **scope)[0],
                    log=lambda line: None)
        summary = demo.run()
        check_campaign(Api(running.urls).as_key(demo.keys["office"]), summary)
