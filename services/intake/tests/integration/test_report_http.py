"""Intake's HTTP API refuses every bad report with a clear 4xx ``application/problem+json``
naming the field — and records nothing: no submission in intake, no event on the ledger, the
ledger's verified count unchanged. Runs on the embedded and the real backend, one system per
backend for the whole module (the refusals leave it untouched; the last test proves it)."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from services.intake.adapters.tables import outbox, submissions
from shared.testing import data
from shared.testing.client import Api

from ..cases import BAD, BAD_IDS, REGION, by_field

PROBLEM = "application/problem+json"
REPORTS = "/v1/reports"


@pytest.fixture
def system(module_system):
    return module_system


@pytest.fixture(scope="module")
def module_keys(module_system) -> dict[str, str]:
    return {"filer": module_system.keys.create("region", region=REGION)[0], "auditor": module_system.keys.create("auditor")[0]}


@pytest.fixture
def filer(api, module_keys) -> Api:
    return api.as_key(module_keys["filer"])


@pytest.fixture
def auditor(api, module_keys) -> Api:
    return api.as_key(module_keys["auditor"])


@dataclass(frozen=True)
class Snapshot:
    ledger_count: int
    submissions: int
    outbox_rows: int


def snapshot(system, api: Api) -> Snapshot:
    with system.services["intake"].repo.engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(submissions)).scalar_one()
        staged = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
    return Snapshot(api.get("ledger", "/v1/verify").json()["count"], rows, staged)


@pytest.fixture
def nothing_recorded(system, api, auditor):
    """Call it after the refused request: intake stored nothing, the ledger's log did not grow,
    and its feed shows no report carrying the request's document number."""
    before = snapshot(system, api)

    def check(document_no: str | None = None) -> None:
        assert snapshot(system, api) == before
        verdict = api.get("ledger", "/v1/verify").json()
        assert verdict["ok"] is True
        if document_no is not None:
            events = auditor.get("ledger", "/v1/events", params={"after": 0, "limit": 1000}).json()["events"]
            assert [e for e in events if e["payload"].get("document_no") == document_no] == []
    return check


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("urn:zeroclear:problem:")
    return body


def doc_no() -> str:
    return f"豫测〔2016〕{secrets.token_hex(6)}号"


@pytest.mark.parametrize("case", BAD, ids=BAD_IDS)
def test_each_bad_report_gets_a_problem_naming_the_field_and_nothing_is_recorded(case, filer, nothing_recorded):
    document_no = doc_no()
    problem = assert_problem(filer.file_report(case.body(document_no)), 422)
    assert set(by_field(problem["errors"])) == set(case.fields), problem["errors"]
    nothing_recorded(document_no)


def _post_raw(api: Api, body: bytes, content_type: str | None = "application/json", **kwargs):
    headers = {"Content-Type": content_type} if content_type else {}
    return api.post("intake", REPORTS, data=body, headers=headers, **kwargs)


@pytest.mark.parametrize("body", [
    b'{"region": "410100",', b"{'region': '410100'}", b'{"region": "410100"} trailing', b"",
    b'{"year": NaN}', b'{"year": Infinity}', b'{"region": "\xff\xfe"}',
], ids=["truncated", "single quotes", "trailing garbage", "empty", "NaN literal", "Infinity literal", "not UTF-8"])
def test_malformed_json_is_a_400(body, filer, nothing_recorded):
    problem = assert_problem(_post_raw(filer, body), 400)
    assert problem["type"] == "urn:zeroclear:problem:malformed-json"
    nothing_recorded()


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000],
                         ids=["arrays", "objects"])
def test_json_nested_too_deeply_is_a_400_not_a_500(body, filer, nothing_recorded):
    assert_problem(_post_raw(filer, body), 400)
    nothing_recorded()


@pytest.mark.parametrize("body", [b"null", b"[]", b'"a report"', b"42", b"true"])
def test_a_json_body_that_is_not_an_object_is_a_422_about_the_whole_body(body, filer, nothing_recorded):
    problem = assert_problem(_post_raw(filer, body), 422)
    assert [e["field"] for e in problem["errors"]] == ["$"]  # the body itself
    nothing_recorded()


