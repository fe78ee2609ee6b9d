"""The public announcement's rows in notify's database: written from the fold as it moves (only
what changed since they were last written), read back by index and streamed, so that neither a
page nor the whole open-data download ever holds the announcement in memory."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.db import read_tx, upsert_statement, write_tx

from ..domain.announcement import stored_item, stored_tip
from ..domain.campaign import WITHDRAWN, NotifyState
from .tables import announced_items, announced_tips, announcement_position

CHUNK = 1000
T = TypeVar("T")


class AnnouncementRows:
    def __init__(self, engine: Engine):
        self.engine = engine

    def catch_up(self, state: NotifyState) -> None:
        """Write the rows of the items and tips changed since the stored position (called with the
        live fold, under its lock). A row is replaced only by one from a later position, so a
        process behind another never undoes its rows."""
        stored = self.position()
        if state.seq <= stored and not state.touched_items and not state.touched_tips:
            return
        items = [stored_item(state.items[i]) for i, seq in state.touched_items.items() if seq > stored]
        tips = [stored_tip(state.tips[t]) for t, seq in state.touched_tips.items() if seq > stored]
        with write_tx(self.engine) as conn:
            _upsert(conn, announced_items, "item_id", items, state.seq)
            _upsert(conn, announced_tips, "tip_id", tips, state.seq)
            _advance(conn, state.seq)
        state.touched_items.clear()
        state.touched_tips.clear()

    def position(self) -> int:
        with self.engine.connect() as conn:
            return _position(conn)

    def stream(self, region: str | None = None, after: str | None = None, limit: int | None = None,
               tips: bool = True) -> Iterator[tuple[str, Any]]:
        """("position", n), then ("item", row) for each item in item_id order (of ``region``,
        after the item ``after``, at most ``limit``), then (``tips``, and no ``limit``) ("tip", row)
        for each resolved tip in the order they were resolved — all from one snapshot."""
        with read_tx(self.engine) as conn:
            yield "position", _position(conn)
            t = announced_items
            query = sa.select(t).where(t.c.status != WITHDRAWN).order_by(t.c.item_id)
            if region:
                query = query.where(t.c.region == region)
            if after:
                query = query.where(t.c.item_id > after)
            if limit is not None:
                query = query.limit(limit)
            for row in conn.execution_options(stream_results=True, yield_per=CHUNK).execute(query).mappings():
                yield "item", row
            if limit is not None or not tips:
                return
            resolved = sa.select(announced_tips).order_by(announced_tips.c.resolved_seq, announced_tips.c.tip_id)
            for row in conn.execution_options(stream_results=True, yield_per=CHUNK).execute(resolved).mappings():
                yield "tip", row


    def tally(self, count: Callable[[int, Iterable[Mapping[str, Any]], dict[str, int]], T]) -> T:
        """``count(position, items, tips)`` over one snapshot: the announced items' (region,
        industry, unit, status, planned_date, capacity), streamed, and resolved tips by status."""
        t = announced_items
        with read_tx(self.engine) as conn:
            position = _position(conn)
            tips = dict(conn.execute(sa.select(announced_tips.c.status, sa.func.count())
                                     .group_by(announced_tips.c.status)).all())
            items = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(
                sa.select(t.c.region, t.c.industry, t.c.unit, t.c.status, t.c.planned_date, t.c.capacity)
                .where(t.c.status != WITHDRAWN)).mappings()
            return count(position, items, tips)

    def latest_tips(self, count: int) -> list[dict[str, Any]]:
        t = announced_tips
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(
                sa.select(t).order_by(t.c.resolved_seq.desc(), t.c.tip_id.desc()).limit(count)).mappings()]


def _position(conn: Connection) -> int:
    found = conn.execute(sa.select(announcement_position.c.position).where(announcement_position.c.id == 1))
    return int(found.scalar_one_or_none() or 0)


def _upsert(conn: Connection, table: sa.Table, key: str, rows: Sequence[Mapping[str, Any]], position: int) -> None:
    if not rows:
        return
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        statement = upsert_statement(conn, table).values([{**row, "position": position} for row in chunk])
        columns = {c.name: statement.excluded[c.name] for c in table.c if c.name != key}
        conn.execute(statement.on_conflict_do_update(index_elements=[key], set_=columns,
                                                     where=table.c.position < statement.excluded.position))


def _advance(conn: Connection, position: int) -> None:
    statement = upsert_statement(conn, announcement_position).values(id=1, position=position)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["id"], set_={"position": statement.excluded.position},
        where=announcement_position.c.position < statement.excluded.position))

