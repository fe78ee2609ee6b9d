"""Export of the log for auditors: JSON Lines, one recorded event a line, then a checkpoint line
``{"checkpoint": {"count": N, "head": H, ...}}`` that a verifier checks the chain against, so a
truncated or extended file is caught too."""
from __future__ import annotations

import dataclasses
from contextlib import closing
from operator import itemgetter
from typing import IO, Iterable, Iterator

import orjson

from shared.clock import Clock, format_instant
from shared.envelope import RecordedEvent

from .adapters.log_rows import stream_rows
from .adapters.repository import LedgerRepository
from .domain.log_row import ROW_FIELDS

FORMAT = "zeroclear-ledger-export/1"


def export(repo: LedgerRepository, out: IO[bytes], clock: Clock, key=None) -> dict:
    """Write every event up to the current head, then the checkpoint; returns the checkpoint.
    The checkpoint holds the Merkle tree's root and, with the ledger's signing ``key``, its
    signed note (issue 17: what a verifier holds the file to, with the ledger's public key).

    Each line is ``RecordedEvent.to_dict()`` in JSON, the payload written as the canonical text
    it is stored as (an ``orjson.Fragment``: nothing is parsed or serialised again)."""
    head_seq, head_hash = repo.head()
    if getattr(repo, "engine", None) is None:  # a store without a database (the in-memory fake)
        for event in repo.iter_events(upto_seq=head_seq):
            out.write(orjson.dumps(event.to_dict()) + b"\n")
    else:
        with repo.engine.connect() as conn, closing(stream_rows(conn, upto_seq=head_seq)) as rows:
            _write_lines(rows, out)
    checkpoint = {"format": FORMAT, "count": head_seq, "head": head_hash, "exported_at": format_instant(clock.now())}
    if getattr(repo, "engine", None) is not None:
        checkpoint.update(signed_tree(repo.engine, key, head_seq, clock))
    out.write(orjson.dumps({"checkpoint": checkpoint}) + b"\n")
    return checkpoint


def signed_tree(engine, key, size: int, clock: Clock) -> dict:
    """The root of the log's tree at ``size`` and, with a signing key, the ledger's signed note of it."""
    from . import checkpoints
    from .adapters import merkle_store

    if key is not None:
        signed = checkpoints.take(engine, key, clock, at=size)
        return {"root": signed["root"], "note": signed["note"]}
    with engine.connect() as conn:
        return {"root": merkle_store.root(conn, size).hex()}


#: A line's fields in ``RecordedEvent.to_dict()`` order, and where each is in a stored row.
_LINE_FIELDS = tuple(f.name for f in dataclasses.fields(RecordedEvent))
_line_values = itemgetter(*[ROW_FIELDS.index(name) for name in _LINE_FIELDS])
_PAYLOAD_AT = _LINE_FIELDS.index("payload")


def _write_lines(rows: Iterable[tuple], out: IO[bytes], chunk: int = 100) -> None:
    for block in line_blocks(rows, chunk):
        out.write(block)


def line_blocks(rows: Iterable[tuple], lines_per_block: int) -> Iterator[bytes]:
    """The rows' export lines, ``lines_per_block`` joined into one bytes (each ending in a newline):
    a file write of the command line's export, or one chunk of the streamed HTTP export, built
    with one copy of the lines."""
    dumps, fragment, names = orjson.dumps, orjson.Fragment, _LINE_FIELDS
    lines: list[bytes] = []
    for row in rows:
        values = list(_line_values(row))
        values[_PAYLOAD_AT] = fragment(values[_PAYLOAD_AT])
        lines.append(dumps(dict(zip(names, values))))
        if len(lines) == lines_per_block:
            lines.append(b"")
            yield b"\n".join(lines)
            lines = []
    if lines:
        lines.append(b"")
        yield b"\n".join(lines)
