"""``as_of`` (a log position or a time) is bounded to what the business allows and its errors are
worded for HTTP: a 4xx naming ``query:as_of``, never a 500 (SQLite's integers stop at 2**63-1),
never the command line's ``--as-of``; roles are named with their article. Every test only reads
(and makes its own keys), so the module shares one system per backend."""
from __future__ import annotations

import pytest

from shared.clock import MAX_POSITION

pytestmark = pytest.mark.e2e


@pytest.fixture
def system(module_system):
    return module_system


OUT_OF_BOUNDS = [str(MAX_POSITION + 1), "9223372036854775808", "9" * 5000, "9999-01-01T00:00:00+00:00",
                 "1999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00", "2016-01-01", "garbage"]


def _refused(answer) -> str:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert [e["field"] for e in problem["errors"]] == ["query:as_of"], problem
    text = problem.get("detail", "") + " ".join(e["message"] for e in problem["errors"])
    assert "--as-of" not in text and "isoformat" not in text, text
    return text


@pytest.mark.parametrize("as_of", OUT_OF_BOUNDS)
def test_an_as_of_out_of_bounds_is_a_4xx_naming_the_query_field(system, api, keys, as_of):
    office = api.as_key(keys("office"))
    for service, path in [("ledger", "/v1/items"), ("ledger", "/v1/state"), ("ledger", "/v1/tips"),
                          ("assessment", "/v1/assessments/2016")]:
        text = _refused(office.get(service, path, params={"as_of": as_of}))
        assert "2000 to 2999" in text or len(as_of) > 40, text  # a longer one is refused for its length
    if not as_of.isdigit():
        _refused(office.get("ledger", "/v1/reports", params={"year": 2016, "as_of": as_of}))


def test_the_bounds_themselves_are_readable_positions(system, api, keys):
    office = api.as_key(keys("office"))
    assert office.get("ledger", "/v1/items", params={"as_of": "2000-01-01T00:00:00+00:00"}).status_code == 200
    past_head = office.get("ledger", "/v1/items", params={"as_of": str(MAX_POSITION)})
    assert past_head.status_code == 409 and past_head.json()["errors"][0]["field"] == "query:as_of"


def test_a_refused_role_is_named_with_its_article(system, api, keys):
    answer = api.as_key(keys("auditor")).post("notify", "/v1/circulars", json={"year": 2016})
    assert answer.status_code == 403 and "an auditor key cannot do this" in answer.json()["detail"], answer.text
