"""The in-memory fake of the ledger's store port (``LedgerStore`` / ``LedgerTx`` in handlers.py).

It keeps what ``LedgerRepository`` keeps — the log (header fields and the exact payload bytes
that were hashed), the inbox record, the head row and the projection rows — and behaves the
same way: one write transaction at a time (the append lock), every change staged and applied
only when the ``with`` block ends normally (an exception rolls everything back), and the same
unique constraints (``seq``, event ``id``, ``(stream, stream_version)``, inbox message id).
It also answers the repository's reads (``head``, ``read``, ``iter_events``, ``iter_records``,
``verify``, ``history``). The contract suite in
``services/ledger/tests/integration/test_store_contract.py`` holds it and the SQLAlchemy
repository to the same behaviour; unit tests use it where they would otherwise need a database.
"""
from __future__ import annotations

import contextlib
import copy
import threading
from typing import Iterable, Iterator

import orjson

from shared.envelope import RecordedEvent

from ..domain.chain import GENESIS, HEADER_FIELDS, Verdict, verify
from ..domain.sealing import Sealed
from ..domain.changes import Changes
from ..domain.records import PROJECTIONS
from ..domain.state import LedgerState

_RECORD_FIELDS = HEADER_FIELDS + ("hash",)


class StoreConflict(ValueError):
    """A write a unique constraint refuses (where a database raises an IntegrityError)."""


class StoreBusy(RuntimeError):
    """The append lock was not granted in time (where SQLite says "database is locked")."""


class _Log:
    """The committed data; only ever touched under the store's lock."""

    def __init__(self) -> None:
        self.records: list[tuple[dict, bytes]] = []  # in seq order
        self.ids: set[str] = set()
        self.seqs: set[int] = set()
        self.stream_versions: set[tuple[str, int]] = set()
        self.inbox: dict[str, int] = {}
        self.head: tuple[int, str, str] = (0, GENESIS, "")
        self.projections: dict[str, dict] = {kind: {} for kind in PROJECTIONS}


class InMemoryLedgerTransaction:
    """One write transaction: reads see the committed data plus what this one staged."""

    def __init__(self, log: _Log):
        self._log = log
        self._records: list[tuple[dict, bytes]] = []
        self._inbox: dict[str, int] = {}
        self._head: tuple[int, str, str] | None = None
        self._projections: dict[str, dict] = {kind: {} for kind in PROJECTIONS}

    def lock_head(self) -> int:
        """The last ``seq`` on the log (the store's lock is already held by ``transaction()``)."""
        return (self._head or self._log.head)[0]

    def events_after(self, seq: int) -> Iterator[RecordedEvent]:
        for record, payload in sorted(self._log.records + self._records, key=lambda pair: pair[0]["seq"]):
            if record["seq"] > seq:
                yield _event(record, payload)

    def processed(self, message_ids: Iterable[str]) -> set[str]:
        return {m for m in message_ids if m in self._log.inbox or m in self._inbox}

    def append(self, sealed: list[Sealed], processed: list[tuple[str, int]]) -> None:
        staged_ids = {r["id"] for r, _ in self._records}
        staged_seqs = {r["seq"] for r, _ in self._records}
        staged_versions = {(r["stream"], r["stream_version"]) for r, _ in self._records}
        rows = []
        for item in sealed:
            record = {name: getattr(item.event, name) for name in _RECORD_FIELDS}
            version = (record["stream"], record["stream_version"])
            if record["seq"] in self._log.seqs or record["seq"] in staged_seqs:
                raise StoreConflict(f"seq {record['seq']} is already on the log")
            if record["id"] in self._log.ids or record["id"] in staged_ids:
                raise StoreConflict(f"event id {record['id']} is already on the log")
            if version in self._log.stream_versions or version in staged_versions:
                raise StoreConflict(f"stream {version[0]} already has version {version[1]}")
            staged_seqs.add(record["seq"])
            staged_ids.add(record["id"])
            staged_versions.add(version)
            rows.append((record, bytes(item.payload_bytes)))
        inbox = {}
        for message_id, seq in processed:
            if message_id in self._log.inbox or message_id in self._inbox or message_id in inbox:
                raise StoreConflict(f"message {message_id} was already processed")
            inbox[message_id] = int(seq)
        self._records.extend(rows)
        self._inbox.update(inbox)

    def save(self, changes: Changes) -> None:
        """Stage the live projection rows the batch's ``changes`` leave (this fake keeps no older
        versions: nothing reads it as of a position)."""
        for kind, staged in self._projections.items():
            cls = PROJECTIONS[kind][0]
            for version in changes.versions[kind]:
                if version.valid_to is None:
                    staged[version.key] = cls(**copy.deepcopy(version.row))

    def set_head(self, state: LedgerState) -> None:
        self._head = (state.seq, state.head, state.recorded_at)

    def _commit(self) -> None:
        log = self._log
        for record, payload in self._records:
            log.seqs.add(record["seq"])
            log.ids.add(record["id"])
            log.stream_versions.add((record["stream"], record["stream_version"]))
        log.records = sorted(log.records + self._records, key=lambda pair: pair[0]["seq"])
        log.inbox.update(self._inbox)
        for kind, staged in self._projections.items():
            log.projections[kind].update(staged)
        if self._head is not None:
            log.head = self._head


