"""The agencies' contract: every service's OpenAPI document finished in one place (issue 13).

flask-smorest documents what the decorators say (the body, the success answer); this module adds
what an integrator needs and what is the same everywhere, so no endpoint repeats it by hand:

- the bearer security requirement of each operation behind ``require`` (and ``security: []`` on
  the public ones), with the roles whose keys it accepts;
- every answer it can give besides success — 400, 401, 403, 404, 409, 413, 415, 422, 429, 503 as
  they apply — as ``application/problem+json`` with the real problem schema and an example;
- ``Idempotency-Key`` (what a retry returns, what a reused key with another body returns),
  ``Location``, ``Retry-After`` and ``WWW-Authenticate`` headers;
- a summary in English and Chinese and an example request and answer for each operation (from
  the service's ``contract.py``; an answer without one is composed from its schema with realistic
  values: Chinese names, Henan region codes);
- units and meanings of the recurring fields (seqs, instants, dates, percentages);
- ``/health/live`` and ``/health/ready``.

Each service lists its operations' Chinese summaries and examples in ``entrypoints/contract.py``;
the test of each service holds the finished document to openapi-spec-validator and checks that
every operation is complete and every example matches its schema.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

PROBLEM = "application/problem+json"
JSON = "application/json"
BEARER = [{"bearerAuth": []}]
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    """What the decorators cannot say about one operation (keyed by its operationId)."""

    zh: str  # the summary in Chinese
    request: Any = None  # an example body
    response: Any = None  # an example success answer (composed from the schema when None)
    errors: Mapping[int, str] = field(default_factory=dict)  # statuses particular to it (409: why)
    idempotent: bool | Mapping = False  # accepts Idempotency-Key (a mapping: how this one differs)
    location: bool = False  # its success answer names the submission's status URL in Location
    rate_limited: bool = False  # answers 429 with Retry-After
    request_body: Mapping | None = None  # replaces the documented body (a multipart upload)
    response_media: str | tuple[str, ...] | None = None  # a success answer that is not (only) JSON: its media types
    also: Mapping[int, str] = field(default_factory=dict)  # other success statuses with the same body (200: why)


# --- the answers every operation may give ----------------------------------------------------
RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1},
               "example": 5}
WWW_AUTHENTICATE = {"description": "the scheme to authenticate with", "schema": {"type": "string"},
                    "example": 'Bearer realm="zeroclear"'}
COMMON_ERRORS: dict[int, str] = {
    400: "Malformed request: the body is not valid JSON (or holds NaN, Infinity, a duplicate key), or a header "
         "such as Idempotency-Key is malformed (named in `errors`).",
    401: "No key, or a key that is unknown or revoked: send `Authorization: Bearer <key>`.",
    403: "The key's role (or its region, its department) may not do this.",
    404: "Not found — or not yours: another region's record answers as if it did not exist.",
    409: "Conflict with the state of the ledger.",
    413: "The body is larger than the service accepts (2 MiB by default).",
    415: "The body must be application/json.",
    422: "A field is not acceptable: `errors` names each one (its path, the reason in English and in "
         "Chinese; a spreadsheet's row, column and header). Nothing was stored. A reused Idempotency-Key "
         "with another body answers 422 too (type urn:zeroclear:problem:idempotency-conflict).",
    429: "Too many requests from this client: wait `Retry-After` seconds.",
    503: "A dependency (the service's database, the broker, the assessment) is unavailable: nothing was "
         "stored; retry after `Retry-After` seconds.",
}
PROBLEM_EXAMPLES: dict[int, dict] = {
    400: {"type": "urn:zeroclear:problem:malformed-json", "title": "Malformed JSON", "status": 400,
          "detail": "the body is not valid JSON: Expecting ',' delimiter: line 1 column 42 (char 41)"},
    401: {"type": "urn:zeroclear:problem:unauthenticated", "title": "Authentication required", "status": 401,
          "detail": "send Authorization: Bearer <key>"},
    403: {"type": "urn:zeroclear:problem:forbidden", "title": "Not allowed", "status": 403,
          "detail": "a department key cannot do this"},
    404: {"type": "urn:zeroclear:problem:not-found", "title": "Not found", "status": 404,
          "detail": "no such submission"},
    409: {"type": "urn:zeroclear:problem:conflict", "title": "Conflict", "status": 409,
          "detail": "the request conflicts with the state of the ledger"},
    413: {"type": "urn:zeroclear:problem:too-large", "title": "Request body too large", "status": 413,
          "detail": "the body may be at most 2097152 bytes"},
    415: {"type": "urn:zeroclear:problem:media-type", "title": "Unsupported media type", "status": 415,
          "detail": "send the body as application/json"},
    422: {"type": "urn:zeroclear:problem:validation", "title": "Invalid request", "status": 422,
          "detail": "2 field(s) are not acceptable",
          "errors": [{"field": "entries[0].uscc", "message": "Not a valid unified social credit code",
                      "message_zh": "统一社会信用代码校验位错误"},
                     {"field": "signed_by", "message": "Missing data for required field.",
                      "message_zh": "缺少必填字段"}]},
    429: {"type": "urn:zeroclear:problem:rate-limited", "title": "Too many tips", "status": 429,
          "detail": "try again later"},
    503: {"type": "urn:zeroclear:problem:unavailable", "title": "Service unavailable", "status": 503,
          "detail": "the database is unavailable; retry shortly"},
}

# --- units and meanings of the recurring fields ------------------------------------------------
SEQ = ("a ledger seq: an event's position on the log (1, 2, 3, … without gaps; "
       "the same number on every service, in /v1/events and in the event stream)")
INSTANT = "an instant, RFC 3339 in UTC (suffix Z), e.g. 2016-11-15T02:30:00.000000Z = 10:30 in Henan (UTC+8)"
DATE = "a calendar date (YYYY-MM-DD) in China Standard Time (Asia/Shanghai, UTC+8), the campaign's business calendar"
PERCENT = "a percentage, 0 to 100"
REGION = "a region's 6-digit administrative division code (GB/T 2260), e.g. 410100 郑州市, 410200 开封市"
MEANINGS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^(seq|head|after|position|corrects|.*_seq|seq_.*|head_.*|last_seq)$"), SEQ),
    (re.compile(r"^(at|.*_at|time|timestamp|now|business_time|deadline|.*_deadline|cut_off)$"), INSTANT),
    (re.compile(r"^(.*_on|date|.*_date|due|report_due)$"), DATE),
    (re.compile(r"^(completeness|.*percent.*|.*_rate|rate|share|.*_share)$"), PERCENT),
    (re.compile(r"^region$"), REGION),
    (re.compile(r"^year$"), "the campaign year (Gregorian) the record belongs to"),
    (re.compile(r"^capacity$"), "the capacity in `unit` (万吨, 万千瓦…), an exact decimal written as a string"),
]
#: realistic values by field name, for parameters and the answers composed from their schemas
VALUES: dict[str, Any] = {
    "region": "410100", "year": 2016, "county": "中牟县", "enterprise": "河南省第1钢铁有限公司",
    "uscc": "91410100AY4CL12THU", "signed_by": "张三", "document_no": "郑政文〔2016〕100号",
    "equipment": "30吨转炉", "capacity": "12.5", "industry": "炼钢", "unit": "万吨", "method": "拆除",
    "item_id": "410100-2016-12-1", "submission_id": "sub_5f3c2a9e7b1d4c08a6e2f41b9d7c3e10",
    "tip_id": "tip_3e1f5a7c9b2d4e6f", "name": "郑州市", "agency": "河南省生态环境厅", "department": "environment",
    "hash": "9f2c6d0e4b7a1c3e5d8f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d",
    "prev_hash": "5d8f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d9f2c6d0e4b7a1c3e",
    "digest": "3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d9f2c6d0e4b7a1c3e5d8f0a2b4c6d8e0f1a",
    "reason": "补报遗漏的一条生产线", "note": "实地核查确认", "explanation": "经现场核查，该企业已于2016年6月关停",
    "evidence": "拆除验收报告 郑工信〔2016〕58号", "location": "郑州市中牟县官渡镇", "contact": "",
    "description": "夜间仍在生产，烟囱冒黑烟", "receipt": "R-7Q4K-9M2X-PL3D-8WZT", "address": "https://hooks.example.gov.cn/zeroclear",
    "status_url": "/v1/submissions/sub_5f3c2a9e7b1d4c08a6e2f41b9d7c3e10", "period": "2016-11",
    "limit": 100, "count": False, "cursor": "410100-2016-12-1", "wait": 0, "score": "85.5", "criterion": 2,
    "completeness": "100", "type": "report.filed", "event_type": "report.filed", "title": "2016年度淘汰落后产能工作通报",
    "next": "410100-2016-12-2", "target_source": "大气污染防治", "remarks": "", "elimination_method": "拆除",
    "recorded_status": "registered", "stream": "report:410100:2016", "actor": "region:410100", "kind": "report",
    "grade": "好", "detail": "2016年二季度在线监测超标", "basis": "emissions", "channel": "webhook", "rule": "report_missing",
    "level": "region", "topic": "alerts", "resolution": "unfounded", "decision": "verified", "duplicate_of": None,
    "subject": "410100", "recipient": "郑州市工业和信息化局", "case": "2016年度排查登记表逾期未报",
    "case_en": "2016 registration form overdue", "reason_en": "the report was due on 2016-11-30", "message_type":
    "intake.report_filed.v1", "message_id": "msg_7b1d4c08a6e2f41b", "time_zone": "Asia/Shanghai",
    "alert_id": "alr_2016_410200_report", "as_of": "2016-12-01T00:00:00.000000Z", "id": "evt_4c2a9e7b1d5f3a8c",
    "causation_id": "msg_7b1d4c08a6e2f41b", "correlation_id": "sub_5f3c2a9e7b1d4c08a6e2f41b9d7c3e10",
    "assessment_digest": "3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d9f2c6d0e4b7a1c3e5d8f0a2b4c6d8e0f1a",
    "payload_hash": "1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d9f2c6d0e4b7a1c3e5d8f0a2b4c6d8e0f",
    "json_sha256": "0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
    "html_sha256": "8192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80f1a2b3c4d5e6f70",
    "pdf_sha256": "c5d6e7f8091a2b3c4d5e6f708192a3b40f1a2b3c4d5e6f708192a3b4c5d6e7f8",
    "last_error": "webhook answered 503", "rejection_reason": "现场核查：设备仍在", "report_due": "2016-11-15",
    "ref_id": "410100-2016-12-1", "secret": None, "webhook_secret": None, "status": "recorded", "topics": "alerts", "fmt": "pdf", "circular_id": "circ_2016_11", "subscription_id": "sub_w_1", "delivery_id": "dlv_1",
}


def finish(document: dict, operations: Mapping[str, Operation]) -> dict:
    """The document as flask-smorest built it, completed as this module's docstring says."""
    doc = copy.deepcopy(document)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for response in components.get("responses", {}).values():
        _as_problem(response)
    for name, schema in schemas.items():
        _explain_properties(schema)
    doc.setdefault("paths", {}).update(_health_paths())
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                _finish_operation(path, method, item[method], operations, schemas)
    doc.setdefault("info", {})["description"] = (
        "Errors are RFC 9457 problem details (application/problem+json). Keys: `Authorization: Bearer <key>`, "
        "made by the operator (`zeroclear keys create`). Positions are ledger seqs; instants are UTC; dates are "
        "China Standard Time. The browsable reference of this document is at /docs.")
    return doc


