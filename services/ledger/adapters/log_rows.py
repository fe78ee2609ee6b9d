"""Reading the stored log at speed, for verification, replay and export.

Rows come back as plain tuples in one fixed order, ``ROW_FIELDS``: the header fields in
canonical (RFC 8785) order, then ``hash``, then the payload as the exact bytes that were hashed.
So a reader hashes a header with ``orjson.dumps(dict(zip(CANONICAL_HEADER_FIELDS, row)))``
and a payload with no re-encoding, and builds no dict or ``RecordedEvent`` it does not need.

On PostgreSQL the rows are streamed through the psycopg connection under SQLAlchemy's (binary
protocol, chunks of ``chunk`` rows, no ORM rows in between); elsewhere through SQLAlchemy.
The readers index a row by the names of ``domain/log_row.py``, which also checks rows.
"""
from __future__ import annotations

from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.chain import CANONICAL_HEADER_FIELDS
from ..domain.log_row import PAYLOAD, ROW_FIELDS
from .tables import events

_COLUMNS = ", ".join(f'"{name}"' for name in CANONICAL_HEADER_FIELDS) + ', "hash"'


def head_seq(conn: Connection) -> int:
    """The last position of the stored log (0 when empty), from the primary key's index."""
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.seq), 0))).scalar_one()


def stream_rows(conn: Connection, upto_seq: int | None = None, upto_recorded_at: str | None = None,
                chunk: int = 500, after: int = 0) -> Iterator[tuple]:
    """The events of the log in ``seq`` order after ``after``, up to a position or a recording
    time (inclusive), as ``ROW_FIELDS`` tuples, read in ``conn``'s transaction."""
    if conn.dialect.name == "postgresql":
        yield from _postgres_rows(conn, upto_seq, upto_recorded_at, chunk, after)
        return
    query = sa.select(*[events.c[name] for name in ROW_FIELDS]).order_by(events.c.seq)
    if after:
        query = query.where(events.c.seq > after)
    if upto_seq is not None:
        query = query.where(events.c.seq <= upto_seq)
    if upto_recorded_at is not None:
        query = query.where(events.c.recorded_at <= upto_recorded_at)
    for row in conn.execution_options(stream_results=True, yield_per=chunk).execute(query):
        yield (*row[:PAYLOAD], row[PAYLOAD].encode("utf-8"))


def _postgres_rows(conn: Connection, upto_seq, upto_recorded_at, chunk, after=0) -> Iterator[tuple]:
    conditions, params = [], {}
    if after:
        conditions.append("seq > %(after)s")
        params["after"] = after
    if upto_seq is not None:
        conditions.append("seq <= %(upto_seq)s")
        params["upto_seq"] = upto_seq
    if upto_recorded_at is not None:
        conditions.append("recorded_at <= %(upto_recorded_at)s")
        params["upto_recorded_at"] = upto_recorded_at
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    # convert_to(): the payload's UTF-8 bytes as bytea, which the binary protocol hands over
    # as they are (no decoding to str and encoding back).
    query = f"SELECT {_COLUMNS}, convert_to(payload, 'UTF8') FROM events{where} ORDER BY seq"
    raw = conn.connection.driver_connection
    with raw.cursor(binary=True) as cursor:
        yield from cursor.stream(query, params, size=min(chunk, 1000) if _CHUNKED else 1)


def _chunked_streams() -> bool:
    """Whether the libpq under psycopg can stream in chunks (version 17 and later)."""
    try:
        import psycopg

        return psycopg.pq.version() >= 170000
    except Exception:  # no psycopg: PostgreSQL is not in use
        return False


_CHUNKED = _chunked_streams()
