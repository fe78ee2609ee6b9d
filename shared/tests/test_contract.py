"""shared/contract.py finishes an OpenAPI document: what each operation gets from what it declares."""
from shared.contract import PROBLEM, Operation, compose, finish

SCHEMAS = {"Problem": {"type": "object"}, "Accepted": {"type": "object", "properties": {
    "submission_id": {"type": "string"}, "seq": {"type": "integer"}, "region": {"type": "string"},
    "completeness": {"type": "number"}, "filed_at": {"type": "string"}}}}


def document() -> dict:
    ok = {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}}}
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "v1"}, "components": {"schemas": SCHEMAS}, "paths": {
        "/v1/things": {"post": {"operationId": "file_thing", "summary": "File a thing", "security": [{"bearerAuth": []}],
                                "x-roles": ["region", "office"], "responses": {"202": ok},
                                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}},
        "/v1/things/{thing_id}": {"get": {"operationId": "thing", "summary": "A thing", "responses": {"200": ok},
                                          "parameters": [{"name": "as_of", "in": "query", "description": "a seq",
                                                          "schema": {"type": "string"}}]}}}}


def test_a_keyed_write_gets_its_security_problems_headers_and_examples():
    done = finish(document(), {"file_thing": Operation(zh="报送", request={"a": 1}, idempotent=True, location=True,
                                                       errors={409: "already there"})})
    op = done["paths"]["/v1/things"]["post"]
    assert op["summary"] == "File a thing · 报送" and "Keys: region, office." in op["description"]
    assert {"400", "401", "403", "409", "413", "415", "422", "503", "default"} <= set(op["responses"])
    assert "404" not in op["responses"] and "x-roles" not in op
    assert all(list(op["responses"][s]["content"]) == [PROBLEM] for s in ("401", "409", "503", "default"))
    assert op["responses"]["409"]["description"] == "already there"
    assert "Retry-After" in op["responses"]["503"]["headers"] and "WWW-Authenticate" in op["responses"]["401"]["headers"]
    assert "Location" in op["responses"]["202"]["headers"]
    assert [p["name"] for p in op["parameters"]] == ["Idempotency-Key"]
    assert op["requestBody"]["content"]["application/json"]["example"] == {"a": 1}
    assert {"/health/live", "/health/ready"} <= set(done["paths"])


def test_a_public_read_says_so_and_a_position_past_the_head_is_its_409():
    op = finish(document(), {})["paths"]["/v1/things/{thing_id}"]["get"]
    assert op["security"] == [] and "401" not in op["responses"]
    assert {"400", "404", "409", "422", "503"} <= set(op["responses"])


def test_units_are_written_into_the_schemas_and_examples_are_composed_from_them():
    accepted = finish(document(), {})["components"]["schemas"]["Accepted"]["properties"]
    assert "ledger seq" in accepted["seq"]["description"] and "UTC" in accepted["filed_at"]["description"]
    assert "percentage" in accepted["completeness"]["description"] and "410100" in accepted["region"]["description"]
    example = compose({"$ref": "#/components/schemas/Accepted"}, SCHEMAS)
    assert example["region"] == "410100" and example["seq"] > 0 and 0 <= example["completeness"] <= 100
    assert example["filed_at"].endswith("Z")
