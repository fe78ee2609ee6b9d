"""The one source of time. Services take a clock; tests move a settable one, and the embedded and
demo modes a shared one that the operator moves from the command line (SPEC §8)."""
from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Protocol

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

log = logging.getLogger(__name__)

#: The modes (``ZEROCLEAR_MODE``) whose business clock can be moved; production keeps the real one.
MOVABLE_MODES = ("embedded", "demo")
CLOCK_FILE = "clock.json"


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


class ClockFileError(ValueError):
    """The clock file of a data folder cannot be read as one."""


class DemoClock:
    """The business clock of the embedded and demo modes: the real time moved by an offset kept in
    a file of the data folder (``zeroclear clock set|advance`` writes it), so every service of the
    running system, and every process on the same data folder, sees the moved time at once. The
    file is looked at on each reading and read again only when it changed; without it, the
    business time is the real time. It keeps running: a demo moves it, it does not stand still."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple | None = None  # (inode, mtime, size) of the file last read
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset()

    def offset(self) -> timedelta:
        """How far the business time is from the real time, as the file says now."""
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return timedelta(0)
        stamp = (found.st_ino, found.st_mtime_ns, found.st_size)
        # Two moves within one tick of the file system's clock can leave the same stamp (the
        # replaced file's inode reused, the same size): a file changed in the last second is read
        # again on every reading.
        fresh = time.time_ns() - found.st_mtime_ns < 1_000_000_000
        with self._lock:
            if stamp != self._seen or fresh:
                try:
                    self._offset = read_offset(self.path)
                except (OSError, ClockFileError) as exc:  # a hand-edited file: keep the time it last gave
                    log.error("the demo clock keeps its offset of %s: %s", self._offset, exc)
                self._seen = stamp
            return self._offset

    def set(self, instant: datetime) -> datetime:
        """Make the business time ``instant`` now; returns it."""
        with self._exclusive():
            self._write(to_utc(instant) - datetime.now(timezone.utc))
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        """Move the business time ``delta`` on; returns the new business time. Two moves at once
        (two terminals) both count: each reads and writes the file holding its lock."""
        with self._exclusive():
            self._write(read_offset(self.path) + delta if self.path.exists() else delta)
        return self.now()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as lock:
            if fcntl is not None:  # POSIX; elsewhere moves are not serialised
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _write(self, offset: timedelta) -> None:
        microseconds = offset // timedelta(microseconds=1)
        text = json.dumps({"offset_microseconds": microseconds,
                           "business_time_when_set": format_instant(datetime.now(timezone.utc) + offset)}) + "\n"
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.path)  # readers see the old file or the new one, never half of one


def read_offset(path: Path) -> timedelta:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))["offset_microseconds"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ClockFileError(f"{path} is not a clock file ({type(exc).__name__}: {exc})") from None
    if type(value) is not int:
        raise ClockFileError(f"{path}: offset_microseconds must be a whole number, not {value!r}")
    try:
        return timedelta(microseconds=value)
    except OverflowError:
        raise ClockFileError(f"{path}: offset_microseconds {value} is out of range") from None


def business_clock(mode: str, data_dir: Path) -> Clock:
    """The clock a service runs on in ``mode`` (``ZEROCLEAR_MODE``): the movable demo clock of the
    data folder, or the real one in production."""
    return DemoClock(Path(data_dir) / CLOCK_FILE) if mode in MOVABLE_MODES else SystemClock()


_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_SHORT = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?", re.ASCII)
_ISO = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", re.ASCII)


def parse_duration(text: str) -> timedelta:
    """A span of time as an operator types it: ``7d``, ``36h``, ``1d12h30m``, ``90s``, ``2w``, or ISO
    8601 (``P7D``, ``PT36H``, ``P1DT12H``). Months and years are refused: they have no fixed length."""
    cleaned = text.strip()
    found = _ISO.fullmatch(cleaned.upper()) if cleaned.upper().startswith("P") else _SHORT.fullmatch(cleaned.lower())
    if not cleaned or found is None or not any(found.groups()) or cleaned.upper() in ("P", "PT"):
        raise ValueError(f"{text!r} is not a duration: give e.g. 7d, 36h, 1d12h30m, 90s or P7D, PT36H")
    amounts = [float(group) if group else 0.0 for group in found.groups()]
    try:
        return timedelta(**{unit: amount for unit, amount in zip(_UNITS.values(), amounts)})
    except OverflowError:
        raise ValueError(f"{text!r} is longer than any clock can move") from None


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


#: The positions and times a reader may name: a seq JSON can carry exactly (and SQLite's 64-bit
#: integers hold), a time within the years any campaign can concern.
MAX_POSITION = 2**53 - 1
POSITION_YEARS = (2000, 2999)
POSITION_HINT = (f"a log position (a seq from 0 to {MAX_POSITION}) or an ISO 8601 time with its UTC offset in the "
                 f"years {POSITION_YEARS[0]} to {POSITION_YEARS[1]}, e.g. 2016-11-16T00:00:00+08:00")


def parse_position(text: str) -> tuple[int | None, str | None]:
    """A point on the log as readers name it (``--as-of``, ``?as_of=``): a sequence number, or an
    ISO time with an offset (then the recording time it stands for, as ``format_instant`` writes
    it). Raises ValueError (saying ``POSITION_HINT``, words for the command line and HTTP alike)
    for anything else, or out of bounds — "²" is a digit to ``str.isdigit``, not to ``int``."""
    if text.isascii() and text.isdigit():
        if len(text) > 16 or int(text) > MAX_POSITION:
            raise ValueError(POSITION_HINT)
        return int(text), None
    try:
        when = parse_instant(text)
    except (ValueError, OverflowError):
        raise ValueError(POSITION_HINT) from None
    if not POSITION_YEARS[0] <= when.year <= POSITION_YEARS[1]:
        raise ValueError(POSITION_HINT)
    return None, format_instant(when)
