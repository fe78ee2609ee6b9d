"""A scoring the assessment's kept rows do not cover (here: a cut-off of the reader's choosing)
runs once, in the API's scoring thread, however many readers ask: one who waits longer than
ZEROCLEAR_ASSESSMENT_SCORE_WAIT_SECONDS is answered 503 with Retry-After while it goes on, and
their retry gets the kept answer; readers asking for more cut-offs than are queued at most are
refused at once instead of each taking a core."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.testing.plugin import system_on

pytestmark = pytest.mark.e2e

SCORES = "/v1/assessments/2016"


@pytest.fixture
def system(tmp_path, clock, reference):
    with system_on("embedded", tmp_path, clock=clock, reference=reference,
                   env={"ZEROCLEAR_ASSESSMENT_SCORE_WAIT_SECONDS": "0.5"}) as running:
        yield running


@pytest.fixture
def held(system, monkeypatch):
    """The assessment's scorings held until ``held.set()``; ``held.cut_offs``: each one scored."""
    scores = system.services["assessment"].scores
    gate, real = threading.Event(), scores.both
    gate.cut_offs = []

    def both(year, cut, position=None):
        gate.cut_offs.append(cut)
        gate.wait(20)
        return real(year, cut, position)

    monkeypatch.setattr(scores, "both", both)
    yield gate
    gate.set()


def test_a_scoring_past_the_wait_answers_503_goes_on_and_is_kept_for_the_retry(system, api, keys, held):
    office = api.as_key(keys("office"))
    cut_off = {"cut_off": "2017-01-10T00:00:00Z"}
    with ThreadPoolExecutor(3) as readers:
        first = [readers.submit(office.get, "assessment", SCORES, params=cut_off) for _ in range(3)]
        answers = [f.result(10) for f in first]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.json()["type"] == "urn:zeroclear:problem:unavailable"
    held.set()
    deadline = time.monotonic() + 10
    again = office.get("assessment", SCORES, params=cut_off)
    while again.status_code == 503 and time.monotonic() < deadline:  # the first may still be finishing
        time.sleep(0.1)
        again = office.get("assessment", SCORES, params=cut_off)
    assert again.status_code == 200, again.text
    assert again.json()["cut_off"] == "2017-01-10T00:00:00.000000Z"
    assert held.cut_offs == ["2017-01-10T00:00:00.000000Z"]  # three readers, one scoring


def test_more_cut_offs_than_are_queued_at_most_are_refused_at_once(system, api, keys, held):
    office = api.as_key(keys("office"))
    cut_offs = [{"cut_off": f"2017-01-{day:02d}T00:00:00Z"} for day in range(1, 8)]
    with ThreadPoolExecutor(len(cut_offs)) as readers:
        answers = [f.result(10) for f in [readers.submit(office.get, "assessment", SCORES, params=c) for c in cut_offs]]
    assert {a.status_code for a in answers} == {503}
    assert sum("queued" in a.json()["detail"] for a in answers) >= len(cut_offs) - 4
    assert len(held.cut_offs) == 1  # one scoring thread: the others waited their turn, then were dropped
