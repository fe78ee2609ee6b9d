"""HTTP plumbing every service's app uses: strict JSON, problem+json errors, keys, health.

- JSON bodies are parsed strictly: decimals stay exact, NaN/Infinity and duplicate keys are
  refused, and Chinese comes back readable.
- Every error, from a bad field to a 413 or a 405, is ``application/problem+json`` (RFC 9457);
  validation errors list each bad field as a path such as ``entries[2].uscc``.
- ``require(*roles)`` authenticates ``Authorization: Bearer <key>`` against the key store.
"""
from __future__ import annotations

import functools
import json
import logging
import re
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

from flask import Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, Blueprint
from marshmallow import INCLUDE, Schema, ValidationError, fields
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from .contract import install as install_contract
from .db import is_transient_db_error
from .docs import register_docs
from .idempotency import IdempotencyConflict
from .keys import KeyStore, Principal
from .messages_zh import zh
from .observe import instrument
from .text import unstorable_anywhere, with_article

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class Problem(Exception):
    """A domain answer that is not a success: raised by views, rendered as problem+json."""

    def __init__(self, status: int, title: str, detail: str = "", *, kind: str = "error",
                 errors: list[dict] | None = None, headers: dict | None = None, **extra: Any):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.kind = status, title, detail, kind
        self.errors, self.headers, self.extra = errors, headers or {}, extra


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def strict_loads(data: str | bytes) -> Any:
    """JSON with exact decimals, without NaN/Infinity, duplicate keys or lone surrogates."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    try:
        value = json.loads(data, parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    if "\\u" in data:  # only an escape can make a lone surrogate (\ud800): not Unicode text
        for path, message in unstorable_anywhere(value):
            if "surrogate" in message:
                raise UnstorableText(path, message)
    return value


class UnstorableText(ValueError):
    """Valid JSON holding text that is not Unicode (a lone surrogate): refused naming its place."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


class StrictJSONProvider(DefaultJSONProvider):
    ensure_ascii = False
    sort_keys = False

    def loads(self, s, **kwargs):
        return strict_loads(s)

    @staticmethod
    def default(value):
        if isinstance(value, Decimal):
            return str(value)
        return DefaultJSONProvider.default(value)


class StrictParser(FlaskParser):
    """webargs parser that reads bodies with ``strict_loads`` and insists on a JSON body."""

    def _raw_load_json(self, req):
        if not req.get_data(cache=True) and not req.mimetype:
            return webargs_core.missing  # no body at all: what the operation's schema requires decides
        if not webargs_core.is_json(req.mimetype):
            if req.method in ("POST", "PUT", "PATCH"):
                raise Problem(415, "Unsupported media type", "send the body as application/json", kind="media-type")
            return webargs_core.missing
        data = req.get_data(cache=True)
        try:
            return strict_loads(data)
        except UnstorableText as exc:
            raise Problem(422, "Invalid request", "1 field(s) are not acceptable", kind="validation",
                          errors=[{"field": exc.path, "message": exc.message}]) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise Problem(400, "Malformed JSON", f"the body is not valid JSON: {exc}", kind="malformed-json") from None


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def route(self, rule, *, parameters=None, **options):
        """Each operation's operationId is its view's name (what a generated client calls it)."""
        register = super().route(rule, parameters=parameters, **options)

        def decorate(view):
            doc = dict(getattr(view, "_apidoc", {}))
            doc["manual_doc"] = {"operationId": view.__name__, **doc.get("manual_doc", {})}
            view._apidoc = doc
            return register(view)

        return decorate


