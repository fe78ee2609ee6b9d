"""The agencies' contract as tests see it: a service's finished OpenAPI document, built from its
app without serving it, and the list of what an operation lacks (shared/contract.py)."""
from __future__ import annotations

import json
import re
from typing import Iterator

from openapi_schema_validator import OAS30Validator

from shared.contract import METHODS, PROBLEM

CJK = re.compile(r"[\u4e00-\u9fff]")
#: what an agency's problem answers must declare, when the operation can give them
PROBLEM_REF = "#/components/schemas/Problem"


def service_document(name: str, folder) -> dict:
    """``name``'s OpenAPI document as its app serves it, on SQLite files in ``folder`` and the
    in-process broker (no server, no other service)."""
    from shared.broker import Broker
    from shared.config import Settings
    from shared.keys import KeyStore, migrate_keys
    from shared.reference import default_reference
    from shared.topology import Topology
    from zeroclear.services import parts

    env = {"ZEROCLEAR_DATA_DIR": str(folder), "ZEROCLEAR_NOTIFY_SCHEDULE_SECONDS": "0"}
    settings = Settings.from_env(name, env, service_key="unused", ledger_url="http://127.0.0.1:9",
                                 assessment_url="http://127.0.0.1:9")
    migrate_keys(settings.auth_database_url)
    keys = KeyStore.from_url(settings.auth_database_url)
    p = parts(name)
    service = p.bootstrap(settings, reference=default_reference(), keys=keys,
                          broker=Broker(settings.broker_url, Topology(f"doc-{name}")))
    try:
        response = p.create_app(service).test_client().get("/openapi.json")
        assert response.status_code == 200, response.data
        return json.loads(response.data)  # plain floats: not the strict provider's Decimals
    finally:
        service.close()
        keys.engine.dispose()


def operations(document: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def contract_gaps(document: dict) -> list[str]:
    """Everything an operation of ``document`` lacks to be the contract of issue 13, as readable lines."""
    gaps: list[str] = []
    seen: set[str] = set()
    validator = _example_validator(document)
    for path, method, op in operations(document):
        where = f"{method.upper()} {path}"
        op_id = op.get("operationId")
        if not op_id or op_id in seen:
            gaps.append(f"{where}: operationId missing or repeated ({op_id})")
        seen.add(op_id or "")
        if not CJK.search(op.get("summary", "")) or not re.search(r"[A-Za-z]{3}", op.get("summary", "")):
            gaps.append(f"{where}: the summary needs English and Chinese (entrypoints/contract.py)")
        if "security" not in op:
            gaps.append(f"{where}: no security requirement (not even [] for a public one)")
        responses = op.get("responses", {})
        needed = {"503"} | ({"401", "403"} if op.get("security") else set())
        needed |= {"422"} if op.get("requestBody") or op.get("parameters") else set()
        for status in sorted(needed - set(responses)):
            gaps.append(f"{where}: the {status} answer is not declared")
        for status, response in responses.items():
            if status == "default" or int(status) >= 400:
                content = response.get("content", {})
                if list(content) != [PROBLEM] or content[PROBLEM]["schema"].get("$ref") != PROBLEM_REF:
                    gaps.append(f"{where}: {status} is not documented as {PROBLEM} with the Problem schema")
            if status in ("429", "503") and "Retry-After" not in response.get("headers", {}):
                if not path.startswith("/health/"):
                    gaps.append(f"{where}: {status} without its Retry-After header")
            for media_type, media in response.get("content", {}).items():
                if media_type.endswith("json"):
                    gaps += [f"{where}: {status} {message}" for message in _example_problems(media, validator)]
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            if media_type.endswith("json"):
                gaps += [f"{where}: request body {message}" for message in _example_problems(media, validator)]
    return gaps


def _example_problems(media: dict, validator) -> list[str]:
    if "example" not in media:
        return ["has no example"]
    schema = media.get("schema", {})
    return [f"example does not match its schema: {error.message} at {list(error.absolute_path)}"
            for error in validator(schema).iter_errors(media["example"])]


def _example_validator(document: dict):
    """A validator of OpenAPI 3.0 schemas that resolves ``#/components/...`` in ``document``."""
    components = document.get("components", {})

    def make(schema: dict):  # the components beside the schema: "#/components/..." resolves in it
        return OAS30Validator({**schema, "components": components})

    return make
