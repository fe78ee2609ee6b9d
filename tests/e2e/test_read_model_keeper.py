"""After a start, the assessment's and notify's read models are folded by the process that serves
them, not by their first reader: the first read after a restart finds the fold at the head
instead of folding the whole journal while the portal's request times out, and notify's
announcement rows are written as the fold moves, not when the public first asks (issue 15)."""
from __future__ import annotations

import time

import pytest

from shared.clock import SettableClock
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import CAMPAIGN_START, system_on

from .helpers import recorded

pytestmark = pytest.mark.e2e

FOLDED = ("assessment", "notify")


def journals_at_head(system, head: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while any(system.services[name].repo.journal.head() < head for name in FOLDED):
        assert time.monotonic() < deadline, "the followers did not reach the ledger's head"
        time.sleep(0.05)


def folded_without_a_read(system, head: int, timeout: float = 20) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        folded = {name: system.services[name].model.folded for name in FOLDED}
        if all(seq == head for seq in folded.values()) or time.monotonic() > deadline:
            return folded
        time.sleep(0.05)


def test_a_restarted_system_folds_its_read_models_before_anyone_reads(tmp_path, reference):
    clock = SettableClock(CAMPAIGN_START)
    with system_on("embedded", tmp_path, clock=clock, reference=reference) as system:
        api = Api(system.urls)
        region = api.as_key(system.keys.create("region", region="410100")[0])
        recorded(region, region.file_report(data.report("410100", entries=3)))
        head = api.as_key(system.keys.create("office")[0]).get("ledger", "/v1/verify").json()["count"]
        journals_at_head(system, head)
        assert folded_without_a_read(system, head) == {"assessment": head, "notify": head}
        # and notify's announcement rows are written from that fold, not by the first reader
        rows = system.services["notify"].announcement
        deadline = time.monotonic() + 20
        while rows.position() < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rows.position() == head

    with system_on("embedded", tmp_path, clock=clock, reference=reference) as again:
        assert {name: again.services[name].repo.journal.head() for name in FOLDED} == {n: head for n in FOLDED}
        assert folded_without_a_read(again, head) == {"assessment": head, "notify": head}
        office = Api(again.urls).as_key(again.keys.create("office")[0])
        scores = office.get("assessment", "/v1/assessments/2016").json()
        assert scores["position"] == head and {r["region"] for r in scores["regions"]} >= {"410100"}