class FieldErrorSchema(Schema):
    """One bad field: where (a JSON path, ``query:x``, ``header:X``, or a spreadsheet's cell) and why."""

    class Meta:
        unknown = INCLUDE  # documented as open: a client must not break on a detail added later

    field = fields.String(allow_none=True, metadata={
        "description": "the field's path in the request (entries[2].uscc, query:as_of, header:Idempotency-Key); "
                       "null for a whole spreadsheet", "example": "entries[2].uscc"})
    message = fields.String(required=True, metadata={"example": "Not a valid unified social credit code"})
    message_zh = fields.String(required=True, metadata={"description": "the same in Chinese",
                                                        "example": "统一社会信用代码校验位错误"})
    row = fields.Integer(allow_none=True, metadata={"description": "spreadsheet uploads: the row as the sheet shows it"})
    column = fields.String(allow_none=True, metadata={"description": "spreadsheet uploads: the column letter",
                                                      "example": "C"})
    header = fields.String(allow_none=True, metadata={"description": "spreadsheet uploads: the column's header",
                                                      "example": "统一社会信用代码"})


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is answered (``application/problem+json``)."""

    class Meta:
        unknown = INCLUDE  # RFC 9457 extension members (a 409's ``published``) may appear

    type = fields.String(required=True, metadata={"example": "urn:zeroclear:problem:validation"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema), metadata={"description": "every bad field, each named"})
    missing = fields.List(fields.Dict(), metadata={
        "description": "a refused publication (409 inputs-missing): each region and the criteria the office has "
                       "not scored yet", "example": [{"region": "410100", "criteria": [2, 3]}]})


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema


def create_app(name: str, *, title: str, max_body_bytes: int = 2 * 1024 * 1024,
               database: Callable[[], Any] | None = None, contract: Mapping | None = None) -> tuple[Flask, Api]:
    """A service's Flask app with its OpenAPI document, problem+json errors and health endpoints;
    ``database`` is a cheap query of the service's own database, which readiness asks;
    ``contract`` the operations' Chinese summaries and examples (shared/contract.py finishes the document)."""
    app = Flask(name)
    app.json_provider_class = StrictJSONProvider
    app.json = StrictJSONProvider(app)
    app.config.update(
        API_TITLE=title, API_VERSION="v1", OPENAPI_VERSION="3.0.3", OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json", MAX_CONTENT_LENGTH=max_body_bytes,
        API_SPEC_OPTIONS={"components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}}},
    )
    api = ProblemApi(app)
    install_contract(api, contract or {})
    register_docs(app, title)
    _register_errors(app)
    _register_health(app, database)
    instrument(app)
    return app, api


def _register_health(app: Flask, database: Callable[[], Any] | None) -> None:
    @app.get("/health/live")
    def live():
        return jsonify(status="ok")

    @app.get("/health/ready")
    def readiness():
        """200 while every critical check passes (the database, the broker); a failing
        non-critical one (notify's SMTP server) is reported, with status ``degraded``."""
        probes = {"database": (database, True)} if database else {}
        probes.update(app.extensions.get("zeroclear.checks", {}))
        checks = {name: _probe(check) for name, (check, _) in probes.items()}
        ok = all(checks[name] == "ok" for name, (_, critical) in probes.items() if critical)
        status = "unavailable" if not ok else "ok" if all(v == "ok" for v in checks.values()) else "degraded"
        return jsonify(status=status, checks=checks), 200 if ok else 503


def _probe(check: Callable[[], Any]) -> str:
    try:
        check()
        return "ok"
    except Exception as exc:  # reported, not raised: readiness is a question
        return f"unavailable: {exc.__class__.__name__}"


def problem_response(status: int, title: str, detail: str = "", *, kind: str = "error",
                     errors: list[dict] | None = None, headers: dict | None = None, **extra: Any) -> Response:
    body = {"type": f"urn:zeroclear:problem:{kind}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [error if "message_zh" in error else {**error, "message_zh": zh(error["message"])}
                          for error in errors]
    body.update(extra)
    response = current_app.response_class(current_app.json.dumps(body), status=status, mimetype=PROBLEM)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(Problem)
    def on_problem(error: Problem):
        return problem_response(error.status, error.title, error.detail, kind=error.kind, errors=error.errors,
                                headers=error.headers, **error.extra)

    @app.errorhandler(IdempotencyConflict)
    def on_reused_key(error: IdempotencyConflict):
        """The same Idempotency-Key sent with another request (``shared.idempotency``)."""
        return problem_response(422, "Idempotency-Key reused", str(error), kind="idempotency-conflict")

    @app.errorhandler(ValidationError)
    def on_validation(error: ValidationError):
        """A schema loaded inside a view (a multipart form's fields, say) judges like ``arguments``."""
        fields = list(flatten_messages(error.messages))
        return problem_response(422, "Invalid request", f"{len(fields)} field(s) are not acceptable",
                                kind="validation", errors=fields)

    @app.errorhandler(HTTPException)
    def on_http(error: HTTPException):
        data = getattr(error, "data", None) or {}
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        if error.code == 422 and "messages" in data:
            fields = list(flatten_messages(data["messages"]))
            return problem_response(422, "Invalid request", f"{len(fields)} field(s) are not acceptable",
                                    kind="validation", errors=fields, headers=headers)
        if error.code == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH")
            return problem_response(413, "Request body too large", f"the body may be at most {limit} bytes",
                                    kind="too-large", headers=headers)
        return problem_response(error.code or 500, error.name, error.description or "", kind=f"http-{error.code}",
                                headers=headers)

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception):
        if is_transient_db_error(error):
            log.warning("database unavailable: %r", error)
            return problem_response(503, "Service unavailable", "the database is unavailable; retry shortly",
                                    kind="unavailable", headers={"Retry-After": "5"})
        log.exception("unhandled error")
        return problem_response(500, "Internal error", "the error was logged", kind="internal")


