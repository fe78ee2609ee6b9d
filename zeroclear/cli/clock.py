"""``zeroclear clock``: the business time of the embedded and demo modes."""
from __future__ import annotations

import sys

import click

from shared.config import Settings

from .common import echo_json


@click.group()
def clock():
    """The business clock of the embedded and demo modes: the time every service sees (filing
    times, deadlines, schedules), moved while the system runs (production keeps the real time)."""


def _demo_clock(verb: str):
    from shared.clock import CLOCK_FILE, MOVABLE_MODES, DemoClock

    settings = Settings.from_env("cli")
    if settings.mode not in MOVABLE_MODES:
        click.echo(f"clock {verb} refused: ZEROCLEAR_MODE={settings.mode} runs on the real clock; the "
                   f"clock moves only in the {' and '.join(MOVABLE_MODES)} modes", err=True)
        sys.exit(2)
    return DemoClock(settings.data_dir / CLOCK_FILE)


def _clock_json(moved) -> None:
    from datetime import datetime, timedelta, timezone

    from shared.clock import ClockFileError, format_instant, read_offset

    try:
        offset = read_offset(moved.path) if moved.path.exists() else timedelta(0)
    except ClockFileError as exc:
        raise click.ClickException(f"{exc}; `zeroclear clock set` writes a new one") from None
    real = datetime.now(timezone.utc)
    echo_json({"business_time": format_instant(real + offset), "real_time": format_instant(real),
                "offset_seconds": round(offset.total_seconds(), 3) or 0, "file": str(moved.path)})


@clock.command("show")
def clock_show():
    """Print the business time the services see now."""
    from datetime import datetime, timezone

    from shared.clock import CLOCK_FILE, MOVABLE_MODES, DemoClock, format_instant

    settings = Settings.from_env("cli")
    if settings.mode in MOVABLE_MODES:
        _clock_json(DemoClock(settings.data_dir / CLOCK_FILE))
    else:
        now = format_instant(datetime.now(timezone.utc))
        echo_json({"business_time": now, "real_time": now, "offset_seconds": 0, "mode": settings.mode})


@clock.command("set")
@click.argument("instant")
def clock_set(instant):
    """Make the business time INSTANT (ISO 8601 with an offset, e.g. 2016-11-16T00:00:00+08:00); it
    runs on from there. Going back does not rewrite the log: events are never recorded earlier than
    the last one."""
    from shared.clock import parse_instant

    moved = _demo_clock("set")
    try:
        when = parse_instant(instant)
    except ValueError:
        raise click.BadParameter("an ISO time with a UTC offset, e.g. 2016-11-16T00:00:00+08:00",
                                 param_hint="INSTANT") from None
    try:
        moved.set(when)
    except OSError as exc:
        raise click.ClickException(f"cannot write the clock file {moved.path}: {exc}") from None
    _clock_json(moved)


@clock.command("advance")
@click.argument("duration")
def clock_advance(duration):
    """Move the business time DURATION on: 7d, 36h, 1d12h30m, 90s, 2w, or ISO 8601 (P7D, PT36H)."""
    from shared.clock import ClockFileError, parse_duration

    moved = _demo_clock("advance")
    try:
        delta = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="DURATION") from None
    try:
        moved.advance(delta)
    except ClockFileError as exc:
        raise click.ClickException(f"{exc}; `zeroclear clock set` writes a new one") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write the clock file {moved.path}: {exc}") from None
    _clock_json(moved)

