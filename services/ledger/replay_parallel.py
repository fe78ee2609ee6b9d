"""Replay on two cores: one process reads and verifies, the other folds.

Verifying the chain and folding the projection are about the same amount of work per event
(reading and parsing a record, two SHA-256 over its canonical forms / building its projection
records), and the fold must happen in the process that wants the state. So a worker process
reads the log — the export file, or the database through its own connection — checks every
event exactly as ``ChainVerifier`` does, in order, and streams what the fold needs of each
*verified* event (its type, stream and version, occurrence time and canonical payload bytes) to
this process in batches; this process parses the payloads and folds them, while the worker
goes on with the next batch.

Because the worker sends only events it has verified, and in order, the fold never runs ahead of
the verdict: the state is always that of the events before the first bad one, and the verdict
(first bad seq, reason, last good count and head) is the sequential verifier's own. Anything else
— a line that is not JSON, a record without a field, a worker that died — has this process
replay the log itself, sequentially (``replay_fast``), which behaves exactly as the reference
replay does, exceptions included.

Splitting the log into ranges verified side by side would scale the *verification* with more
cores, but not the fold, which stays in one process; on two cores a second range worker only
takes CPU from the fold. The worker is forked when this process runs a single thread (start-up
in milliseconds) and spawned otherwise (forking a process with other threads can leave a lock
held in the child).
"""
from __future__ import annotations

import gc
import marshal
from contextlib import closing
import multiprocessing
import os
import threading
from hashlib import sha256
from typing import Any, Callable

import orjson

from .domain.as_of import AsOf
from .domain.chain import EVENT_TAG, GENESIS, PAYLOAD_TAG, ChainVerifier, Verdict, record_problem
from .domain.log_row import (
    HASH, OCCURRED_AT, PAYLOAD, RECORDED_AT, SEQ, STREAM, STREAM_VERSION, TYPE, gc_paused, row_problem,
)
from .domain.codec import DECODERS
from .domain.fold import FOLDS
from .domain.state import LedgerState
from .replay_fast import replay_lines, replay_rows
from .verify_export import BLANK, CHECKPOINT, read_line

#: Below this many bytes an export is replayed in this process alone (a worker costs a fork).
MIN_PARALLEL_BYTES = 4 << 20
#: The same for the database, in events (about that many bytes of stored rows): a worker there is
#: usually spawned, not forked (the services run threads), which costs a second of imports.
MIN_PARALLEL_EVENTS = 5_000
#: Verified events per message from the worker (small enough for the allocator to reuse the
#: memory of the last batch instead of returning it to the system and faulting it in again).
BATCH = 100

_loads, _dumps, _SORTED = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS
_END, _ERROR = "end", "error"


class _Fallback(Exception):
    """Not a plain verdict: replay sequentially in this process instead."""


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# -- the two replays -------------------------------------------------------------------------
def replay_export_file(path: str, start: int = 0, as_of: AsOf | None = None, *, parallel: bool | None = None,
                       batch: int = BATCH) -> tuple[LedgerState, Verdict]:
    """``replay_lines`` on the lines of the file ``path`` from byte ``start``, verified by a
    worker process while this one folds. ``parallel``: ``None`` decides by the file's size
    (``MIN_PARALLEL_BYTES``) and the CPUs available; ``False`` keeps to this process; ``True``
    asks for a worker."""
    if parallel is None:
        parallel = cpus() > 1 and os.path.getsize(path) - start >= MIN_PARALLEL_BYTES
    if not parallel:
        return _export_here(path, start, as_of)
    try:
        return _pipeline(_export_worker, (path, start, as_of, batch))
    except _Fallback:
        return _export_here(path, start, as_of)


def replay_database_rows(engine, as_of: AsOf | None = None, *, parallel: bool | None = None, batch: int = BATCH,
                         ) -> tuple[LedgerState, Verdict]:
    """``replay_rows`` on the log in ``engine``'s database; on PostgreSQL, with ``MIN_PARALLEL_EVENTS``
    or more to replay, the rows are read and verified by a worker process with its own connection
    while this one folds. ``parallel`` as for ``replay_export_file``."""
    if parallel is None:
        parallel = (cpus() > 1 and engine.dialect.name == "postgresql"
                    and _events_up_to(engine, as_of) >= MIN_PARALLEL_EVENTS)
    if parallel:
        try:
            return _pipeline(_database_worker, (engine.url.render_as_string(hide_password=False), as_of, batch))
        except _Fallback:
            pass
    return _database_here(engine, as_of)