def _finish_operation(path: str, method: str, op: dict, operations: Mapping[str, Operation], schemas: dict) -> None:
    op_id = op.get("operationId") or f"{method}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}"
    op["operationId"] = op_id
    spec = operations.get(op_id) or Operation(zh="")
    if spec.zh and spec.zh not in op.get("summary", ""):
        op["summary"] = f"{op.get('summary', op_id)} · {spec.zh}"
        op["x-summary-zh"] = spec.zh
    roles = op.pop("x-roles", None)
    if op.get("security"):
        op["description"] = (op.get("description", "") + f"\n\nKeys: {', '.join(roles or [])}.").strip()
    else:
        op["security"] = []  # public: no key needed
    if spec.request_body is not None:
        op["requestBody"] = copy.deepcopy(dict(spec.request_body))
    body = op.get("requestBody")
    if body is not None and spec.request is not None:
        for media in body.get("content", {}).values():
            media["example"] = spec.request
    params = op.setdefault("parameters", [])
    for param in params:
        _explain_parameter(param)
    if spec.idempotent:
        params.append({**idempotency_parameter(), **(spec.idempotent if isinstance(spec.idempotent, Mapping) else {})})
    if not params:
        op.pop("parameters")

    responses = op.setdefault("responses", {})
    statuses = {503}
    if op["security"]:
        statuses |= {401, 403}
    if body is not None:
        statuses |= {413, 422}
        if JSON in body.get("content", {}):
            statuses |= {400, 415}
    if spec.idempotent:
        statuses |= {400, 422}
    if params or "{" in path:
        statuses.add(422)
    if "{" in path:
        statuses.add(404)
    if spec.rate_limited:
        statuses.add(429)
    errors = dict(spec.errors)
    if any(param.get("name") == "as_of" and "seq" in param.get("description", "") for param in params):
        statuses |= {400, 409}
        errors.setdefault(409, "as_of names a position past the head of the log (errors: query:as_of, at most the head)")
    statuses |= set(errors)
    for status in sorted(statuses):
        responses[str(status)] = _problem_response(status, errors.get(status))
    responses["default"] = _problem_response(None, "Any other error, as problem details.")
    success = next((response for status, response in responses.items() if str(status).startswith("2")), None)
    for status, why in spec.also.items():
        responses[str(status)] = {**copy.deepcopy(success), "description": why}
    for status, response in responses.items():
        if str(status).startswith("2"):
            _finish_success(response, spec, schemas, status)


