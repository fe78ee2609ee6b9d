"""The published OpenAPI documents are valid, and no request generated from them — well-formed
or not — makes a service answer with a server error (schemathesis, against the running system)."""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.e2e
FUZZED = ("intake", "ledger", "assessment", "notify")


@pytest.fixture
def backend():
    return "embedded"  # the fuzzing exercises the HTTP layer; the backends are covered elsewhere


@pytest.mark.parametrize("service", ["intake", "ledger", "assessment", "notify"])
def test_every_service_publishes_a_valid_openapi_document(system, service):
    document = requests.get(system.urls[service] + "/openapi.json", timeout=10).json()
    validate(document)
    assert document["info"]["title"] == f"zeroclear {service}"


@pytest.mark.parametrize("service", FUZZED)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_generated_request_gets_a_server_error(system, keys, service, mode):
    schema = schemathesis.openapi.from_url(system.urls[service] + "/openapi.json")
    headers = {"Authorization": f"Bearer {keys('office')}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(base_url=system.urls[service], headers=headers, checks=[not_a_server_error])

        try:
            call()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # an operation without inputs has nothing to get wrong
