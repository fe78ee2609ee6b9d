"""Writing the projections' versions and choosing the rows valid at a position.

Each projection table keeps every version of its rows (``tables.versioned``). A batch's changes
close the stored live versions they replace (``valid_to`` = the seq of the replacing event) and
add their own, all in the batch's transaction — the same statements a row's delete and insert
cost before, so keeping history costs writes nothing more.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.db import bulk_insert

from ..domain.changes import Changes
from ..domain.records import PROJECTIONS
from .tables import items, listings, reports, resurgences, tips, years

#: Each projection's table and the columns of its key (a state key is a tuple for reports).
TABLES: dict[str, tuple[sa.Table, tuple[str, ...]]] = {
    "years": (years, ("year",)),
    "reports": (reports, ("region", "year")),
    "items": (items, ("item_id",)),
    "tips": (tips, ("tip_id",)),
    "listings": (listings, ("listing_id",)),
    "resurgences": (resurgences, ("resurgence_id",)),
}
assert set(TABLES) == set(PROJECTIONS)
VERSION_COLUMNS = ("valid_from", "valid_to")


def valid_at(table: sa.Table, at: int | None):
    """The condition for the rows valid at position ``at`` (None: the live rows)."""
    if at is None:
        return table.c.valid_to.is_(None)
    return (table.c.valid_from <= at) & (table.c.valid_to.is_(None) | (table.c.valid_to > at))


def record_columns(table: sa.Table) -> list[sa.Column]:
    """A projection table's columns without the version stamps: the record's fields."""
    return [column for column in table.c if column.name not in VERSION_COLUMNS]


def key_values(kind: str, key: Any) -> dict[str, Any]:
    names = TABLES[kind][1]
    return dict(zip(names, key)) if len(names) > 1 else {names[0]: key}


def write_changes(conn: Connection, changes: Changes) -> None:
    """Close the stored live versions the changes replace, then insert every new version."""
    for kind, versions in changes.versions.items():
        if not versions:
            continue
        table, names = TABLES[kind]
        _close(conn, table, names, [(v.key, v.valid_from) for v in versions if v.closes_stored], kind)
        bulk_insert(conn, table, [{**v.row, "valid_from": v.valid_from, "valid_to": v.valid_to} for v in versions])


def _close(conn: Connection, table: sa.Table, names: tuple[str, ...], closing: list[tuple[Any, int]],
           kind: str) -> None:
    """``valid_to`` = the replacing seq on each key's live row. PostgreSQL: one statement for the
    whole batch, the keys and seqs passed as arrays (``unnest``); SQLite, which has no round trips
    to save: the statement executed for every key."""
    if not closing:
        return
    keys = [key if len(names) > 1 else (key,) for key, _ in closing]
    if conn.dialect.name == "postgresql":
        arrays = {f"k{i}": [key[i] for key in keys] for i in range(len(names))}
        casts = ", ".join(f"CAST(:k{i} AS {_ARRAY[type(table.c[n].type)]})" for i, n in enumerate(names))
        matching = " AND ".join(f't."{n}" = v.k{i}' for i, n in enumerate(names))
        conn.execute(sa.text(
            f'UPDATE "{table.name}" AS t SET valid_to = v.closed_by FROM unnest({casts}, CAST(:closed AS bigint[])) '
            f'AS v({", ".join(arrays)}, closed_by) WHERE {matching} AND t.valid_to IS NULL'),
            {**arrays, "closed": [seq for _, seq in closing]})
        return
    conn.execute(table.update().where(*(table.c[n] == sa.bindparam(f"k_{n}") for n in names), table.c.valid_to.is_(None))
                 .values(valid_to=sa.bindparam("closed_by")),
                 [{**{f"k_{n}": value for n, value in zip(names, key)}, "closed_by": seq}
                  for key, (_, seq) in zip(keys, closing)])


_ARRAY = {sa.String: "text[]", sa.Integer: "int[]", sa.BigInteger: "bigint[]"}
