"""ledger's OpenAPI document is the agencies' contract (issue 13): valid OpenAPI, and every operation
with its security requirement, operationId, English and Chinese summary, problem+json answers
and examples that match their schemas."""
from openapi_spec_validator import validate

from shared.testing.openapi import contract_gaps, operations, service_document


def test_the_document_is_valid_and_every_operation_is_complete(tmp_path):
    document = service_document("ledger", tmp_path)
    validate(document)
    assert contract_gaps(document) == []
    assert {"/health/live", "/health/ready"} <= set(document["paths"])
    assert any(op["security"] == [{"bearerAuth": []}] for _, _, op in operations(document))
