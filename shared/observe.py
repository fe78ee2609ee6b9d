"""What every service's HTTP app reports about itself: a request id on every answer, one log line
and the request metrics per request, and ``/metrics`` in Prometheus' text format.

``app.extensions["zeroclear.collectors"]`` holds the service's scrape-time figures (outbox depth,
follower position, ...), set where the app is served. Paths in ``app.config["ZEROCLEAR_ANONYMOUS_PATHS"]``
(intake's tips) are logged without the client's address and take no id from outside.
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from . import logs
from .metrics import CONTENT_TYPE, HTTP_LATENCY, HTTP_REQUESTS, render

access = logging.getLogger("zeroclear.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def instrument(app: Flask) -> None:
    service = app.name.rsplit(".", 1)[-1]
    app.config.setdefault("ZEROCLEAR_ANONYMOUS_PATHS", ())

    @app.before_request
    def _begin():
        anonymous = request.path.startswith(tuple(app.config["ZEROCLEAR_ANONYMOUS_PATHS"]))
        given = None if anonymous else request.headers.get("X-Request-ID", "")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.zeroclear_observed = (time.perf_counter(), anonymous, request_id, [
            (logs.SERVICE, logs.SERVICE.set(service)), (logs.REQUEST_ID, logs.REQUEST_ID.set(request_id)),
            (logs.CORRELATION_ID, logs.CORRELATION_ID.set(None if anonymous else request_id))])

    @app.after_request
    def _end(response: Response):
        observed = g.pop("zeroclear_observed", None)
        if observed is None:
            return response
        started, anonymous, request_id, tokens = observed
        elapsed = time.perf_counter() - started
        endpoint = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        HTTP_REQUESTS.labels(service, request.method, endpoint, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, request.method, endpoint).observe(elapsed)
        response.headers["X-Request-ID"] = request_id
        extra = {"method": request.method, "endpoint": endpoint, "status": response.status_code,
                 "duration_ms": round(elapsed * 1000, 1)}
        if not anonymous:
            extra["client"] = request.remote_addr
        if endpoint not in ("/metrics", "/health/live", "/health/ready"):
            access.info("%s %s %s", request.method, endpoint, response.status_code, extra=extra)
        for variable, token in reversed(tokens):
            variable.reset(token)
        return response

    @app.get("/metrics")
    def metrics():
        """Prometheus text format: this service's requests and latencies, and its figures."""
        return Response(render(app.extensions.get("zeroclear.collectors", [])), mimetype=None,
                        content_type=CONTENT_TYPE)
