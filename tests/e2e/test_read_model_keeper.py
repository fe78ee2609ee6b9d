"""After a start, the assessment's and notify's read models are made by the process that serves
them, not by their first reader: the first read after a restart finds notify's fold at the head
and the assessment's rows scored instead of folding or scoring the whole journal while the
portal's request times out, and notify's announcement rows are written as the fold moves, not
when the public first asks (issues 15 and 12)."""
from __future__ import annotations

import time

import pytest
import requests
import sqlalchemy as sa

from services.assessment.adapters.tables import ledger_events, scored_rows
from services.notify.domain.campaign import NotifyState

from shared.clock import SettableClock
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import CAMPAIGN_START, system_on

from .helpers import recorded

pytestmark = pytest.mark.e2e

FOLDED = ("assessment", "notify")
REGION = "410100"


def journals_at_head(system, head: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while any(system.services[name].repo.journal.head() < head for name in FOLDED):
        assert time.monotonic() < deadline, "the followers did not reach the ledger's head"
        time.sleep(0.05)


def folded_without_a_read(system, head: int, timeout: float = 20) -> int:
    """Where notify's fold is once it has reached ``head`` (or the time is up)."""
    deadline = time.monotonic() + timeout
    while system.services["notify"].model.folded != head and time.monotonic() < deadline:
        time.sleep(0.05)
    return system.services["notify"].model.folded


def scored_without_a_read(system, timeout: float = 20) -> bool:
    """Whether the assessment's keeper has scored the region's 2016 row from its last event."""
    engine = system.services["assessment"].repo.engine
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            last = conn.execute(sa.select(sa.func.max(ledger_events.c.seq)).where(ledger_events.c.region == REGION)).scalar()
            rows = conn.execute(sa.select(scored_rows.c.region_seq).where(
                scored_rows.c.region == REGION, scored_rows.c.key.startswith("2016|"))).scalars().all()
        if last is not None and rows and all(seq == last for seq in rows):
            return True
        time.sleep(0.05)
    return False


def test_a_restarted_system_folds_its_read_models_before_anyone_reads(tmp_path, reference):
    clock = SettableClock(CAMPAIGN_START)
    with system_on("embedded", tmp_path, clock=clock, reference=reference) as system:
        api = Api(system.urls)
        region = api.as_key(system.keys.create("region", region=REGION)[0])
        recorded(region, region.file_report(data.report(REGION, entries=3)))
        head = api.as_key(system.keys.create("office")[0]).get("ledger", "/v1/verify").json()["count"]
        journals_at_head(system, head)
        assert folded_without_a_read(system, head) == head
        assert scored_without_a_read(system)
        # and notify's announcement rows are written from that fold, not by the first reader
        rows = system.services["notify"].announcement
        deadline = time.monotonic() + 20
        while rows.position() < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rows.position() == head

    with system_on("embedded", tmp_path, clock=clock, reference=reference) as again:
        assert {name: again.services[name].repo.journal.head() for name in FOLDED} == {n: head for n in FOLDED}
        assert folded_without_a_read(again, head) == head
        office = Api(again.urls).as_key(again.keys.create("office")[0])
        scores = office.get("assessment", "/v1/assessments/2016").json()
        assert scores["position"] == head and {r["region"] for r in scores["regions"]} >= {REGION}
        assert again.services["assessment"].scores.folded == 0  # the rows kept before the restart served
        # a public reader while notify's fold starts again from nothing (it holds the fold's lock
        # for as long as ten years take) reads the rows kept before, at their position, at once
        notify = again.services["notify"].model
        with notify._lock:
            notify._live = NotifyState()
            answer = requests.get(again.urls["notify"] + "/public/announcement.json", timeout=5)
        assert answer.status_code == 200 and answer.json()["position"] == head