def _events_up_to(engine, as_of) -> int:
    """How many events a replay to ``as_of`` reads at most (the log's head, or the position asked)."""
    from .adapters.log_rows import head_seq  # here: replaying an export needs no database library

    with engine.connect() as conn:
        head = head_seq(conn)
    return head if as_of is None or as_of.seq is None else min(head, as_of.seq)


def _export_here(path: str, start: int, as_of) -> tuple[LedgerState, Verdict]:
    with open(path, "rb") as handle:
        handle.seek(start)
        return replay_lines(handle, as_of)


def _database_here(engine, as_of) -> tuple[LedgerState, Verdict]:
    from .adapters.log_rows import stream_rows  # here: replaying an export needs no database library

    seq = as_of.seq if as_of is not None else None
    recorded_at = as_of.recorded_at if as_of is not None else None
    with engine.connect() as conn, closing(stream_rows(conn, upto_seq=seq, upto_recorded_at=recorded_at)) as rows:
        return replay_rows(rows, as_of)


# -- this process: the fold ------------------------------------------------------------------
def _pipeline(worker: Callable, args: tuple) -> tuple[LedgerState, Verdict]:
    """Run ``worker(sender, *args)`` in another process and fold the batches it sends."""
    context = multiprocessing.get_context(start_method())
    receiver, sender = context.Pipe(duplex=False)
    _widen(sender)
    state = LedgerState()
    streams, folds, decoders = state.streams, FOLDS, DECODERS
    count = 0
    with gc_paused():  # from before the fork: a forked worker must not collect (and so copy) our pages
        try:
            process = context.Process(target=_run, args=(worker, sender, *args), daemon=True)
            process.start()
        except Exception as exc:  # no process to be had: the sequential replay does without
            receiver.close()
            sender.close()
            raise _Fallback(repr(exc)) from None
        sender.close()
        try:
            while True:
                message = marshal.loads(receiver.recv_bytes())
                if type(message) is not list:
                    break
                for type_, stream, version, occurred_at, body in message:
                    count += 1
                    if body is not None:
                        folds[type_](state, count, occurred_at, decoders[type_](body), None)
                    streams[stream] = version
        except Exception:  # a dead worker, or a fold that fails: the sequential replay says what
            raise _Fallback from None
        finally:
            receiver.close()
            if process.is_alive() and process.exitcode is None:
                process.terminate()
            process.join()
    if message[0] != _END:
        raise _Fallback(message)
    _, verified, head, recorded_at, bad = message
    if verified != count:
        raise _Fallback(f"folded {count} events, verified {verified}")
    if count:
        state.seq, state.head, state.recorded_at = count, head, recorded_at
    bad = Verdict(False, count, head, bad[0], bad[1]) if bad is not None else None
    return state, ChainVerifier(count, head, bad).finish()


def start_method() -> str:
    """``fork`` (the worker starts in milliseconds) unless this process runs other threads:
    forking then can leave a lock held in the child, so the worker is spawned (~0.1 s and more
    to start: a new interpreter imports the modules it needs)."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _widen(connection) -> None:
    """A 1 MiB pipe instead of 64 KiB: fewer wake-ups per batch (Linux; harmless elsewhere)."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


# -- the worker: read, verify, send ----------------------------------------------------------
def _run(worker: Callable, sender, *args) -> None:
    gc.disable()  # what the worker allocates is short-lived; a forked one shares its parent's pages
    try:
        try:
            worker(sender, *args)
        except Exception as exc:  # noqa: BLE001 - this process replays sequentially instead
            sender.send_bytes(marshal.dumps((_ERROR, repr(exc))))
    finally:
        sender.close()