@pytest.mark.parametrize("value", ["has spaces", "x" * 201, ""], ids=["spaces", "too long", "empty"])
def test_a_malformed_idempotency_key_is_a_400_naming_the_header(value, filer, nothing_recorded):
    response = filer.post("intake", REPORTS, json=data.report(REGION, entries=1), headers={"Idempotency-Key": value})
    problem = assert_problem(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["header:Idempotency-Key"]
    nothing_recorded()


@pytest.mark.parametrize("body", [
    '{"region": "410100", "region": "410200"}',
    json.dumps(data.report(REGION, entries=1), ensure_ascii=False)[:-1] + ', "year": 2016}',
    json.dumps(data.report(REGION, entries=1), ensure_ascii=False).replace('"unit": "万吨"', '"unit": "万吨", "unit": "万米"'),
], ids=["at the top", "year twice", "inside an entry"])
def test_duplicate_json_keys_are_a_400(body, filer, nothing_recorded):
    problem = assert_problem(_post_raw(filer, body.encode()), 400)
    assert "duplicate key" in problem["detail"]
    nothing_recorded()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_a_body_that_is_not_json_by_content_type_is_a_415(content_type, filer, nothing_recorded):
    body = json.dumps(data.report(REGION, entries=1)).encode()
    assert_problem(_post_raw(filer, body, content_type), 415)
    nothing_recorded()


def _five_megabytes() -> bytes:
    return json.dumps(data.report(REGION, entries=1) | {"signed_by": "张" * (5 * 1024 * 1024 // 3)},
                      ensure_ascii=False).encode()


def test_a_five_megabyte_body_is_a_413(filer, nothing_recorded):
    body = _five_megabytes()
    assert len(body) > 5_000_000
    problem = assert_problem(_post_raw(filer, body), 413)
    assert problem["type"] == "urn:zeroclear:problem:too-large"
    nothing_recorded()


def test_a_five_megabyte_body_sent_in_chunks_is_a_413_too(filer, nothing_recorded):
    body = _five_megabytes()
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    assert_problem(_post_raw(filer, chunks), 413)
    nothing_recorded()


def test_filing_without_a_key_is_a_401_inviting_a_bearer_key(api, nothing_recorded):
    response = api.file_report(data.report(REGION, entries=1))
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    basic = api.post("intake", REPORTS, json=data.report(REGION, entries=1), headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert_problem(basic, 401)
    assert basic.headers["WWW-Authenticate"].startswith("Bearer")
    nothing_recorded()


def test_filing_with_an_unknown_or_revoked_key_is_a_401(api, system, keys, nothing_recorded):
    unknown = api.as_key("zc_k000000000000_" + secrets.token_urlsafe(32)).file_report(data.report(REGION, entries=1))
    assert_problem(unknown, 401)
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    key, principal = system.keys.create("region", region=REGION)
    system.keys.revoke(principal.key_id)
    assert_problem(api.as_key(key).file_report(data.report(REGION, entries=1)), 401)
    nothing_recorded()


@pytest.mark.parametrize("role, scope", [("auditor", {}), ("department", {"department": "industry"})], ids=["auditor", "department"])
def test_an_auditor_or_a_department_key_filing_a_report_is_a_403(role, scope, api, keys, nothing_recorded):
    document_no = doc_no()
    response = api.as_key(keys(role, **scope)).file_report(data.report(REGION, entries=1, document_no=document_no))
    assert_problem(response, 403)
    nothing_recorded(document_no)


def test_a_region_key_filing_for_another_region_is_a_403(filer, nothing_recorded):
    document_no = doc_no()
    for other in ("410200", "419001"):
        response = filer.file_report(data.report(other, entries=1, document_no=document_no))
        assert_problem(response, 403)
        assert REGION in response.json()["detail"] and other in response.json()["detail"]
    nothing_recorded(document_no)


def test_a_region_key_filing_for_another_region_with_an_idempotency_key_is_refused_every_time(filer, nothing_recorded):
    body = data.report("410200", entries=1)
    for _ in range(2):
        assert_problem(filer.file_report(body, idempotency_key="other-region-1"), 403)
    nothing_recorded()


def test_the_status_of_an_unknown_submission_is_a_404(filer, auditor):
    for reader in (filer, auditor):
        assert_problem(reader.get("intake", "/v1/submissions/00000000-0000-4000-8000-000000000000"), 404)
        assert_problem(reader.get("intake", "/v1/submissions/not-even-a-uuid"), 404)


def test_a_region_asking_for_another_regions_submission_gets_a_404_not_a_403(api, keys, filer, auditor):
    luoyang = api.as_key(keys("region", region="410300"))
    accepted = luoyang.file_report(data.report("410300", entries=1))
    assert accepted.status_code == 202, accepted.text
    status_url = accepted.json()["status_url"]
    decided = luoyang.wait_decided(accepted.json()["submission_id"])
    assert decided["status"] == "recorded"

    other_region = filer.get("intake", status_url)
    assert_problem(other_region, 404)
    assert other_region.json()["detail"] == filer.get("intake", "/v1/submissions/00000000-0000-4000-8000-000000000000").json()["detail"]
    assert_problem(api.as_key(keys("department", department="safety")).get("intake", status_url), 404)
    assert auditor.get("intake", status_url).json()["seq"] == decided["seq"]
    assert api.as_key(keys("region", region="410300")).get("intake", status_url).status_code == 200


def test_after_all_those_refusals_the_regions_first_real_report_is_recorded_as_its_first(filer, auditor):
    """Defined last: runs after every refusal above on the same system. Had any of them been
    recorded for Zhengzhou 2016, this report would be rejected as a duplicate."""
    decided = filer.wait_decided(filer.file_report(data.report(REGION, entries=2)).json()["submission_id"])
    assert decided["status"] == "recorded", decided
    events = auditor.get("ledger", "/v1/events", params={"after": 0, "limit": 1000}).json()["events"]
    assert [e["id"] for e in events if e["region"] == REGION] == [decided["submission_id"]]
    assert [e["type"] for e in events] == ["ledger.year_opened.v1", "intake.report_filed.v1", "intake.report_filed.v1"]
