"""The scores of a year as of a log position never change: each is computed once and kept for
the next reader (a few positions, the newest kept), instead of scoring every region per request.

A scoring the kept rows do not cover (an old position, a cut-off of the reader's choosing) takes
tens of seconds at a national campaign's size: ``Scorings`` runs them one at a time, in a thread
of their own at a lower CPU priority, each once however many ask for it. Readers asking for many
then queue them instead of taking every core from filing, and a reader who stops waiting leaves
the answer to be kept for their retry."""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitedEnough
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from shared.background import lower_priority

_MISSING = object()


class Memo:
    def __init__(self, size: int = 64):
        self.size = size
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        found = self.peek(key)
        if found is not _MISSING:
            return found
        value = compute()
        self.put(key, value)
        return value

    def peek(self, key: Hashable) -> Any:
        """The value kept at ``key``, or ``_MISSING``."""
        with self._lock:
            if key not in self._kept:
                return _MISSING
            self._kept.move_to_end(key)
            return self._kept[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._kept[key] = value
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


class Busy(Exception):
    """Not answered in time, or too many scorings already waiting: try again later."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Pending:
    future: Future
    waiters: int = 0


class Scorings:
    def __init__(self, *, kept: int = 16, nice: int = 10, wait_seconds: float = 20.0, queued_at_most: int = 4):
        self.memo = Memo(size=kept)  # a national year's answer and summary: tens of MB each
        self.wait_seconds, self.queued_at_most = wait_seconds, queued_at_most
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="assessment-scoring",
                                        initializer=lambda: lower_priority(nice, threading.get_native_id()))
        self._pending: dict[Hashable, _Pending] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value at ``key``: kept, or computed (once, in the scoring thread); ``Busy`` when it
        is not done within ``wait_seconds`` (it goes on, and is kept) or too many are queued."""
        with self._lock:
            found = self.memo.peek(key)
            if found is not _MISSING:
                return found
            pending = self._pending.get(key)
            if pending is None:
                if len(self._pending) >= self.queued_at_most:
                    raise Busy(f"{len(self._pending)} other scorings are queued", retry_after=10)
                pending = self._pending[key] = _Pending(self._pool.submit(self._run, key, compute))
            pending.waiters += 1
        try:
            return pending.future.result(timeout=self.wait_seconds)
        except WaitedEnough:
            raise Busy(f"not scored within {self.wait_seconds:g} s; it goes on and is kept",
                       retry_after=max(1, round(self.wait_seconds / 2))) from None
        finally:
            with self._lock:
                pending.waiters -= 1
                if not pending.waiters and pending.future.cancel():  # nobody waits for it and it has not begun
                    self._pending.pop(key, None)

    def close(self) -> None:
        """No scoring begins any more; the one running ends its thread when done."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        try:
            value = compute()
            self.memo.put(key, value)  # kept before it stops being pending: an asker finds one or the other
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
