"""A background loop may run its thread at a lower CPU priority (work that must yield to requests
and to filing, as the assessment's keeper does); the thread that started it keeps its own."""
from __future__ import annotations

import os
import queue
import threading

from shared.background import BackgroundLoop


def niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_loop_given_a_niceness_runs_its_steps_at_it_and_leaves_the_rest_alone():
    before = niceness()
    lowered = min(before + 5, 19)
    for nice, expected in ((lowered, lowered), (0, before)):
        seen: queue.Queue[int] = queue.Queue()
        loop = BackgroundLoop("a-loop", poll_seconds=0.05, step=lambda seen=seen: seen.put(niceness()) or 0, nice=nice)
        loop.start()
        try:
            assert seen.get(timeout=5) == expected
        finally:
            loop.stop()
    assert niceness() == before
