"""The demo clock (SPEC §8): in the embedded and demo modes ``zeroclear clock set`` and ``zeroclear
clock advance``, run from another process, move the time every service of the running system sees
— the filing time intake stamps, the deadline the ledger judges, the duties notify finds overdue —
while it runs; production mode refuses both and leaves the clock alone."""
from __future__ import annotations

import time

import pytest

from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import system_on

from .helpers import cli, cli_json, recorded

pytestmark = pytest.mark.e2e

ZZ, KF, LY = "410100", "410200", "410300"  # 郑州, 开封, 洛阳


@pytest.fixture
def demo_env(backend, tmp_path) -> dict[str, str]:
    """The settings the system and the command line share: the data folder (where the clock is)
    and, on RabbitMQ and PostgreSQL, the demo mode (production there is asked for, not assumed)."""
    env = {"ZEROCLEAR_DATA_DIR": str(tmp_path / "data")}
    if backend == "real":
        env["ZEROCLEAR_MODE"] = "demo"
    return env


@pytest.fixture
def demo(backend, tmp_path, reference, demo_env):
    """The system on its own clock, as ``zeroclear run`` has it, started once the operator has set
    that clock to the campaign (so its log begins then: recording times never go back)."""
    moved = cli_json(demo_env, "clock", "set", "2016-11-10T09:00:00+08:00")
    assert moved["business_time"].startswith("2016-11-10T01:00:0"), moved
    with system_on(backend, tmp_path, clock=None, reference=reference, env=demo_env) as running:
        yield running


def registry_status(office: Api, region: str) -> str:
    rows = office.get("ledger", "/v1/reports", params={"year": 2016}).json()["regions"]
    return next(row["status"] for row in rows if row["region"] == region)


def caught_up(api: Api, office: Api) -> None:
    head = api.get("ledger", "/v1/verify").json()["count"]
    deadline = time.monotonic() + 20
    while office.get("notify", "/public/announcement.json").json()["position"] < head:
        assert time.monotonic() < deadline, "notify did not follow the ledger"
        time.sleep(0.05)


def test_the_clock_command_moves_the_running_systems_time(demo):
    api = Api(demo.urls)
    office = api.as_key(demo.keys.create("office")[0])
    zz = api.as_key(demo.keys.create("region", region=ZZ)[0])
    kf = api.as_key(demo.keys.create("region", region=KF)[0])
    env = {key: value for key, value in demo.env.items() if key.startswith("ZEROCLEAR_")}

    # 2016-11-10 in Henan, before the 2016 report is due: 郑州 files on time.
    filed = recorded(zz, zz.file_report(data.report(ZZ)))
    event = office.get("ledger", "/v1/events", params={"after": filed["seq"] - 1, "limit": 1}).json()["events"][0]
    assert event["occurred_at"].startswith("2016-11-10T01:00:") and event["recorded_at"].startswith("2016-11-10T01:00:")
    assert registry_status(office, ZZ) == "on_time" and registry_status(office, LY) == "awaiting"

    # Ten days on, past the deadline (2016-11-15): 洛阳 is missing, 开封's report is late, and
    # notify finds 洛阳's report overdue.
    later = cli_json(env, "clock", "advance", "10d")
    assert later["business_time"].startswith("2016-11-20T01:00:"), later
    assert registry_status(office, LY) == "missing"
    late = recorded(kf, kf.file_report(data.report(KF)))
    event = office.get("ledger", "/v1/events", params={"after": late["seq"] - 1, "limit": 1}).json()["events"][0]
    assert event["occurred_at"].startswith("2016-11-20T01:00:") and event["recorded_at"].startswith("2016-11-20T01:00:")
    assert registry_status(office, KF) == "late"
    caught_up(api, office)
    alerts = office.post("notify", "/v1/alerts/check").json()["alerts"]
    assert {"subject": f"report/{LY}/2016", "rule": "report_missing", "level": 1} in [
        {key: alert[key] for key in ("subject", "rule", "level")} for alert in alerts]
    assert not [alert for alert in alerts if alert["subject"] in (f"report/{ZZ}/2016", f"report/{KF}/2016")]

    # Production runs on the real clock: both verbs are refused and the business time stays.
    for verb in (("advance", "1d"), ("set", "2017-01-01T00:00:00+08:00")):
        refused = cli({**env, "ZEROCLEAR_MODE": "production"}, "clock", *verb, check=False)
        assert refused.returncode == 2 and "ZEROCLEAR_MODE=production" in refused.stderr, refused.stderr
    assert cli_json(env, "clock", "show")["business_time"].startswith("2016-11-20T01:")

    # Nonsense is refused with the argument named, the clock untouched.
    for verb in (("advance", "1y"), ("advance", "soon"), ("set", "2016-11-30")):
        bad = cli(env, "clock", *verb, check=False)
        assert bad.returncode == 2 and ("DURATION" in bad.stderr or "INSTANT" in bad.stderr), bad.stderr
    assert registry_status(office, LY) == "missing"
    assert cli_json(env, "clock", "show")["business_time"].startswith("2016-11-20T01:")


def test_a_clock_that_cannot_be_written_is_a_one_line_error(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    for verb in (("set", "2016-11-10T09:00:00+08:00"), ("advance", "1d")):
        refused = cli({"ZEROCLEAR_DATA_DIR": str(blocked / "data")}, "clock", *verb, check=False)
        assert refused.returncode == 1 and "cannot write the clock file" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
