"""The assessment's read model at any size: a year's scores from each region's row, kept in the
service's database by what it was made from, and a region scored again only when that moved.

A region's row reads only its own report, items, tips and office scores, and the year's calendar
(SPEC §6), and the ledger records every event that changes them under the region. So a region's
row as of a position is scored from a fold of that region's events and the calendar's up to it
(``CampaignState.folded_from``: a few thousand events at a national campaign's ten years, read by
the journal's region index), never from a fold of the whole log held in memory. A row is good for
every position at which the region's last event, the calendar's and the region's name are the
ones it was made from; the rows of the keys used last are kept (``MAX_KEYS``), and can be dropped
at any time: they are made again from the log.
"""
from __future__ import annotations

import heapq
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.db import upsert_statement, write_tx
from shared.journal import EventJournal
from shared.messages import older_types
from shared.messages.ledger import YEAR_OPENED
from shared.reference import Calendar

from ..domain.campaign import FOLDS, CampaignState
from ..domain.scoring import checked_weights, default_cut_off, plain, ranked, score_region, year_frame
from ..domain.summary import Totals, region_totals, summarise
from .tables import scored_rows

#: The types that fix a year's calendar (the current one and those upcast to it).
CALENDAR_TYPES = (YEAR_OPENED, *sorted(old for old, current in older_types().items() if current == YEAR_OPENED))
#: The keys (year, cut-off, weights, time zone) whose rows are kept: each year's default cut-off
#: and a few asked for; a key beyond them goes with its rows, least recently stored first.
MAX_KEYS = 32
#: Rows written per transaction while a year is scored.
FLUSH = 200


@dataclass(frozen=True)
class Ask:
    year: int
    cut: str  # in the log's fixed-width form


@dataclass(frozen=True)
class Plan:
    """What an ask scores at a position: its key, the regions expected, their time zone."""

    key: str
    regions: list[str]
    zone: ZoneInfo


#: The region's last event, the calendar's, the region's name, and the hash of the later of those
#: two events: it chains every event before it, so a row is never taken for another log's.
MadeFrom = tuple[int, int, str, str]
#: The fields of a scored row (``scoring._assess_region``): a kept row with others is not one.
ROW_FIELDS = frozenset({"region", "name", "criteria", "total", "grade", "cleared", "draft", "missing_inputs", "rank"})  # the region's last event, the calendar's, the region's name


