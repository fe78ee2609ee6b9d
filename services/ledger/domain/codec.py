"""How each fold takes its event's payload: decoded from the recorded (canonical) bytes, as a
replay reads them (``DECODERS``), and converted from the parsed payload, as the writer holds it
(``CONVERTERS``). A plain dict unless the fold wants a type of its own (``ReportPayload``: a
report's entries decoded straight into items, without a dict per entry).
"""
from __future__ import annotations

from typing import Any

import msgspec
import orjson

from .events import REPORT_FILED
from .fold import FOLDS
from .records import ReportPayload

_PAYLOAD_TYPES: dict[str, type] = {REPORT_FILED: ReportPayload}
DECODERS: dict[str, Any] = {kind: (msgspec.json.Decoder(_PAYLOAD_TYPES[kind]).decode if kind in _PAYLOAD_TYPES
                                   else orjson.loads) for kind in FOLDS}
CONVERTERS: dict[str, Any] = {kind: ((lambda payload, cls=_PAYLOAD_TYPES[kind]: msgspec.convert(payload, cls))
                                     if kind in _PAYLOAD_TYPES else (lambda payload: payload)) for kind in FOLDS}
