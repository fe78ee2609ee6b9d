"""The embedded system in a process that goes on after it (the tests, a restart in place): it
serves however many descriptors the process holds, and once stopped leaves none of its threads or
connections behind (each system the test workers started left a dozen sockets and a thread or two,
until waitress's select() met a descriptor past 1,024 and its service stopped answering)."""
from __future__ import annotations

import os
import threading

import pytest

from shared.clock import SettableClock
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import CAMPAIGN_START, system_on

from .helpers import recorded

pytestmark = pytest.mark.e2e

REGION = "410100"


def sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


@pytest.fixture
def descriptors_past_select():
    """Enough descriptors open that the system's own are numbered past select()'s 1,024."""
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1_100)]
    yield
    for fd in held:
        os.close(fd)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_a_system_serves_past_1024_descriptors_and_once_stopped_leaves_no_thread_or_socket(
        tmp_path, reference, descriptors_past_select):
    threads, open_sockets = set(threading.enumerate()), sockets()
    with system_on("embedded", tmp_path, clock=SettableClock(CAMPAIGN_START), reference=reference) as system:
        api = Api(system.urls)
        region = api.as_key(system.keys.create("region", region=REGION)[0])
        recorded(region, region.file_report(data.report(REGION, entries=2)))
        office = api.as_key(system.keys.create("office")[0])
        assert office.get("assessment", "/v1/assessments/2016").status_code == 200
        assert office.get("ledger", "/v1/verify").json()["ok"] is True
        api.session.close()
    assert sorted(t.name for t in set(threading.enumerate()) - threads) == []
    assert sockets() == open_sockets
