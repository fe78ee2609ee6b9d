"""Replay and verification for auditors: fold the log (from the database or from an export)
as of a position or a time, checking every event's hash on the way."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import orjson

from shared import canonical

from .adapters.repository import LedgerRepository
from .domain.as_of import AsOf, AsOfError  # noqa: F401 - AsOfError: the audit's callers catch it
from .domain.chain import ChainVerifier, Verdict
from .domain.state import LedgerState
from .replay_fast import replay_lines, replay_pairs
from .replay_parallel import replay_database_rows, replay_export_file
from .verify_export import CHECKPOINT, EVENT, export_lines, read_line


@dataclass(frozen=True)
class Replay:
    state: LedgerState
    verdict: Verdict

    def summary(self) -> dict:
        return {"seq": self.state.seq, "head": self.state.head, "digest": self.state.digest(), "verified": self.verdict.to_dict()}


def replay_records(records: Iterable[tuple[dict, bytes]], as_of: AsOf = AsOf()) -> Replay:
    """Fold (record, payload bytes) pairs in order until ``as_of``, verifying the chain as we go.

    ``export_records(handle)`` of an export file opened in binary mode is replayed from the file
    itself, verified by a worker process while this one folds (``replay_parallel``)."""
    if isinstance(records, ExportRecords):
        source = records.file_range()
        if source is not None:
            return Replay(*replay_export_file(*source, as_of))
        return Replay(*replay_lines(records.lines, as_of))
    return Replay(*replay_pairs(records, as_of))


#: Why a whole export fails when its chain is sound but it has no checkpoint line (the standalone
#: verifier's words; data after the checkpoint is a format error of the line, ``verify_export``).
NO_CHECKPOINT = "no checkpoint line: the export is truncated"


def against_checkpoint(verdict: Verdict, checkpoint: Any) -> Verdict:
    """The verdict on a whole export's chain with its end held against the export's checkpoint
    (its parsed ``{"count", "head", ...}``; anything else, None included, counts as none), as the
    standalone verifier does: an export cut short, or with anything after its checkpoint, fails."""
    if not verdict.ok:
        return verdict
    if not (isinstance(checkpoint, dict) and isinstance(checkpoint.get("count"), int)
            and isinstance(checkpoint.get("head"), str)):
        return Verdict(False, verdict.count, verdict.head, verdict.count + 1, NO_CHECKPOINT)
    return ChainVerifier(verdict.count, verdict.head).finish(checkpoint["count"], checkpoint["head"])


def checked_to_checkpoint(replay: Replay, path: str | os.PathLike) -> Replay:
    """``replay`` of the whole export at ``path``, its verdict held against the file's last line."""
    try:
        kind, checkpoint = read_line(last_line(path), orjson.loads)
    except ValueError:
        kind = None
    if kind != CHECKPOINT:
        checkpoint = None
    return Replay(replay.state, against_checkpoint(replay.verdict, checkpoint))


def last_line(path: str | os.PathLike, block: int = 1 << 16) -> bytes:
    """A file's last line that is not blank, read from its end."""
    with open(path, "rb") as handle:
        position = handle.seek(0, os.SEEK_END)
        tail = b""
        while position > 0:
            step = min(block, position)
            position -= step
            handle.seek(position)
            tail = handle.read(step) + tail
            text = tail.rstrip(b" \t\r\n")  # blank lines may follow the last one (verify_export)
            cut = text.rfind(b"\n")
            if cut >= 0 or position == 0:
                return text[cut + 1:]
        return b""


def replay_database(repo: LedgerRepository, as_of: AsOf = AsOf()) -> Replay:
    """The same from the database; on PostgreSQL a worker process reads and verifies the log
    through its own connection while this one folds (``replay_parallel``)."""
    if getattr(repo, "engine", None) is None:  # a store without a database (the in-memory fake)
        return replay_records(repo.iter_records(upto_seq=as_of.seq, upto_recorded_at=as_of.recorded_at), as_of)
    return Replay(*replay_database_rows(repo.engine, as_of))


class ExportRecords:
    """(record, canonical payload bytes) from the event lines of an export: an iterator, like the
    generator it replaces, that also tells ``replay_records`` where its lines come from."""

    def __init__(self, lines: Iterable[bytes]):
        self.lines = lines
        self._pairs: Iterator[tuple[dict, bytes]] | None = None

    def __iter__(self) -> "ExportRecords":
        return self

    def __next__(self) -> tuple[dict, bytes]:
        if self._pairs is None:
            self._pairs = _export_pairs(self.lines)
        return next(self._pairs)

    def file_range(self) -> tuple[str, int] | None:
        """(path, offset of the next line) when the lines are an unread-from binary file."""
        lines = self.lines
        if self._pairs is not None or not isinstance(lines, io.BufferedReader) or not isinstance(lines.name, str):
            return None
        try:
            return (lines.name, lines.tell()) if lines.seekable() else None
        except (OSError, ValueError):
            return None


def export_records(lines: Iterable[bytes]) -> ExportRecords:
    """(record, canonical payload bytes) from the event lines of an export."""
    return ExportRecords(lines)


def _export_pairs(lines: Iterable[bytes]) -> Iterator[tuple[dict, bytes]]:
    """The event lines as the standalone verifier reads them (``verify_export.export_lines``:
    raises its FormatError at a line that breaks the format)."""
    for _, kind, record in export_lines(lines, orjson.loads):
        if kind == EVENT:
            yield record, canonical.dumps(record.pop("payload"))
