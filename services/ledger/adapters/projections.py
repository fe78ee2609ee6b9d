"""Writing the projections' versions and choosing the rows valid at a position.

Each projection table keeps every version of its rows (``tables.versioned``). A batch's changes
close the stored live versions they replace (``valid_to`` = the seq of the replacing event) and
add their own, all in the batch's transaction — the same statements a row's delete and insert
cost before, so keeping history costs writes nothing more.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.db import bulk_insert

from ..domain.changes import Changes
from ..domain.state import PROJECTIONS
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


def _close(conn: Connection, table: sa.Table, names: tuple[str, ...], closing: Iterable[tuple[Any, int]],
           kind: str) -> None:
    """``valid_to`` = the replacing seq on each key's live row, one statement per replacing seq."""
    by_seq: dict[int, list[Any]] = defaultdict(list)
    for key, seq in closing:
        by_seq[seq].append(key)
    for seq, keys in by_seq.items():
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            matching = (sa.tuple_(*(table.c[n] for n in names)).in_(chunk) if len(names) > 1
                        else table.c[names[0]].in_(chunk))
            conn.execute(table.update().where(matching, table.c.valid_to.is_(None)).values(valid_to=seq))
