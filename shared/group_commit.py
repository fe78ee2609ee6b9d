"""Group commit for request handlers: many threads hand in work, one thread commits it in
batches, each caller waits for its own result.

A transaction per HTTP request costs about a millisecond of CPU in the database driver alone
(begin, inserts, commit, each a round trip); one transaction for every request that arrived
meanwhile costs about a tenth of that per request and one fsync instead of dozens. Batches form
by themselves: while one commits, the next requests queue up, so a quiet system adds no delay.
"""
from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, Generic, Sequence, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .db import write_tx

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
#: Work for one batch: returns one result per item, or an exception instance for an item that
#: failed on its own (the others still commit).
BatchWork = Callable[[Connection, Sequence[T]], list]


_STOP: Any = object()  # queued by close(): the thread ends after the batch before it


class GroupCommitter(Generic[T, R]):
    def __init__(self, engine: Engine, work: BatchWork, *, max_batch: int = 256,
                 on_commit: Callable[[], None] = lambda: None, name: str = "group-commit"):
        self.engine = engine
        self.work = work
        self.max_batch = max_batch
        self.on_commit = on_commit
        self.name = name
        self._queue: queue.SimpleQueue[tuple[T, Future]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, item: T, timeout: float = 60.0) -> R:
        """Commit ``item`` with whatever else is waiting; returns its result or raises its error."""
        future: Future = Future()
        with self._lock:  # queued before close()'s stop, or refused
            if self._closed:
                raise RuntimeError(f"{self.name} is closed")
            if self._thread is None or not self._thread.is_alive():  # started lazily: after a fork, in the worker
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._queue.put((item, future))
        result = future.result(timeout)
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        """End the thread once what was submitted before is committed (a service stopped in a
        process that goes on); nothing may be submitted after."""
        with self._lock:
            self._closed, thread = True, self._thread
            if thread is not None and thread.is_alive():
                self._queue.put(_STOP)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch and batch[-1] is not _STOP:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = batch[-1] is _STOP
            if stop:
                batch.pop()
            if batch:
                self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[T, Future]], retried: bool = False) -> None:
        try:
            with write_tx(self.engine) as conn:
                results = self.work(conn, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                if isinstance(exc, IntegrityError) and not retried:  # lost a race to another process:
                    self._commit(batch, retried=True)                 # the work sees the winner now
                else:
                    batch[0][1].set_result(exc)
                return
            log.warning("%s: a batch of %d failed (%r); committing one by one", self.name, len(batch), exc)
            for entry in batch:  # isolate the item at fault (e.g. a constraint race); the rest commit
                self._commit([entry])
            return
        self.on_commit()
        for (_, future), result in zip(batch, results):
            future.set_result(result)
