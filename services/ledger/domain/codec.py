"""How each fold takes its event's payload: decoded from the recorded (canonical) bytes, as a
replay reads them (``DECODERS``), and converted from the parsed payload, as the writer holds it
(``CONVERTERS``). A plain dict unless the fold wants a type of its own (``ReportPayload``: a
report's entries decoded straight into items, without a dict per entry). An event of an older
version of its type is upcast here (``shared/messages``), so the folds see only current payloads.
"""
from __future__ import annotations

from typing import Any, Callable

import msgspec
import orjson

from shared.messages import older_types, upcast

from .events import REPORT_FILED
from .fold import FOLDS
from .records import ReportPayload

_PAYLOAD_TYPES: dict[str, type] = {REPORT_FILED: ReportPayload}
_OLDER = older_types()


def _decoder(kind: str) -> Callable[[bytes], Any]:
    current = _OLDER.get(kind, kind)
    cls = _PAYLOAD_TYPES.get(current)
    if current == kind:
        return msgspec.json.Decoder(cls).decode if cls is not None else orjson.loads
    convert = _converter(kind)
    return lambda body: convert(orjson.loads(body))


def _converter(kind: str) -> Callable[[Any], Any]:
    current = _OLDER.get(kind, kind)
    cls = _PAYLOAD_TYPES.get(current)
    if current != kind:
        then = _converter(current)
        return lambda payload: then(upcast(kind, payload)[1])
    if cls is not None:
        return lambda payload: msgspec.convert(payload, cls)
    return lambda payload: payload


DECODERS: dict[str, Any] = {kind: _decoder(kind) for kind in FOLDS}
CONVERTERS: dict[str, Any] = {kind: _converter(kind) for kind in FOLDS}
