"""Scorings the kept rows do not cover (``entrypoints/memo.Scorings``): each once however many ask,
one at a time in a thread at a lower CPU priority, a reader past their wait told to come back
(the scoring goes on and is kept for them), too many queued refused at once, one nobody waits
for any more dropped before it begins, and a failure answered to its askers and not kept."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.assessment.entrypoints.memo import Busy, Scorings


class Gate:
    """A scoring that waits to be let through, counting its runs and how many run at once."""

    def __init__(self):
        self.open = threading.Event()
        self.started = threading.Semaphore(0)
        self.runs: list[str] = []
        self.running = self.most_at_once = 0
        self.niceness: list[int] = []
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def score(self, key: str, fail: bool = False):
        def compute():
            with self._lock:
                self.running += 1
                self.most_at_once = max(self.most_at_once, self.running)
                self.runs.append(key)
            self.niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            self.threads.append(threading.current_thread())
            self.started.release()
            self.open.wait(10)
            with self._lock:
                self.running -= 1
            if fail:
                raise RuntimeError(f"{key} failed")
            return f"scores of {key}"
        return compute


@pytest.fixture
def gate():
    gate = Gate()
    yield gate
    gate.open.set()


def test_many_asking_for_one_position_score_it_once_and_other_positions_wait_their_turn(gate):
    scorings = Scorings(nice=7, wait_seconds=10, queued_at_most=4)
    with ThreadPoolExecutor(8) as readers:
        same = [readers.submit(scorings.get, "p1", gate.score("p1")) for _ in range(5)]
        assert gate.started.acquire(timeout=5)
        other = readers.submit(scorings.get, "p2", gate.score("p2"))
        time.sleep(0.2)
        assert gate.runs == ["p1"]  # p2 waits for the scoring thread
        gate.open.set()
        assert [f.result(10) for f in same] == ["scores of p1"] * 5
        assert other.result(10) == "scores of p2"
    assert gate.runs == ["p1", "p2"] and gate.most_at_once == 1
    assert gate.niceness == [max(7, os.getpriority(os.PRIO_PROCESS, 0))] * 2
    assert scorings.get("p1", gate.score("again")) == "scores of p1"  # kept: not scored again
    assert gate.runs == ["p1", "p2"]


def test_a_reader_past_their_wait_is_told_to_come_back_and_then_finds_it_kept(gate):
    scorings = Scorings(wait_seconds=0.2)
    with pytest.raises(Busy) as busy:
        scorings.get("p1", gate.score("p1"))
    assert busy.value.retry_after >= 1
    gate.open.set()
    deadline = time.monotonic() + 5
    while scorings.memo.peek("p1") != "scores of p1" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert scorings.get("p1", gate.score("again")) == "scores of p1"
    assert gate.runs == ["p1"]


def test_too_many_queued_are_refused_at_once_and_one_nobody_waits_for_is_dropped(gate):
    scorings = Scorings(wait_seconds=0.3, queued_at_most=2)
    with ThreadPoolExecutor(4) as readers:
        running = readers.submit(scorings.get, "p1", gate.score("p1"))
        assert gate.started.acquire(timeout=5)
        queued = readers.submit(scorings.get, "p2", gate.score("p2"))
        time.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(Busy, match="queued"):
            scorings.get("p3", gate.score("p3"))
        assert time.monotonic() - started < 0.2  # refused without waiting
        with pytest.raises(Busy):
            queued.result(5)  # its reader gave up before it began: it is dropped
        with pytest.raises(Busy):
            running.result(5)
    gate.open.set()
    assert scorings.get("p4", gate.score("p4")) == "scores of p4"
    assert gate.runs == ["p1", "p4"]


def test_a_failed_scoring_is_answered_to_its_askers_and_not_kept(gate):
    scorings = Scorings(wait_seconds=5)
    gate.open.set()
    with pytest.raises(RuntimeError, match="p1 failed"):
        scorings.get("p1", gate.score("p1", fail=True))
    assert scorings.get("p1", gate.score("p1")) == "scores of p1"


def test_closed_scorings_begin_nothing_more_and_their_thread_ends_after_the_running_one(gate):
    scorings = Scorings(wait_seconds=0.2)
    with pytest.raises(Busy):
        scorings.get("p1", gate.score("p1"))
    assert gate.started.acquire(timeout=5)
    thread = gate.threads[0]
    scorings.close()
    with pytest.raises(RuntimeError):
        scorings.get("p2", gate.score("p2"))
    gate.open.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and gate.runs == ["p1"]
