"""A background loop may run its thread at a lower CPU priority (work that must yield to requests
and to filing, as the assessment's keeper does); the thread that started it keeps its own."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

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


AUTOGROUP = Path("/proc/self/autogroup")
LOWER_AND_SAY = ("import sys; from shared.background import lower_priority; lower_priority(int(sys.argv[1])); "
                 "print(open('/proc/self/autogroup').read().split()[-1])")


def autogroup_nice(new_session: bool, nice: int) -> int:
    done = subprocess.run([sys.executable, "-c", LOWER_AND_SAY, str(nice)], capture_output=True, text=True,
                          timeout=60, start_new_session=new_session, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def in_an_autogroup() -> bool:
    """The file reads empty where this process's CPU share is a cgroup's (a container, a CI runner's
    slice): the kernel then has no autogroup for it to lower."""
    try:
        return bool(AUTOGROUP.read_text().split())
    except OSError:
        return False


@pytest.mark.skipif(not in_an_autogroup(), reason="the CPU is not shared out here by autogroups")
def test_a_process_leading_its_own_session_lowers_its_autogroup_and_one_sharing_a_session_does_not():
    # With autogroups the CPU is shared out between sessions first: a process alone in its session
    # (as a supervisor starts a service) counts as little as its niceness says only through its
    # session's. The test's own session is shared with pytest: lowering it would slow them too.
    ours = int(AUTOGROUP.read_text().split()[-1])
    assert autogroup_nice(new_session=True, nice=17) == 17
    assert autogroup_nice(new_session=False, nice=17) == ours
    assert int(AUTOGROUP.read_text().split()[-1]) == ours


def test_where_a_cgroup_shares_the_cpu_a_session_leader_writes_no_autogroup_and_raises_nothing(tmp_path, monkeypatch):
    import shared.background as background

    empty = tmp_path / "autogroup"
    empty.write_text("")
    monkeypatch.setattr(background, "AUTOGROUP", empty)
    monkeypatch.setattr(background.os, "getsid", lambda pid: os.getpid())
    background._lower_autogroup(17)
    assert empty.read_text() == ""
