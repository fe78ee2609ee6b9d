"""Nothing is left pending silently: a submission the ledger never answers is sent again a few
times, then shows as stalled in its status and in ``zeroclear outbox status``, and an operator's
``zeroclear outbox redrive`` gets it recorded once the ledger is back — on both backends."""
from __future__ import annotations

import json
import time

import pytest

from shared.testing import data
from shared.testing.plugin import system_on

from .helpers import cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def system(backend, tmp_path, clock, reference):
    quick = {"ZEROCLEAR_OUTBOX_ATTEMPTS": "2", "ZEROCLEAR_OUTBOX_REDELIVER_SECONDS": "0.2"}
    with system_on(backend, tmp_path, clock=clock, reference=reference, env=quick) as running:
        yield running


def _until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("not reached in time")


def _purge_inbox(system) -> None:
    from shared.broker import Broker

    broker = Broker(system.services["ledger"].settings.broker_url, system.topology)
    conn = broker.connect()
    try:
        conn.default_channel.queue_purge(system.topology.inbox_queue.name)
    finally:
        conn.release()


def test_a_submission_the_ledger_never_answers_stalls_visibly_and_is_recorded_once_redriven(system, api, keys):
    consumer = system.workers["ledger"].consumer
    consumer.stop()  # the ledger takes nothing: every send goes unanswered
    zhengzhou = api.as_key(keys("region", region="410100"))
    accepted = zhengzhou.file_report(data.report("410100"))
    assert accepted.status_code == 202
    url = accepted.json()["status_url"]
    stalled = _until(lambda: (lambda s: s if s["stalled"] else None)(zhengzhou.get("intake", url).json()))
    assert (stalled["status"], stalled["attempts"]) == ("pending", 2)
    env = {**system.env, "ZEROCLEAR_DATA_DIR": str(system.data_dir)}
    status = json.loads(cli(env, "outbox", "status", "--service", "intake").stdout)["intake"]
    assert (status["stalled"], [m["message_id"] for m in status["stalled_messages"]]) == (
        1, [accepted.json()["submission_id"]])

    _purge_inbox(system)  # what was sent is gone: only a re-drive can bring it in now
    consumer.start()
    time.sleep(1.0)
    assert zhengzhou.get("intake", url).json()["status"] == "pending"
    assert json.loads(cli(env, "outbox", "redrive").stdout) == {"redriven": {"intake": 1, "assessment": 0, "notify": 0}}
    decided = zhengzhou.get("intake", url, params={"wait": 20}).json()
    assert (decided["status"], decided["stalled"]) == ("recorded", False)
