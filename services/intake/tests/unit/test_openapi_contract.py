"""intake's OpenAPI document is the agencies' contract (issue 13): valid OpenAPI, and every operation
with its security requirement, operationId, English and Chinese summary, problem+json answers
and examples that match their schemas."""
from openapi_spec_validator import validate

from shared.testing.openapi import contract_gaps, operations, service_document


def test_the_document_is_valid_and_every_operation_is_complete(tmp_path):
    document = service_document("intake", tmp_path)
    validate(document)
    assert contract_gaps(document) == []
    assert {"/health/live", "/health/ready"} <= set(document["paths"])
    assert any(op["security"] == [{"bearerAuth": []}] for _, _, op in operations(document))


def test_the_upload_is_multipart_with_its_file_and_errors_name_their_cells(tmp_path):
    document = service_document("intake", tmp_path)
    upload = document["paths"]["/v1/reports/upload"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary", "description": form["properties"]["file"]["description"]}
    assert "file" in form["required"]
    field_error = document["components"]["schemas"]["FieldError"]["properties"]
    assert {"field", "message", "message_zh", "row", "column", "header"} <= set(field_error)
    report = document["paths"]["/v1/reports"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in report["parameters"])
    assert "Location" in report["responses"]["202"]["headers"]
    assert set(report["responses"]) >= {"400", "401", "403", "413", "415", "422", "503"}
    assert "Retry-After" in document["paths"]["/v1/tips"]["post"]["responses"]["429"]["headers"]
