"""Every number and date is bounded to what the business allows: what lies outside is a 422
naming the field (in English and Chinese), never a 500 and never a record — found by fuzzing
(a zip timestamp cannot hold the year 2108; a plan for 9999; a score of -0). Every request here
is refused or only reads, so the module shares one running system per backend."""
from __future__ import annotations

import pytest

from shared.testing import data

pytestmark = pytest.mark.e2e


@pytest.fixture
def system(module_system):
    """One system per backend for the module: nothing here records anything or moves its clock."""
    return module_system


def _named(answer) -> dict[str, dict]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    return {e["field"]: e for e in answer.json()["errors"]}


@pytest.mark.parametrize("year", [2108, 1999, 2999])
def test_the_blank_form_is_only_for_a_year_of_the_campaign(system, api, keys, year):
    answer = api.as_key(keys("region", region="410100")).get(
        "intake", "/v1/forms/registration.xlsx", params={"region": "410100", "year": year})
    assert list(_named(answer)) == ["query:year"]


def test_the_blank_form_for_next_year_is_served(system, api, keys):
    answer = api.as_key(keys("region", region="410100")).get(
        "intake", "/v1/forms/registration.xlsx", params={"region": "410100", "year": 2017})
    assert answer.status_code == 200


@pytest.mark.parametrize("planned", ["9999-12-31", "1970-01-01"])
def test_a_planned_date_outside_the_campaigns_reach_is_refused(system, api, keys, planned):
    body = data.report("410100", entries=1)
    body["entries"][0]["planned_date"] = planned
    errors = _named(api.as_key(keys("region", region="410100")).file_report(body))
    assert list(errors) == ["entries[0].planned_date"]
    assert errors["entries[0].planned_date"]["message_zh"].startswith("应在")


@pytest.mark.parametrize("score", ["-0", "-0.00", "100.01"])
def test_an_office_score_outside_0_to_100_is_refused_minus_zero_included(system, api, keys, score):
    office = api.as_key(keys("office"))
    answer = office.post("assessment", "/v1/assessment-inputs", json={
        "region": "410100", "year": 2016, "criterion": 2, "score": score, "note": "组织领导有力"})
    assert list(_named(answer)) == ["score"]