class InMemoryLedgerStore:
    """A ledger database in a Python object; share one instance between writers to share a log."""

    def __init__(self, *, lock_timeout: float = 30.0) -> None:
        self._log = _Log()
        self._append_lock = threading.Lock()  # held for a whole write transaction
        self._data_lock = threading.Lock()  # held briefly by a commit and by each read
        self.lock_timeout = lock_timeout

    @contextlib.contextmanager
    def transaction(self) -> Iterator[InMemoryLedgerTransaction]:
        if not self._append_lock.acquire(timeout=self.lock_timeout):
            raise StoreBusy(f"the append lock was not granted within {self.lock_timeout}s")
        try:
            tx = InMemoryLedgerTransaction(self._log)
            yield tx
            with self._data_lock:  # not reached when the block raised: nothing staged survives
                tx._commit()
        finally:
            self._append_lock.release()

    # -- state -------------------------------------------------------------------------------
    def load_state(self, *, with_items: bool = True, with_streams: bool = True) -> LedgerState:
        with self._reading():
            log = self._log
            state = LedgerState(seq=log.head[0], head=log.head[1], recorded_at=log.head[2])
            for kind, records in log.projections.items():
                if with_items or kind not in ("items", "listings"):
                    setattr(state, kind, copy.deepcopy(records))
            if with_items:
                state.index_items()
                for record, _ in log.records:
                    state.streams[record["stream"]] = max(state.streams.get(record["stream"], 0), record["stream_version"])
            return state

    # -- reading the log ---------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        with self._reading():
            return self._log.head[0], self._log.head[1]

    def read(self, after: int, limit: int, region: str | None = None) -> list[RecordedEvent]:
        with self._reading():
            found = [_event(r, p) for r, p in self._log.records
                     if r["seq"] > after and (region is None or r["region"] == region)]
        return found[:limit]

    def iter_events(self, upto_seq: int | None = None, upto_recorded_at: str | None = None,
                    chunk: int = 5000) -> Iterator[RecordedEvent]:
        for record, payload in self.iter_records(upto_seq, upto_recorded_at, chunk):
            yield _event(record, payload)

    def iter_records(self, upto_seq: int | None = None, upto_recorded_at: str | None = None,
                     chunk: int = 5000) -> Iterator[tuple[dict, bytes]]:
        """Stored records as (fields, payload bytes) in ``seq`` order, from one snapshot."""
        with self._reading():
            records = [(dict(r), p) for r, p in self._log.records
                       if (upto_seq is None or r["seq"] <= upto_seq)
                       and (upto_recorded_at is None or r["recorded_at"] <= upto_recorded_at)]
        yield from records

    def verify(self) -> Verdict:
        with self._reading():
            head_seq, head_hash, _ = self._log.head
            records = [(dict(r), p) for r, p in self._log.records]
        return verify(records, expected_count=head_seq, expected_head=head_hash)

    def events_at(self, seqs: list[int]) -> list[RecordedEvent]:
        wanted = set(seqs)
        with self._reading():
            return [_event(r, p) for r, p in self._log.records if r["seq"] in wanted]

    def history(self, stream: str) -> list[RecordedEvent]:
        with self._reading():
            return [_event(r, p) for r, p in self._log.records if r["stream"] == stream]

    @contextlib.contextmanager
    def _reading(self):
        # A reader never waits for a write transaction, only for a commit in progress, so it
        # sees a whole commit or none of it (a database reader gets a snapshot instead).
        with self._data_lock:
            yield


def _event(record: dict, payload: bytes) -> RecordedEvent:
    return RecordedEvent(payload=orjson.loads(payload), **record)
