"""Who receives what (SPEC §7): an alert goes to the subscriptions of its recipient — the region's
own for level 1, the office's (no region) once escalated — and a circular to every subscription
that asked for circulars."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

ALERTS, CIRCULARS = "alerts", "circulars"


def alert_recipients(recipient: str, subscriptions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    region = recipient.split(":", 1)[1] if recipient.startswith("region:") else None
    return [s for s in subscriptions if s["active"] and ALERTS in s["topics"] and s["region"] == region]


def circular_recipients(subscriptions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [s for s in subscriptions if s["active"] and CIRCULARS in s["topics"]]
