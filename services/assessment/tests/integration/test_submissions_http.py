"""The assessment's writes are idempotent submissions (``shared.idempotency``), on the embedded
and the real backend: a retry with the same Idempotency-Key gets the first answer and records
once; the key sent with another body is refused with 422 and changes nothing. One system per
backend serves the module (each test makes its own keys, so its slots are its own)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.assessment.adapters.tables import outbox, submissions

INPUTS = "/v1/assessment-inputs"


@pytest.fixture
def system(module_system):
    return module_system


def _input(score: str) -> dict:
    return {"region": "410100", "year": 2016, "criterion": 2, "score": score, "note": "省办公室评定"}


def _stored(system) -> tuple[int, int]:
    with system.services["assessment"].repo.engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(submissions)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one())


def test_an_input_retried_with_its_idempotency_key_is_answered_the_same_and_recorded_once(system, api, keys):
    office = api.as_key(keys("office"))
    before = _stored(system)
    first = office.post("assessment", INPUTS, json=_input("85.5"), headers={"Idempotency-Key": "c2-zz-2016"})
    again = office.post("assessment", INPUTS, json=_input("85.50"), headers={"Idempotency-Key": "c2-zz-2016"})
    assert first.status_code == again.status_code == 202, first.text
    assert again.json() == first.json()
    status = office.get("assessment", first.json()["status_url"], params={"wait": 10}).json()
    assert status["status"] == "recorded", status
    assert _stored(system) == (before[0] + 1, before[1] + 1)


def test_an_idempotency_key_reused_for_another_input_is_refused_and_changes_nothing(system, api, keys):
    office = api.as_key(keys("office"))
    before = _stored(system)
    first = office.post("assessment", INPUTS, json=_input("85.5"), headers={"Idempotency-Key": "c2-zz-2016"})
    assert first.status_code == 202, first.text
    reused = office.post("assessment", INPUTS, json=_input("60"), headers={"Idempotency-Key": "c2-zz-2016"})
    assert reused.status_code == 422
    assert reused.headers["Content-Type"].startswith("application/problem+json")
    assert reused.json()["type"] == "urn:zeroclear:problem:idempotency-conflict"
    assert reused.json()["title"] == "Idempotency-Key reused"
    other_office = api.as_key(keys("office"))  # another key's slot: the same key name is its own
    assert other_office.post("assessment", INPUTS, json=_input("60"),
                             headers={"Idempotency-Key": "c2-zz-2016"}).status_code == 202
    assert _stored(system) == (before[0] + 2, before[1] + 2)