def _export_worker(sender, path: str, start: int, as_of, size: int) -> None:
    """``replay_lines``'s reading and checking, with the fold's inputs sent instead of folded.

    A line as ``export()`` writes it — ``{<header fields>,"payload":<canonical payload>,
    "payload_hash":…,"prev_hash":…,"hash":…}`` — is checked without parsing its payload: the
    header is parsed from the line with the payload cut out, and the payload's hash is taken
    over its text in the line, which is what the fold then parses. Both hashes matching means the
    header is exactly the recorded one and the text exactly the recorded canonical payload, so
    the line parses as a whole to the same record and ``replay_lines`` accepts it too. Any other
    line, and any line that fails, goes through ``replay_lines``'s own steps, which decide."""
    includes = as_of.includes if as_of is not None and (as_of.seq is not None or as_of.recorded_at is not None) else None
    send = sender.send_bytes
    count, head, recorded_at, bad = 0, GENESIS, "", None
    batch: list = []
    with open(path, "rb") as lines:
        lines.seek(start)
        for line in lines:
            expected = count + 1
            record = None
            cut, tail = line.find(b',"payload":'), line.rfind(b',"payload_hash":"')
            if 0 < cut < tail:
                body = line[cut + 11:tail]
                try:
                    header = _loads(line[:cut] + line[tail:])
                    hash_ = header.pop("hash")
                    if (header["seq"] == expected and header["prev_hash"] == head
                            and (includes is None or includes(header))
                            and sha256(PAYLOAD_TAG + body).hexdigest() == header["payload_hash"]
                            and sha256(EVENT_TAG + _dumps(header, option=_SORTED)).hexdigest() == hash_):
                        record = header
                        record["hash"] = hash_
                except Exception:  # noqa: BLE001 - not the usual shape: the steps below decide
                    pass
            if record is None:  # replay_lines, step by step
                kind, record = read_line(line, _loads)  # a line that breaks the format: replay_lines says how
                if kind == BLANK:
                    continue
                if kind == CHECKPOINT:
                    if any(read_line(rest, _loads)[0] != BLANK for rest in lines):
                        raise ValueError("data after the checkpoint")  # replay_lines names the line
                    break
                body = _dumps(record.pop("payload"), option=_SORTED)  # canonical.dumps
                if includes is not None and not includes(record):
                    break
                problem = record_problem(expected, head, record, body)
                if problem is not None:
                    bad = (expected, problem)
                    break
            count, head, recorded_at = expected, record["hash"], record["recorded_at"]
            type_ = record["type"]
            batch.append((type_, record["stream"], record["stream_version"], record["occurred_at"],
                          body if type_ in FOLDS else None))
            if len(batch) == size:
                send(marshal.dumps(batch))
                batch = []
    _finish(send, batch, count, head, recorded_at, bad)


def _database_worker(sender, url: str, as_of, size: int) -> None:
    """``replay_rows``'s reading and checking, through a connection of its own."""
    from shared.db import make_engine  # here: a worker spawned for an export needs no database library

    from .adapters.log_rows import stream_rows


    upto_seq = as_of.seq if as_of is not None else None
    upto_at = as_of.recorded_at if as_of is not None else None
    send = sender.send_bytes
    count, head, recorded_at, bad = 0, GENESIS, "", None
    batch: list = []
    engine = make_engine(url, pool_size=1)
    try:
        # closing(): the stream must end (a psycopg stream holds the connection) before the
        # connection does, also when the loop stops early.
        with engine.connect() as conn, closing(stream_rows(conn, upto_seq=upto_seq, upto_recorded_at=upto_at)) as rows:
            for row in rows:
                seq = row[SEQ]
                if (upto_seq is not None and seq > upto_seq) or (upto_at is not None and row[RECORDED_AT] > upto_at):
                    break
                expected = count + 1
                problem = row_problem(expected, head, row)
                if problem is not None:
                    bad = (expected, problem)
                    break
                count, head, recorded_at = expected, row[HASH], row[RECORDED_AT]
                type_ = row[TYPE]
                batch.append((type_, row[STREAM], row[STREAM_VERSION], row[OCCURRED_AT],
                              row[PAYLOAD] if type_ in FOLDS else None))
                if len(batch) == size:
                    send(marshal.dumps(batch))
                    batch = []
    finally:
        engine.dispose()
    _finish(send, batch, count, head, recorded_at, bad)


def _finish(send, batch: list, count: int, head: str, recorded_at: str, bad: Any) -> None:
    if batch:
        send(marshal.dumps(batch))
    send(marshal.dumps((_END, count, head, recorded_at, bad)))
