"""The business clocks: the demo clock that ``zeroclear clock`` moves through a file of the data
folder (every process on that folder sees it), and the durations an operator types."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from shared.clock import ClockFileError, DemoClock, SystemClock, business_clock, parse_duration, read_offset

CAMPAIGN = datetime(2016, 11, 10, 1, 0, tzinfo=timezone.utc)


def near(instant: datetime, expected: datetime, slack: timedelta = timedelta(seconds=5)) -> bool:
    return abs(instant - expected) < slack


def test_without_its_file_the_demo_clock_tells_the_real_time(tmp_path):
    assert near(DemoClock(tmp_path / "clock.json").now(), datetime.now(timezone.utc))


def test_a_move_is_seen_at_once_by_every_clock_on_the_same_file(tmp_path):
    path = tmp_path / "data" / "clock.json"
    service, operator = DemoClock(path), DemoClock(path)  # as two processes on one data folder
    assert near(service.now(), datetime.now(timezone.utc))
    operator.set(CAMPAIGN)
    assert near(service.now(), CAMPAIGN)
    operator.advance(timedelta(days=10))
    assert near(service.now(), CAMPAIGN + timedelta(days=10))
    assert service.now() >= CAMPAIGN + timedelta(days=10)  # it runs on from where it was set
    assert not [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"]  # written whole, no leftovers


def test_moves_made_at_the_same_moment_all_count(tmp_path):
    path = tmp_path / "clock.json"
    DemoClock(path).set(CAMPAIGN)
    movers = [threading.Thread(target=DemoClock(path).advance, args=(timedelta(hours=1),)) for _ in range(16)]
    for mover in movers:
        mover.start()
    for mover in movers:
        mover.join()
    assert near(DemoClock(path).now(), CAMPAIGN + timedelta(hours=16))


def test_advancing_a_clock_never_set_starts_from_the_real_time(tmp_path):
    clock = DemoClock(tmp_path / "clock.json")
    clock.advance(timedelta(hours=36))
    assert near(clock.now(), datetime.now(timezone.utc) + timedelta(hours=36))


def test_a_spoilt_file_is_named_and_the_running_clock_keeps_its_time(tmp_path, caplog):
    path = tmp_path / "clock.json"
    clock = DemoClock(path)
    clock.set(CAMPAIGN)
    assert near(clock.now(), CAMPAIGN)
    for spoilt in ("not json", '{"offset_microseconds": "soon"}', '{"offset_microseconds": 1e400}', "[]",
                   '{"offset_microseconds": 99999999999999999999999}'):
        path.write_text(spoilt, encoding="utf-8")
        with pytest.raises(ClockFileError, match="clock.json"):
            read_offset(path)
        assert near(clock.now(), CAMPAIGN)
    assert "keeps its offset" in caplog.text
    with pytest.raises(ClockFileError):
        clock.advance(timedelta(days=1))
    clock.set(CAMPAIGN + timedelta(days=1))  # setting writes a good one again
    assert near(DemoClock(path).now(), CAMPAIGN + timedelta(days=1))


def test_production_runs_on_the_real_clock_and_the_other_modes_on_the_data_folders(tmp_path):
    assert isinstance(business_clock("production", tmp_path), SystemClock)
    for mode in ("embedded", "demo"):
        clock = business_clock(mode, tmp_path)
        assert isinstance(clock, DemoClock) and clock.path == tmp_path / "clock.json"


@pytest.mark.parametrize("text, span", [
    ("7d", timedelta(days=7)), ("36h", timedelta(hours=36)), ("1d12h30m", timedelta(days=1, hours=12, minutes=30)),
    ("90s", timedelta(seconds=90)), ("2w", timedelta(weeks=2)), ("1.5s", timedelta(seconds=1.5)),
    (" 10D ", timedelta(days=10)), ("P7D", timedelta(days=7)), ("PT36H", timedelta(hours=36)),
    ("P1DT12H", timedelta(days=1, hours=12)), ("p1w", timedelta(weeks=1)), ("PT0.5S", timedelta(seconds=0.5)),
])
def test_durations_as_an_operator_types_them(text, span):
    assert parse_duration(text) == span


@pytest.mark.parametrize("text", ["", "P", "PT", "7", "d", "1y", "P1M", "P1Y", "-1d", "1d 2h", "١d", "1h1d", "soon",
                                  "99999999999w"])
def test_anything_else_is_not_a_duration(text):
    with pytest.raises(ValueError, match="duration|longer"):
        parse_duration(text)
