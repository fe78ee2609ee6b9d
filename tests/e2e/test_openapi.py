"""The published OpenAPI documents are valid, and the services behave as they say (issue 10 item
10, issue 13): schemathesis generates requests from each document — well-formed and not — with an
office key and a region key, bounded so the run stays well under a minute, and every answer must be
no server error, a documented status with its documented media type, body schema and headers, a
key required where the document says so, and a request the document forbids refused. The cases are
derandomized: every run sends the same ones (a failure reproduces; CI does not flicker)."""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance, ignored_auth, missing_required_header, negative_data_rejection, not_a_server_error,
    response_headers_conformance, response_schema_conformance, status_code_conformance,
)

pytestmark = pytest.mark.e2e
FUZZED = ("intake", "ledger", "assessment", "notify")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, ignored_auth, negative_data_rejection, missing_required_header]
EXAMPLES = 6  # per operation, key and mode: about 1,000 cases in all


@pytest.fixture
def backend():
    return "embedded"  # the fuzzing exercises the HTTP layer; the backends are covered elsewhere


@pytest.mark.parametrize("service", FUZZED)
def test_every_service_publishes_a_valid_openapi_document(system, service):
    document = requests.get(system.urls[service] + "/openapi.json", timeout=10).json()
    validate(document)
    assert document["info"]["title"] == f"zeroclear {service}"


@pytest.mark.parametrize("service", FUZZED)
def test_generated_requests_get_the_documented_answers_and_never_a_server_error(system, keys, service, request):
    schema = schemathesis.openapi.from_url(system.urls[service] + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    credentials = {"office": keys("office"), "region": keys("region", region="410100")}
    failures: dict[str, set[str]] = {}
    cases = 0

    for operation in operations:
        for role, key in credentials.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate], derandomize=True,
                          suppress_health_check=list(HealthCheck))
                def call(case):
                    nonlocal cases
                    cases += 1
                    try:
                        case.call_and_validate(base_url=system.urls[service], headers={"Authorization": f"Bearer {key}"},
                                               checks=CHECKS)
                    except AssertionError as failure:  # every distinct failure is kept, not only the first
                        failures.setdefault(f"{operation.label} ({role} key)", set()).add(str(failure)[:600])

                try:
                    call()
                except Unsatisfiable:
                    assert mode == GenerationMode.NEGATIVE  # an operation without inputs has nothing to get wrong
    request.node.user_properties.append(("fuzz_cases", cases))
    print(f"\n{service}: {cases} generated requests")
    assert cases > 10 * len(operations)
    assert failures == {}
