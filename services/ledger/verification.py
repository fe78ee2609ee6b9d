"""``/v1/verify``: a cheap answer for everyone, the full walks for office and auditors, one at a time.

Recomputing the whole chain costs the whole log; open to anyone, it was a way to overload the
ledger. So the public answer is the last verified head, kept in this process with the time it
was verified, moved on at most every ``every_seconds`` by verifying only the events appended
since (from the verified head's hash: a chain verified to N and then from N on is verified to the
end). A full walk — the whole chain, or ``deep``: the projections rebuilt and compared too — is
for office and auditor keys, and only one runs at a time across the ledger's processes (a
PostgreSQL advisory lock; on SQLite a lock on a file beside the database); another asking
meanwhile is told to come back (``WalkBusy``). A full walk's verdict becomes the public one.
A broken chain stays the public answer until a full walk finds it whole again.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

from shared.clock import Clock, format_instant
from shared.db import read_tx

from .adapters.log_rows import stream_rows
from .adapters.repository import LedgerRepository
from .adapters.tables import log_head
from .domain.chain import GENESIS, Verdict
from .domain.log_row import verify_rows

#: The PostgreSQL advisory lock of a full walk (any number both sides agree on: "zcvw").
WALK_LOCK_KEY = 0x7A637677


class WalkBusy(Exception):
    """Another full verification is running."""


@dataclass(frozen=True)
class Verified:
    verdict: Verdict
    verified_at: str
    scope: str  # "incremental" or "full"

    def to_dict(self) -> dict:
        return {**self.verdict.to_dict(), "verified_at": self.verified_at, "scope": self.scope}


class Verification:
    def __init__(self, repo: LedgerRepository, clock: Clock, every_seconds: float = 0.0):
        self.repo, self.clock, self.every_seconds = repo, clock, every_seconds
        self._lock = threading.Lock()
        self._last: Verified | None = None
        self._checked = float("-inf")  # time.monotonic() of the last look at the log

    # -- everyone --------------------------------------------------------------------------------
    def public(self) -> Verified:
        """The last verified head, moved on over the events appended since if it is older than
        ``every_seconds``. One request at a time does that; the others meanwhile are answered
        the last verdict at once (only the very first ones, with none yet, wait for it)."""
        last = self._last
        if last is not None and time.monotonic() - self._checked < self.every_seconds:
            return last
        if not self._lock.acquire(blocking=last is None):
            return last
        try:
            if self._last is None or time.monotonic() - self._checked >= self.every_seconds:
                self._advance()
            return self._last
        finally:
            self._lock.release()

    def _advance(self) -> None:
        last = self._last
        if last is not None and not last.verdict.ok:  # broken stays broken until a full walk
            self._checked = time.monotonic()
            return
        count, head = (last.verdict.count, last.verdict.head) if last is not None else (0, GENESIS)
        with read_tx(self.repo.engine) as conn:
            row = conn.execute(sa.select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)).first()
            head_seq, head_hash = (int(row.seq), row.hash) if row else (0, GENESIS)
            if head_seq == count and head_hash == head and last is not None:
                verdict = last.verdict
            elif head_seq < count:
                verdict = Verdict(False, count, head, head_seq + 1,
                                  f"the head row says {head_seq} events, {count} were verified before")
            else:
                with closing(stream_rows(conn, upto_seq=head_seq, after=count)) as rows:
                    verdict = verify_rows(rows, expected_count=head_seq, expected_head=head_hash,
                                          start=(count, head))
        self._checked = time.monotonic()
        self._last = Verified(verdict, format_instant(self.clock.now()), "incremental")

    # -- office and auditors ---------------------------------------------------------------------
    def full(self) -> Verified:
        """The whole chain walked (raises WalkBusy while another walk runs); the public answer after."""
        with self.walking():
            verified = Verified(self.repo.verify(), format_instant(self.clock.now()), "full")
        with self._lock:
            self._last, self._checked = verified, time.monotonic()
        return verified

    def deep(self) -> dict:
        """``deep_verify``: the chain and every projection row against a rebuild from the log."""
        from .deep_verify import deep_verify

        with self.walking():
            answer = deep_verify(self.repo.engine)
            verified_at = format_instant(self.clock.now())
        chain = answer["chain"]
        verdict = Verdict(chain["ok"], chain["count"], chain["head"], chain.get("first_bad_seq"), chain.get("reason"))
        with self._lock:
            self._last, self._checked = Verified(verdict, verified_at, "full"), time.monotonic()
        return {**answer, "verified_at": verified_at, "scope": "deep"}

    @contextlib.contextmanager
    def walking(self) -> Iterator[None]:
        engine = self.repo.engine
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": WALK_LOCK_KEY}).scalar():
                    raise WalkBusy()
                try:
                    conn.commit()
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": WALK_LOCK_KEY})
                    conn.commit()
            return
        with walk_lock_file(engine.url.database):
            yield


@contextlib.contextmanager
def walk_lock_file(database: str | None) -> Iterator[None]:
    """The SQLite ledger's walk lock: ``flock`` on ``<database>.verify.lock`` (every opening of
    the file is its own lock, so threads of one process exclude each other as processes do)."""
    path = Path(f"{database}.verify.lock") if database and database != ":memory:" else None
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WalkBusy() from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
