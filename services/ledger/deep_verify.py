"""Deep verification: the stored projections held against a rebuild of them from the log.

The hash chain proves the log; the projections are derived from it, and a reader is served from
them, so a row edited in the database (``UPDATE items SET status='verified'``) is served as it
stands and the chain still verifies. Here the log is folded again — every event verified first —
into a scratch SQLite database (the rebuild the ledger itself runs, ``adapters/rebuild.rebuild_into``),
and every version of every projection row (the live ones, ``valid_to IS NULL``, and the history
that ``as_of`` reads) is compared with the stored one, table by table in key order, both sides
streamed. The stored side is read in one snapshot with the log it is compared to, so writes
meanwhile cannot make it differ.
"""
from __future__ import annotations

import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.db import make_engine, read_tx, write_tx

from .adapters.log_rows import stream_rows
from .adapters.projections import TABLES, record_columns
from .adapters.rebuild import rebuild_into
from .adapters.tables import log_head
from .domain.chain import GENESIS, ChainVerifier

#: How many differing rows a verdict names (it counts them all).
NAMED = 20


def deep_verify(engine, *, named: int = NAMED) -> dict:
    """``{"ok", "count", "head", "chain": verdict, "projections": {"ok", "tables": {name: {"rows",
    "differing"}}, "differences": [...]}}``; each difference names its table, key, ``valid_from``,
    whether it is the live version, and the columns that differ (stored and rebuilt values), or
    that the version is ``missing`` from storage or ``extra`` there."""
    with tempfile.TemporaryDirectory(prefix="zeroclear-deep-verify-") as folder:
        scratch = make_engine(f"sqlite:///{Path(folder) / 'rebuilt.db'}", pool_size=1)
        try:
            tables = [table for table, _ in TABLES.values()]
            tables[0].metadata.create_all(scratch, tables=tables)
            with read_tx(engine) as stored:
                row = stored.execute(sa.select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)).first()
                head_seq, head_hash = (int(row.seq), row.hash) if row else (0, GENESIS)
                with write_tx(scratch) as rebuilt, closing(stream_rows(stored, upto_seq=head_seq)) as rows:
                    built = rebuild_into(rebuilt, rows)
                chain = ChainVerifier(built.count, built.head, None if built.ok else built).finish(head_seq, head_hash)
                with scratch.connect() as rebuilt:
                    tables_report, differences = {}, []
                    for kind, (table, key) in TABLES.items():
                        counted, differing = _compare(table, key, stored, rebuilt, differences, named)
                        tables_report[table.name] = {"rows": counted, "differing": differing}
        finally:
            scratch.dispose()
    projections_ok = all(t["differing"] == 0 for t in tables_report.values())
    return {"ok": chain.ok and projections_ok, "count": head_seq, "head": head_hash, "chain": chain.to_dict(),
            "projections": {"ok": projections_ok, "tables": tables_report, "differences": differences}}


def _compare(table: sa.Table, key: tuple[str, ...], stored: Connection, rebuilt: Connection, differences: list,
             named: int) -> tuple[int, int]:
    """Merge the stored and the rebuilt versions of ``table`` in (key, valid_from) order."""
    columns = [c.name for c in record_columns(table)] + ["valid_from", "valid_to"]
    order = (*key, "valid_from")
    mine, theirs = _ordered(stored, table, columns, order), _ordered(rebuilt, table, columns, order)
    position = [columns.index(name) for name in order]
    counted = differing = 0
    a, b = next(mine, None), next(theirs, None)
    while a is not None or b is not None:
        ka = tuple(a[i] for i in position) if a is not None else None
        kb = tuple(b[i] for i in position) if b is not None else None
        if kb is None or (ka is not None and ka < kb):
            found = {"table": table.name, **_where(columns, key, a), "extra": "stored, but no event made this version"}
            a = next(mine, None)
        elif ka is None or kb < ka:
            found = {"table": table.name, **_where(columns, key, b), "missing": "the log makes this version; it is not stored"}
            b = next(theirs, None)
        else:
            counted += 1
            changed = {name: {"stored": x, "rebuilt": y} for name, x, y in zip(columns, a, b) if x != y}
            found = {"table": table.name, **_where(columns, key, b), "columns": changed} if changed else None
            a, b = next(mine, None), next(theirs, None)
        if found is not None:
            differing += 1
            if len(differences) < named:
                differences.append(found)
    return counted, differing


def _where(columns: list[str], key: tuple[str, ...], row: tuple) -> dict[str, Any]:
    values = dict(zip(columns, row))
    return {"key": {name: values[name] for name in key}, "valid_from": values["valid_from"],
            "live": values["valid_to"] is None}


def _ordered(conn: Connection, table: sa.Table, columns: list[str], order: tuple[str, ...]) -> Iterator[tuple]:
    """The table's rows in ``order``, text compared byte by byte on either database (PostgreSQL's
    "C" collation is SQLite's BINARY for UTF-8), so that the two sides merge."""
    postgres = conn.dialect.name == "postgresql"

    def sort_key(name: str):
        column = table.c[name]
        return column.collate("C") if postgres and isinstance(column.type, sa.String) else column

    query = sa.select(*(table.c[name] for name in columns)).order_by(*(sort_key(name) for name in order))
    for row in conn.execution_options(stream_results=True, yield_per=2000).execute(query):
        yield tuple(row)