def _finish_success(response: dict, spec: Operation, schemas: dict, status) -> None:
    content = response.setdefault("content", {}) if str(status) != "204" else {}
    if spec.response_media:
        media_types = (spec.response_media,) if isinstance(spec.response_media, str) else spec.response_media
        for media_type in list(content):
            if media_type not in media_types:
                content.pop(media_type)
        for media_type in media_types:
            content.setdefault(media_type, {"schema": {"type": "object"} if media_type == JSON
                                            else {"type": "string", "format": "binary"}})
    for media_type, media in content.items():
        if media_type == JSON and "example" not in media:
            media["example"] = spec.response if spec.response is not None else compose(media.get("schema", {}), schemas)
        elif media_type.endswith("json") and "example" not in media and spec.response is not None:
            media["example"] = spec.response  # JSON of another kind (JSON Lines): its example as given
    if spec.location:
        response.setdefault("headers", {})["Location"] = {
            "description": "the submission's status URL (the same as status_url): GET it until recorded or rejected",
            "schema": {"type": "string"}, "example": VALUES["status_url"]}


def idempotency_parameter() -> dict:
    return {"name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[\x21-\x7e]+$"},
            "example": "6f1c2e9a-4b7d-4e2a-9c3f-2d8b7a1e5c40",
            "description": "Makes a retry safe (SPEC §4). A retry with the same key and the same body answers as the "
                           "first request did (the same submission, nothing filed twice); the same key with another "
                           "body answers 422 (type urn:zeroclear:problem:idempotency-conflict) and files nothing. "
                           "Keys are kept per caller; 1 to 200 visible ASCII characters, a UUID is a good choice."}


