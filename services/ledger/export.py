"""Export of the log for auditors: JSON Lines, one recorded event a line, then a checkpoint line
``{"checkpoint": {"count": N, "head": H, ...}}`` that a verifier checks the chain against, so a
truncated or extended file is caught too."""
from __future__ import annotations

from pathlib import Path
from typing import IO, Iterator

import orjson

from shared.clock import Clock, format_instant
from shared.envelope import RecordedEvent

from .adapters.repository import LedgerRepository

FORMAT = "zeroclear-ledger-export/1"


def export(repo: LedgerRepository, out: IO[bytes], clock: Clock) -> dict:
    """Write every event up to the current head, then the checkpoint; returns the checkpoint."""
    head_seq, head_hash = repo.head()
    for event in repo.iter_events(upto_seq=head_seq):
        out.write(orjson.dumps(event.to_dict()) + b"\n")
    checkpoint = {"format": FORMAT, "count": head_seq, "head": head_hash, "exported_at": format_instant(clock.now())}
    out.write(orjson.dumps({"checkpoint": checkpoint}) + b"\n")
    return checkpoint


def read_export(path: Path | str) -> tuple[Iterator[RecordedEvent], dict | None]:
    """Events of an export (lazily) and its checkpoint (read first, from the file's last line)."""
    checkpoint = None
    with open(path, "rb") as handle:
        for line in handle:
            if line.startswith(b'{"checkpoint"'):
                checkpoint = orjson.loads(line)["checkpoint"]

    def events() -> Iterator[RecordedEvent]:
        with open(path, "rb") as handle:
            for line in handle:
                data = orjson.loads(line)
                if "checkpoint" not in data:
                    yield RecordedEvent.from_dict(data)

    return events(), checkpoint
