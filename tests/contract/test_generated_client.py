"""A client generated from the published OpenAPI documents works against the running services
(issue 13): openapi-python-client writes an intake and a ledger client into the test's folder; the
intake client files a report and follows it until recorded, the ledger client reads it back from
the registry, and every error case parses into the documented problem (422 with its fields and
their Chinese, 401, 403, 404, a reused Idempotency-Key, a spreadsheet that is not one, and the
assessment's 409 with the list of what is missing)."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
import uuid

import pytest
import requests

from shared.testing.data import report

pytestmark = pytest.mark.e2e
CONFIG = {"post_hooks": [], "content_type_overrides": {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "application/octet-stream"}}


@pytest.fixture
def backend():
    return "embedded"  # the contract is the HTTP layer's; the backends are covered elsewhere


def generated(system, service: str, folder) -> object:
    """The package openapi-python-client generates from ``service``'s served document, imported."""
    (folder / f"{service}.json").write_text(requests.get(system.urls[service] + "/openapi.json", timeout=10).text)
    (folder / "config.json").write_text(json.dumps(CONFIG))
    package = f"zc_{service}_client_{uuid.uuid4().hex[:8]}"
    done = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(folder / f"{service}.json"),
                           "--meta", "none", "--output-path", str(folder / package), "--config", str(folder / "config.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))


def test_a_generated_client_files_a_report_reads_it_back_and_parses_every_error(system, keys, tmp_path):
    intake = generated(system, "intake", tmp_path)
    ledger = generated(system, "ledger", tmp_path)
    models = importlib.import_module(intake.__name__ + ".models")
    file_report = importlib.import_module(intake.__name__ + ".api.intake.file_report")
    submission = importlib.import_module(intake.__name__ + ".api.intake.submission")
    upload_report = importlib.import_module(intake.__name__ + ".api.intake.upload_report")
    types = importlib.import_module(intake.__name__ + ".types")
    registry = importlib.import_module(ledger.__name__ + ".api.ledger_reads.report_registry")
    region = intake.AuthenticatedClient(base_url=system.urls["intake"], token=keys("region", region="410100"))

    body = report("410100", 2016, entries=2)
    answer = file_report.sync_detailed(client=region, body=models.Report.from_dict(body), idempotency_key="contract-1")
    assert answer.status_code == 202 and isinstance(answer.parsed, models.Accepted), answer.content
    assert answer.headers["Location"] == answer.parsed.status_url
    accepted = answer.parsed
    deadline = time.monotonic() + 30
    status = submission.sync(accepted.submission_id, client=region, wait=5)
    while status.status == "pending" and time.monotonic() < deadline:
        status = submission.sync(accepted.submission_id, client=region, wait=5)
    assert status.status == "recorded" and isinstance(status.seq, int)

    retry = file_report.sync(client=region, body=models.Report.from_dict(body), idempotency_key="contract-1")
    assert retry.submission_id == accepted.submission_id  # a retry answers as the first request did

    reader = ledger.AuthenticatedClient(base_url=system.urls["ledger"], token=keys("auditor"))
    rows = {row.region: row for row in registry.sync(client=reader, year=2016).regions}
    assert rows["410100"].seq == status.seq and rows["410100"].submission_id == accepted.submission_id

    bad = {**report("410100", 2016), "entries": [{**body["entries"][0], "uscc": "91410100AY4CL12THA"}], "signed_by": ""}
    refused = file_report.sync_detailed(client=region, body=models.Report.from_dict(bad))
    assert refused.status_code == 422 and isinstance(refused.parsed, models.Problem)
    assert {error.field for error in refused.parsed.errors} == {"entries[0].uscc", "signed_by"}
    assert all(error.message and error.message_zh for error in refused.parsed.errors)

    reused = file_report.sync_detailed(client=region, body=models.Report.from_dict({**body, "signed_by": "李四"}),
                                       idempotency_key="contract-1")
    assert reused.status_code == 422 and reused.parsed.type_ == "urn:zeroclear:problem:idempotency-conflict"

    stranger = intake.AuthenticatedClient(base_url=system.urls["intake"], token="not-a-key")
    unknown = file_report.sync_detailed(client=stranger, body=models.Report.from_dict(body))
    assert unknown.status_code == 401 and unknown.parsed.type_ == "urn:zeroclear:problem:unauthenticated"
    assert unknown.headers["WWW-Authenticate"].startswith("Bearer")

    other = file_report.sync_detailed(client=region, body=models.Report.from_dict(report("410200", 2016)))
    assert other.status_code == 403 and other.parsed.status == 403

    nowhere = submission.sync_detailed("sub_does_not_exist", client=region)
    assert nowhere.status_code == 404 and nowhere.parsed.type_ == "urn:zeroclear:problem:not-found"

    assessment = generated(system, "assessment", tmp_path)
    publish = importlib.import_module(assessment.__name__ + ".api.assessment.publish")
    publication = importlib.import_module(assessment.__name__ + ".models").Publish.from_dict({})
    office = assessment.AuthenticatedClient(base_url=system.urls["assessment"], token=keys("office"))
    deadline = time.monotonic() + 30
    refused = publish.sync_detailed(2016, client=office, body=publication)
    while not (refused.parsed.missing or time.monotonic() > deadline):  # until it has followed the year's opening
        time.sleep(0.2)
        refused = publish.sync_detailed(2016, client=office, body=publication)
    assert refused.status_code == 409 and refused.parsed.type_ == "urn:zeroclear:problem:inputs-missing"
    missing = {item["region"]: item["criteria"] for item in refused.parsed.missing}
    assert missing["410100"] == [2, 3]

    form = models.UploadReportBody(region="410100", year=2016, document_no="郑政文〔2016〕101号", signed_by="张三",
                                   file=types.File(payload=b"not a spreadsheet", file_name="form.xlsx"))
    broken = upload_report.sync_detailed(client=region, body=form)
    assert broken.status_code == 422 and broken.parsed.errors and broken.parsed.errors[0].message_zh