class RegionalScores:
    def __init__(self, journal: EventJournal, *, weights: Iterable[Decimal], names: Mapping[str, str],
                 table: sa.Table = scored_rows):
        self.journal, self.engine, self.table = journal, journal.engine, table
        self.weights = checked_weights(weights)
        self.names = dict(names)
        self.folded = 0  # regions folded and scored by this process (a restart with kept rows needs none)

    def result(self, year: int, cut: str, position: int | None = None) -> dict[str, Any]:
        """The year's scores as of ``cut`` at ``position`` (default: the journal's head)."""
        return self.both(year, cut, position)[0]

    def both(self, year: int, cut: str, position: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The year's scores and the province's summary beside them, at one position."""
        position = self.journal.head() if position is None else position
        ask = Ask(year, cut)
        plan, found = self.scored([ask], position)[ask]
        result = ranked((found[region][0] for region in plan.regions), year=year, cut=cut, position=position,
                        weights=self.weights)
        return result, summarise(result, (found[region][1] for region in plan.regions), position)

    def keep_years(self, calendar: Calendar, position: int) -> None:
        """Every opened year's rows as of its default cut-off at ``position``, scored where they moved."""
        opened = CampaignState.folded_from(self._calendar(position), position).years
        self.scored([Ask(year, default_cut_off(calendar, year)) for year in sorted(opened)], position, rows=False)

    def scored(self, asks: list[Ask], position: int, *, rows: bool = True) -> dict[Ask, tuple[Plan, dict]]:
        """Each ask's plan and its regions' (row, totals) at ``position``: the kept ones that are
        still good (read only if ``rows``), the others scored now and kept — each region folded
        once for all the asks that need it."""
        calendar = self._calendar(position)
        frame = CampaignState.folded_from(calendar, position)
        plans = {ask: self._plan(ask, frame) for ask in asks}
        seqs = self._region_seqs(sorted({r for plan in plans.values() for r in plan.regions}), position)
        hashes = self._hashes({max(seq, frame.calendar_seq) for seq in seqs.values()} | {frame.calendar_seq})
        found: dict[Ask, dict] = {}
        missing: dict[str, list[Ask]] = defaultdict(list)
        with self.engine.connect() as conn:
            for ask, plan in plans.items():
                wanted = {r: made_from(seqs.get(r, 0), frame.calendar_seq, self.names.get(r, ""), hashes)
                          for r in plan.regions}
                found[ask] = _load(conn, self.table, plan.key, wanted, rows)
                for region in plan.regions:
                    if region not in found[ask]:
                        missing[region].append(ask)
        writes: list[dict] = []
        for region, wanting in missing.items():
            state = CampaignState.folded_from(
                heapq.merge(calendar, self._events(self.journal.table.c.region == region, position),
                            key=lambda event: event["seq"]), position)
            self.folded += 1
            for ask in wanting:
                plan, name = plans[ask], self.names.get(region, "")
                view = state.as_of(ask.cut)
                row = score_region(state, view, ask.year, ask.cut, region, self.weights, name, plan.zone)
                totals = region_totals(view, region, ask.year)
                found[ask][region] = (row, totals)
                made = made_from(seqs.get(region, 0), frame.calendar_seq, name, hashes)
                writes.append({"key": plan.key, "region": region, "region_seq": made[0], "calendar_seq": made[1],
                               "name": name, "log_hash": made[3], "row": _encoded(row, totals)})
            if len(writes) >= FLUSH:
                self._store(writes)
                writes = []
        self._store(writes)
        return {ask: (plans[ask], found[ask]) for ask in asks}

    def _plan(self, ask: Ask, frame: CampaignState) -> Plan:
        regions, zone = year_frame(frame, ask.year, self.names)
        return Plan(f"{ask.year}|{ask.cut}|{','.join(plain(w) for w in self.weights)}|{zone.key}", regions, zone)

    def _calendar(self, position: int) -> list[dict[str, Any]]:
        return list(self._events(self.journal.table.c.type.in_(CALENDAR_TYPES), position))

    def _events(self, which: sa.ColumnElement, position: int) -> Iterator[dict[str, Any]]:
        """The journal's events the fold reads (``which`` of them) up to ``position``, in order."""
        t = self.journal.table
        query = (sa.select(t.c.seq, t.c.type, t.c.occurred_at, t.c.payload)
                 .where(which, t.c.seq <= position, t.c.type.in_(FOLDS)).order_by(t.c.seq))
        with self.engine.connect() as conn:
            for seq, kind, occurred_at, payload in conn.execute(query):
                yield {"seq": seq, "type": kind, "occurred_at": occurred_at, "payload": orjson.loads(payload)}

    def _region_seqs(self, regions: list[str], position: int) -> dict[str, int]:
        """Each region's last event up to ``position``: one index probe per region, in one query."""
        if not regions:
            return {}
        name = self.journal.table.name
        probe = f"(SELECT max(e.seq) FROM {name} e WHERE e.region = r.region AND e.seq <= :position)"
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                query = sa.text(f"SELECT r.region, {probe} FROM unnest(CAST(:regions AS varchar[])) AS r(region)")
                found = conn.execute(query, {"regions": regions, "position": position})
            else:
                query = sa.text(f"SELECT r.value, {probe.replace('r.region', 'r.value')} FROM json_each(:regions) AS r")
                found = conn.execute(query, {"regions": orjson.dumps(regions).decode(), "position": position})
            return {region: seq for region, seq in found if seq is not None}

    def _hashes(self, seqs: set[int]) -> dict[int, str]:
        """The journal's hashes at ``seqs``."""
        t, wanted, found = self.journal.table, sorted(seq for seq in seqs if seq), {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                found.update(conn.execute(sa.select(t.c.seq, t.c.hash).where(t.c.seq.in_(wanted[start:start + 500]))).all())
        return found

    def _store(self, writes: list[dict]) -> None:
        """Keep rows (a row made from a later position than the one kept replaces it; an earlier
        one, asked as of the past, does not) and forget the keys beyond ``MAX_KEYS``."""
        if not writes:
            return
        stored = time.time_ns()
        t = self.table
        with write_tx(self.engine) as conn:
            keys = {row["key"] for row in writes}
            new = keys - set(conn.execute(sa.select(t.c.key).where(t.c.key.in_(keys)).distinct()).scalars())
            statement = upsert_statement(conn, t).values([{**row, "stored": stored} for row in writes])
            columns = {c.name: statement.excluded[c.name] for c in t.c if c.name not in ("key", "region")}
            conn.execute(statement.on_conflict_do_update(
                index_elements=["key", "region"], set_=columns,
                where=sa.and_(t.c.region_seq <= statement.excluded.region_seq,
                              t.c.calendar_seq <= statement.excluded.calendar_seq)))
            if new:
                _forget_old_keys(conn, t)


def made_from(region_seq: int, calendar_seq: int, name: str, hashes: Mapping[int, str]) -> MadeFrom:
    return region_seq, calendar_seq, name, hashes.get(max(region_seq, calendar_seq), "")


def _load(conn: Connection, table: sa.Table, key: str, wanted: Mapping[str, MadeFrom], rows: bool) -> dict:
    """The kept rows of ``key`` made from what is ``wanted`` (a row that cannot be read is not
    kept: it is scored again), as region -> (row, totals); without ``rows``, (None, None)."""
    t = table
    columns = [t.c.region, t.c.region_seq, t.c.calendar_seq, t.c.name, t.c.log_hash] + ([t.c.row] if rows else [])
    found = {}
    for kept in conn.execute(sa.select(*columns).where(t.c.key == key)):
        if wanted.get(kept[0]) != (kept[1], kept[2], kept[3], kept[4]):
            continue
        if not rows:
            found[kept[0]] = (None, None)
            continue
        decoded = _decoded(kept[0], kept[5])
        if decoded is not None:
            found[kept[0]] = decoded
    return found


def _encoded(row: dict[str, Any], totals: Totals) -> str:
    return orjson.dumps({"row": row, "totals": [[i, u, n, str(a), str(b), str(c)] for i, u, n, a, b, c in totals]}).decode()


def _decoded(region: str, text: str) -> tuple[dict[str, Any], Totals] | None:
    """A kept row and its totals, or None for one that is not a row of ``region`` (the database
    is not trusted to answer with: a row that does not read is scored again)."""
    try:
        kept = orjson.loads(text)
        row = kept["row"]
        if not isinstance(row, dict) or set(row) != ROW_FIELDS or row["region"] != region or not Decimal(row["total"]).is_finite():
            return None
        return row, [(str(i), str(u), int(n), Decimal(a), Decimal(b), Decimal(c)) for i, u, n, a, b, c in kept["totals"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError):
        return None


def _forget_old_keys(conn: Connection, t: sa.Table) -> None:
    latest = sa.func.max(t.c.stored)
    old = list(conn.execute(sa.select(t.c.key).group_by(t.c.key).order_by(latest.desc()).offset(MAX_KEYS)).scalars())
    if old:
        conn.execute(t.delete().where(t.c.key.in_(old)))

