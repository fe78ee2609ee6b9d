"""A background loop: one thread doing one step of work at a time.

After a step that found work it pauses ``pace_seconds`` (unless the step was a full batch) so
that the next batch gathers what arrives meanwhile: under load, batches grow and the cost per
item falls, at the price of a few milliseconds of latency. After an idle step it waits for its
doorbell or its poll interval; while a dependency (broker, database, another service) is
down it backs off, up to five seconds, and logs only what is not an expected outage.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

from . import health
from .broker import PublishError
from .db import SoleHolder, is_transient_db_error

log = logging.getLogger(__name__)
MAX_BACKOFF = 5.0


class BackgroundLoop:
    """Subclass it and define ``step()`` (returning how much it did), or pass ``step=``. With a
    ``holder``, it steps only while this process holds it (one process among those on a database
    does the work; another takes over when it goes), and lets it go when it stops."""

    def __init__(self, name: str, *, poll_seconds: float, step: Callable[[], int] | None = None,
                 pace_seconds: float = 0.0, batch_size: int = 0,
                 is_expected: Callable[[BaseException], bool] = lambda exc: False,
                 on_exit: Callable[[], None] = lambda: None, nice: int = 0, holder: SoleHolder | None = None):
        self.name = name
        if step is not None:
            self.step = step
        self.poll_seconds = poll_seconds
        self.pace_seconds = pace_seconds
        self.batch_size = batch_size
        self.is_expected = is_expected
        self.on_exit = on_exit
        self.nice = nice  # this thread's CPU niceness (0-19): work that must yield to the rest
        self.holder = holder
        self._doorbell = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = health.Unhealthy()

    def step(self) -> int:
        raise NotImplementedError

    def notify(self, *_args) -> None:
        """Wake the loop now (something was just committed for it)."""
        self._doorbell.set()

    def start(self) -> "BackgroundLoop":
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        health.register(self)
        return self

    def health(self) -> str | None:
        """None while the loop runs and its steps have not been failing for long (``health.GRACE``)."""
        if self._thread is None or not self._thread.is_alive():
            return "not running"
        return self._failing.problem()

    def stop(self, timeout: float = 10) -> None:
        health.unregister(self)
        self._stop.set()
        self._doorbell.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        wait = self.poll_seconds
        if self.nice:
            try:
                lower_priority(self.nice, threading.get_native_id())  # Linux schedules each thread apart
            except OSError:
                log.warning("%s: could not lower its thread's priority", self.name)
        try:
            while not self._stop.is_set():
                try:
                    done = self.step() if self.holder is None or self.holder.holds() else 0
                    wait = self.poll_seconds
                    self._failing.ok()
                except Exception as exc:
                    done, wait = 0, min(max(wait * 2, 0.2), MAX_BACKOFF)
                    self._failing.failed(repr(exc)[:200])
                    if isinstance(exc, PublishError) or is_transient_db_error(exc) or self.is_expected(exc):
                        log.warning("%s: waiting for a dependency (%s)", self.name, exc)
                    else:
                        log.exception("%s failed", self.name)
                if not done:
                    self._doorbell.wait(wait)
                    self._doorbell.clear()
                elif self.pace_seconds and not (self.batch_size and done >= self.batch_size):
                    self._stop.wait(self.pace_seconds)
        finally:
            self.on_exit()
            if self.holder is not None:
                self.holder.release()


def lower_priority(nice: int, task: int = 0) -> None:
    """Run ``task`` (a thread's native id; 0: this process, and what it starts) at niceness ``nice``
    at least (never raising its priority, which an unprivileged process may not)."""
    if nice > os.getpriority(os.PRIO_PROCESS, task):
        os.setpriority(os.PRIO_PROCESS, task, nice)
    if task == 0:
        _lower_autogroup(nice)


AUTOGROUP = Path("/proc/self/autogroup")


def _lower_autogroup(nice: int, attempts: int = 30) -> None:
    """Linux with autogroups (the default of most distributions) shares the CPU out between sessions
    first, and by niceness only within one: a process started in a session of its own (by a
    supervisor, ``setsid``) would take its full share at any niceness. Such a process lowers its
    session's (autogroup's) niceness too; one sharing its session leaves it alone, its niceness
    already counting against the others there. (In a container's cgroup there is no autogroup: the
    cgroup's CPU weight, compose's ``cpu_shares``, does it.)"""
    if os.getsid(0) != os.getpid():
        return
    try:
        current = int(AUTOGROUP.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return  # no autogroups here
    if nice <= current:
        return
    for _ in range(attempts):  # the kernel takes one change in 100 ms from an unprivileged process
        try:
            AUTOGROUP.write_text(f"{nice}\n")
            return
        except BlockingIOError:
            time.sleep(0.1)
        except OSError as exc:
            log.warning("could not lower this session's CPU priority (%s): %s", AUTOGROUP, exc)
            return
    log.warning("could not lower this session's CPU priority (%s): the kernel kept refusing", AUTOGROUP)
