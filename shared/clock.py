"""The one source of time. Services take a clock; tests and demos move a settable one."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class SettableClock:
    """A clock that keeps running from a chosen instant (demo mode) or stands still (tests)."""

    def __init__(self, start: datetime | None = None, *, frozen: bool = True):
        self._lock = threading.Lock()
        self._frozen = frozen
        self._anchor = to_utc(start) if start else datetime.now(timezone.utc)
        self._since = datetime.now(timezone.utc)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen:
                return self._anchor
            return self._anchor + (datetime.now(timezone.utc) - self._since)

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._anchor = to_utc(instant)
            self._since = datetime.now(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)


def to_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give a time zone")
    return instant.astimezone(timezone.utc)


def format_instant(instant: datetime) -> str:
    """Fixed-width RFC 3339 UTC text, so the same instant always hashes the same."""
    return to_utc(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 / ISO 8601 instant; a value without offset is refused."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return to_utc(value)


def parse_position(text: str) -> tuple[int | None, str | None]:
    """A point on the log as readers name it (``--as-of``, ``?as_of=``): a sequence number, or an
    ISO time with an offset (then the recording time it stands for, as ``format_instant`` writes
    it). Raises ValueError for anything else — "²" is a digit to ``str.isdigit``, not to ``int``."""
    if text.isascii() and text.isdigit():
        return int(text), None
    return None, format_instant(parse_instant(text))