def _problem_response(status: int | None, detail: str | None) -> dict:
    headers = {}
    if status in (429, 503):
        headers["Retry-After"] = RETRY_AFTER
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    example = copy.deepcopy(PROBLEM_EXAMPLES.get(status, PROBLEM_EXAMPLES[503] if status is None else {}))
    if status == 409 and detail:
        example["detail"] = detail
    response = {"description": detail or COMMON_ERRORS.get(status, "error"),
                "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}}}
    if headers:
        response["headers"] = headers
    return response


def _as_problem(response: dict) -> None:
    content = response.get("content", {})
    if JSON in content:
        content[PROBLEM] = content.pop(JSON)


def _explain_properties(schema: dict) -> None:
    for name, prop in schema.get("properties", {}).items():
        meaning = _meaning(name)
        if meaning and meaning not in prop.get("description", ""):
            prop["description"] = (prop.get("description", "") + (" — " if prop.get("description") else "") + meaning)


def _explain_parameter(param: dict) -> None:
    meaning = _meaning(param.get("name", ""))
    if meaning and meaning not in param.get("description", ""):
        param["description"] = (param.get("description", "") + (" — " if param.get("description") else "") + meaning)
    name = param.get("name")
    if name in VALUES and "example" not in param and param.get("in") in ("query", "path"):
        value = VALUES[name]
        enum = param.get("schema", {}).get("enum")
        if enum is None or value in enum:
            param["example"] = value


def _meaning(name: str) -> str | None:
    return next((meaning for pattern, meaning in MEANINGS if pattern.match(name)), None)


def compose(schema: dict, schemas: Mapping[str, dict], name: str = "", depth: int = 0) -> Any:
    """A realistic example of ``schema``: its own example, else a value by field name, else one by type."""
    if "$ref" in schema:
        return compose(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas, name, depth)
    if "example" in schema:
        return schema["example"]
    for combined in ("allOf", "anyOf", "oneOf"):
        if schema.get(combined):
            return compose(schema[combined][0], schemas, name, depth)
    if "enum" in schema:
        value = VALUES.get(name)
        return value if value in schema["enum"] else schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 6:
            return {}
        return {key: compose(prop, schemas, key, depth + 1) for key, prop in schema.get("properties", {}).items()}
    if kind == "array":
        items = schema.get("items", {})
        return [compose(items, schemas, name, depth + 1)] if depth <= 6 else []
    if name in VALUES and not isinstance(VALUES[name], bool) and _kind_of(VALUES[name]) == kind:
        return VALUES[name]
    meaning = _meaning(name)
    if kind in ("integer", "number") and meaning == PERCENT:
        return 92.86 if kind == "number" else 93
    if kind == "integer":
        return 1024 if meaning == SEQ else max(schema.get("minimum", 1), 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time" or meaning == INSTANT:
        return "2016-11-15T02:30:00.000000Z"
    if schema.get("format") == "date" or meaning == DATE:
        return "2016-12-31"
    if meaning == PERCENT:
        return "100"
    return schema.get("default") or f"{name or 'text'}"


def _kind_of(value: Any) -> str:
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(type(value), "object")


def _health_paths() -> dict:
    live = {"description": "the process answers", "content": {JSON: {
        "schema": {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}},
        "example": {"status": "ok"}}}}
    checks = {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
        "checks": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "each dependency: ok, or unavailable: <why>"}}}
    return {
        "/health/live": {"get": {
            "operationId": "health_live", "summary": "Liveness: the process answers · 存活检查", "tags": ["health"],
            "x-summary-zh": "存活检查", "security": [], "responses": {"200": live}}},
        "/health/ready": {"get": {
            "operationId": "health_ready", "summary": "Readiness: the database and the broker answer · 就绪检查",
            "tags": ["health"], "x-summary-zh": "就绪检查", "security": [],
            "description": "200 while every critical check passes (a failing non-critical one is reported with "
                           "status degraded); 503 when a critical one fails. Meant for load balancers and probes.",
            "responses": {
                "200": {"description": "ready", "content": {JSON: {"schema": checks, "example": {
                    "status": "ok", "checks": {"database": "ok", "broker": "ok"}}}}},
                "503": {"description": "not ready: a critical dependency is unavailable", "content": {JSON: {
                    "schema": checks, "example": {"status": "unavailable",
                                                  "checks": {"database": "unavailable: OperationalError", "broker": "ok"}}}}}}}},
    }


def install(api, operations: Mapping[str, Operation]) -> None:
    """Serve the finished document at /openapi.json (flask-smorest asks ``spec.to_dict``)."""
    spec = api.spec
    build: Callable[[], dict] = spec.to_dict
    spec.to_dict = lambda: finish(build(), operations)
