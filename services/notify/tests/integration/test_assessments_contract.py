"""The port notify ranks circulars by (``Assessments``): the in-memory stand-in and the HTTP client
of the running assessment service answer alike — a position it has reached gives that position's
scores in the assessment's shape, a position beyond gives ``ScoresUnavailable``, never other
figures."""
from __future__ import annotations

import time

import pytest

from services.notify.adapters.assessment import HttpAssessments, MemoryAssessments, ScoresUnavailable
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import system_on

FIELDS = {"region", "total", "grade", "rank", "draft"}


@pytest.fixture(scope="module")
def running(tmp_path_factory, reference):
    from shared.clock import SettableClock
    from shared.testing.plugin import CAMPAIGN_START

    with system_on("embedded", tmp_path_factory.mktemp("system"), clock=SettableClock(CAMPAIGN_START),
                   reference=reference) as system:
        api = Api(system.urls)
        zz = api.as_key(system.keys.create("region", region="410100")[0])
        answer = zz.file_report(data.report("410100"))
        assert zz.wait_decided(answer.json()["submission_id"])["status"] == "recorded"
        head = api.get("ledger", "/v1/verify").json()["count"]
        deadline = time.monotonic() + 20
        while api.as_key(system.keys.create("service")[0]).get("assessment", "/v1/assessments/2016").json()[
                "position"] < head:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield system, head


@pytest.fixture(params=["memory", "http"])
def assessments(request, running):
    system, head = running
    http = HttpAssessments(system.urls["assessment"], system.keys.create("service")[0])
    if request.param == "http":
        return http, head
    fake = MemoryAssessments()
    for position in range(1, head + 1):
        fake.put(http.scores(2016, position))
    return fake, head


def test_a_position_reached_gives_its_scores_in_the_assessments_shape(assessments):
    port, head = assessments
    found = port.scores(2016, head)
    assert (found["year"], found["position"]) == (2016, head) and len(found["digest"]) == 64 and found["cut_off"]
    assert len(found["regions"]) == 28 and all(FIELDS <= set(row) for row in found["regions"])
    assert port.scores(2016, 1)["position"] == 1


def test_a_position_not_reached_is_unavailable(assessments):
    port, head = assessments
    with pytest.raises(ScoresUnavailable, match=f"position {head + 5}"):
        port.scores(2016, head + 5)


def test_an_assessment_out_of_reach_is_unavailable_after_the_wait():
    with pytest.raises(ScoresUnavailable, match="not reachable"):
        HttpAssessments("http://127.0.0.1:9", None, pause=0.05).scores(2016, 1, wait_seconds=0.2)