def flatten_messages(messages: Any, path: str = "") -> Iterable[dict]:
    """webargs/marshmallow nested messages → [{field, message}] with paths like ``entries[2].uscc``
    in a JSON body and ``query:year`` elsewhere (``form:``, ``files:``, ``headers:``, ``path:``)."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if path == "" and key in ("json", "query", "form", "files", "headers", "path"):
                yield from flatten_messages(value, "" if key == "json" else f"{key}:")
                continue
            if key == "_schema":  # marshmallow's name for "the object itself"
                yield from flatten_messages(value, path)
                continue
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                child = f"{path}[{key}]"
            else:
                child = f"{path}.{key}" if path and not path.endswith(":") else f"{path}{key}"
            yield from flatten_messages(value, child)
    elif isinstance(messages, (list, tuple)) and messages and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield {"field": path.rstrip(":") or "$", "message": message}
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            yield from flatten_messages(item, path)
    else:
        yield {"field": path.rstrip(":") or "$", "message": str(messages)}


IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` (SPEC §4: every write accepts one), or a 400 naming it."""
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise Problem(400, "Bad Idempotency-Key", "1 to 200 visible ASCII characters", kind="validation",
                      errors=[{"field": f"header:{IDEMPOTENCY_HEADER}", "message": "1 to 200 visible ASCII characters"}])
    return value


def bearer_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(optional: bool = False) -> Principal | None:
    key = bearer_key()
    if key is None:
        if optional:
            return None
        raise Problem(401, "Authentication required", "send Authorization: Bearer <key>", kind="unauthenticated",
                      headers={"WWW-Authenticate": 'Bearer realm="zeroclear"'})
    store: KeyStore = current_app.extensions["zeroclear.keys"]
    principal = store.authenticate(key)
    if principal is None:
        raise Problem(401, "Invalid key", "the key is unknown or revoked", kind="unauthenticated",
                      headers={"WWW-Authenticate": 'Bearer realm="zeroclear", error="invalid_token"'})
    return principal


def require(*roles: str):
    """View decorator: a valid key of one of ``roles``; the principal lands in ``g.principal``."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = authenticate()
            if principal.role not in roles:
                raise Problem(403, "Not allowed", f"{with_article(principal.role)} key cannot do this", kind="forbidden")
            g.principal = principal
            return view(*args, **kwargs)

        doc = dict(getattr(view, "_apidoc", {}))  # the OpenAPI document says which keys it takes
        doc["manual_doc"] = {**doc.get("manual_doc", {}), "security": [{"bearerAuth": []}], "x-roles": list(roles)}
        wrapper._apidoc = doc
        return wrapper

    return decorate


def current_principal() -> Principal:
    return g.principal
