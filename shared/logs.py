"""Logging: one line per event, as JSON in production (``ZEROCLEAR_LOG_FORMAT=json``), each with
the service, the level, and — where there is one — the HTTP request's id and the correlation id
of the submission it belongs to.

The ids live in context variables: an HTTP request sets both (its ``X-Request-ID``, taken from a
proxy or made here, becomes the correlation id of what the request files, which travels in the
envelope through the broker to the ledger), and the ledger sets the correlation id of the message
it is recording. On anonymous endpoints (tips) no incoming id is taken and none becomes a
correlation id: an id a proxy logged beside a client's address must never reach the public log.
"""
from __future__ import annotations

import contextvars
import logging
import sys
from contextlib import contextmanager
from typing import Iterator

from pythonjsonlogger.json import JsonFormatter

SERVICE = contextvars.ContextVar("zeroclear_service", default=None)
REQUEST_ID = contextvars.ContextVar("zeroclear_request_id", default=None)
CORRELATION_ID = contextvars.ContextVar("zeroclear_correlation_id", default=None)
_process_service: str | None = None
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ContextFilter(logging.Filter):
    """Puts the service and the ids of the moment on every record (None where there are none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = getattr(record, "service", None) or SERVICE.get() or _process_service
        record.request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        record.correlation_id = getattr(record, "correlation_id", None) or CORRELATION_ID.get()
        return True


def handler(fmt: str = "text", stream=None) -> logging.Handler:
    """A handler writing text or JSON lines (with the service and the ids) to ``stream``."""
    made = logging.StreamHandler(stream or sys.stderr)
    made.addFilter(ContextFilter())
    if fmt == "json":
        made.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        made.setFormatter(logging.Formatter(TEXT_FORMAT))
    return made


def configure(level: str = "info", fmt: str = "text", service: str | None = None) -> None:
    """Send every log line to stderr, as text or JSON lines, replacing any earlier set-up."""
    global _process_service
    _process_service = service or _process_service
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(fmt))
    root.setLevel(level.upper())
    if level.lower() != "debug":
        logging.getLogger("alembic").setLevel(logging.WARNING)


def current_correlation_id() -> str | None:
    return CORRELATION_ID.get()


@contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Set ``service``, ``request_id`` and/or ``correlation_id`` for the block."""
    variables = {"service": SERVICE, "request_id": REQUEST_ID, "correlation_id": CORRELATION_ID}
    tokens = [(variables[name], variables[name].set(value)) for name, value in ids.items()]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)
