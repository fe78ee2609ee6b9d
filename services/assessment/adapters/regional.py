"""The assessment's read model at any size: a year's scores from each region's row, kept in the
service's database by what it was made from, and a region scored again only when that moved.

A region's row reads only its own report, items, tips and office scores, and the year's calendar
(SPEC §6), and the ledger records every event that changes them under the region. So a region's
row as of a position is scored from a fold of that region's events and the calendar's up to it
(``CampaignState.folded_from``: a few thousand events at a national campaign's ten years, read by
the journal's region index), never from a fold of the whole log held in memory. A row is good for
every position at which the region's last event, the calendar's and the region's name are the
ones it was made from, on the same log (the journal's hash there), and past events its cut-off
does not see (``_carry``). The rows of the keys used last are kept (``MAX_KEYS``); ``verify``
holds them against a fresh scoring, and they can be dropped at any time: they are made again
from the log.
"""
from __future__ import annotations

import heapq
import itertools
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
from shared.messages.assessment import INPUT_FILED
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
#: The folded types a row reads whenever they occurred: the office's scores (as they stand).
ALWAYS_READ = frozenset((INPUT_FILED, *(old for old, current in older_types().items() if current == INPUT_FILED)))
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
ROW_FIELDS = frozenset({"region", "name", "criteria", "total", "grade", "cleared", "draft", "missing_inputs", "rank"})


class RegionalScores:
    """A year's scores and summary at any position, from kept rows and the regions scored again."""

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
        events = self._calendar(position)
        opened = CampaignState.folded_from(events, position).years
        self.scored([Ask(year, default_cut_off(calendar, year)) for year in sorted(opened)], position, rows=False,
                    calendar=events)

    def scored(self, asks: list[Ask], position: int, *, rows: bool = True,
               calendar: list[dict[str, Any]] | None = None) -> dict[Ask, tuple[Plan, dict]]:
        """Each ask's plan and its regions' (row, totals) at ``position``: the kept ones that are
        still good (read only if ``rows``), the others scored now and kept — each region folded
        once for all the asks that need it. ``calendar``: its events up to ``position``, if read."""
        calendar = self._calendar(position) if calendar is None else calendar
        frame = CampaignState.folded_from(calendar, position)
        plans = {ask: self._plan(ask, frame) for ask in asks}
        seqs = self._region_seqs(sorted({r for plan in plans.values() for r in plan.regions}), position)
        hashes = self._hashes({max(seq, frame.calendar_seq) for seq in seqs.values()} | {frame.calendar_seq})
        wanted = {r: made_from(seq, frame.calendar_seq, self.names.get(r, ""), hashes) for r, seq in seqs.items()}
        for plan in plans.values():
            wanted.update({r: made_from(0, frame.calendar_seq, self.names.get(r, ""), hashes)
                           for r in plan.regions if r not in wanted})
        found: dict[Ask, dict] = {}
        stale: dict[Ask, dict] = {}
        with self.engine.connect() as conn:
            for ask, plan in plans.items():
                found[ask], stale[ask] = _load(conn, self.table, plan.key, {r: wanted[r] for r in plan.regions}, rows)
        self._carry(plans, wanted, found, stale, rows)
        missing: dict[str, list[Ask]] = defaultdict(list)
        for ask, plan in plans.items():
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
                made = wanted[region]
                writes.append({"key": plan.key, "region": region, "region_seq": made[0], "calendar_seq": made[1],
                               "name": name, "log_hash": made[3], "row": _encoded(row, totals)})
            if len(writes) >= FLUSH:
                self._store(writes)
                writes = []
        self._store(writes)
        return {ask: (plans[ask], found[ask]) for ask in asks}

    def verify(self, limit: int = 20) -> dict[str, Any]:
        """Every kept row held against the row scored afresh from the journal at the position it
        says it was made from, and the journal's hash there against the one it keeps (a carried
        row too: carrying must give what scoring gives): ``{"ok", "checked", "bad"}``, the first
        ``limit`` bad ones named (key, region, why)."""
        t, checked, bad = self.table, 0, []
        calendar = self._calendar(self.journal.head())  # read once: each position takes its part
        query = (sa.select(t.c.key, t.c.region, t.c.region_seq, t.c.calendar_seq, t.c.name, t.c.log_hash, t.c.row)
                 .order_by(t.c.region, t.c.region_seq, t.c.calendar_seq, t.c.key))
        with self.engine.connect() as conn:
            kept = conn.execution_options(stream_results=True, yield_per=FLUSH).execute(query)
            made_at = lambda row: (row.region, max(row.region_seq, row.calendar_seq))  # noqa: E731
            for (region, position), group in itertools.groupby(kept, key=made_at):
                rows = list(group)
                checked += len(rows)
                found = self._verified(region, position, rows, [e for e in calendar if e["seq"] <= position])
                bad += [{"key": row.key, "region": region, "reason": why} for row, why in found][:limit - len(bad)]
        return {"ok": not bad, "checked": checked, "bad": bad}

    def _verified(self, region: str, position: int, rows: list, calendar: list) -> list[tuple[Any, str]]:
        """The rows of ``region`` made from ``position`` that are not what scoring gives there."""
        logged = self._hashes({position}).get(position, "")
        state = CampaignState.folded_from(heapq.merge(calendar, self._events(
            self.journal.table.c.region == region, position), key=lambda event: event["seq"]), position)
        found = []
        for row in rows:
            if row.log_hash != logged:
                found.append((row, f"the journal's hash at {position} is not the one the row was made from"))
                continue
            try:
                year, cut, weights, zone = row.key.split("|")
                view = state.as_of(cut)
                fresh = score_region(state, view, int(year), cut, region, checked_weights(weights.split(",")), row.name,
                                     ZoneInfo(zone))
                totals = region_totals(view, region, int(year))
            except (ValueError, KeyError, ArithmeticError, LookupError) as exc:
                found.append((row, f"its key does not read: {exc}"))
                continue
            if _decoded(region, row.row) != (fresh, totals):
                found.append((row, f"not the row scored afresh at {position}"))
        return found

    def drop(self) -> int:
        """Forget every kept row (each is made again from the journal when asked)."""
        with write_tx(self.engine) as conn:
            return conn.execute(self.table.delete()).rowcount

    def _carry(self, plans: Mapping[Ask, Plan], wanted: Mapping[str, MadeFrom], found: dict[Ask, dict],
               stale: Mapping[Ask, dict], rows: bool) -> None:
        """Take the kept rows that moved only by events their key does not read: between the
        position a row was made from and the one wanted, none of the region's events occurred by
        the key's cut-off and none is an office score (the row reads those as they stand), on the
        same log (its hash) and calendar. Such a row is the one scoring would give; it is kept as
        made from the later position. The year just filed moves; the earlier years' rows carry."""
        spans: dict[str, tuple[int, int]] = {}
        for by_region in stale.values():
            for region, (kept, _) in by_region.items():
                low, high = sorted((kept[0], wanted[region][0]))
                was = spans.get(region, (low, high))
                spans[region] = (min(was[0], low), max(was[1], high))
        if not spans:
            return
        logged = self._hashes({max(kept[0], kept[1]) for by_region in stale.values() for kept, _ in by_region.values()})
        between = self._between(spans)
        moved = []
        for ask, by_region in stale.items():
            for region, (kept, text) in by_region.items():
                low, high = sorted((kept[0], wanted[region][0]))
                if logged.get(max(kept[0], kept[1]), "") != kept[3] or any(
                        low < seq <= high and (occurred_at <= ask.cut or kind in ALWAYS_READ)
                        for seq, occurred_at, kind in between.get(region, ())):
                    continue
                decoded = _decoded(region, text) if rows else (None, None)
                if decoded is not None:
                    found[ask][region] = decoded
                    if wanted[region][0] > kept[0]:
                        moved.append({"k": plans[ask].key, "r": region, "was": kept[0], "seq": wanted[region][0],
                                      "hash": wanted[region][3]})
        self._moved(moved)

    def _between(self, spans: Mapping[str, tuple[int, int]]) -> dict[str, list[tuple[int, str, str]]]:
        """Each region's folded events (seq, occurrence time, type) after ``low`` up to ``high``."""
        t, found = self.journal.table, {}
        query = (sa.select(t.c.seq, t.c.occurred_at, t.c.type)
                 .where(t.c.region == sa.bindparam("r"), t.c.seq > sa.bindparam("low"), t.c.seq <= sa.bindparam("high"),
                        t.c.type.in_(FOLDS)))
        with self.engine.connect() as conn:
            for region, (low, high) in spans.items():
                found[region] = [tuple(row) for row in conn.execute(query, {"r": region, "low": low, "high": high})]
        return found

    def _moved(self, moved: list[dict]) -> None:
        """Kept rows now made from a later position (unless another process moved them meanwhile)."""
        if not moved:
            return
        t = self.table
        with write_tx(self.engine) as conn:
            conn.execute(t.update().where(t.c.key == sa.bindparam("k"), t.c.region == sa.bindparam("r"),
                                          t.c.region_seq == sa.bindparam("was"))
                         .values(region_seq=sa.bindparam("seq"), log_hash=sa.bindparam("hash"), stored=time.time_ns()),
                         moved)

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
        """Each region's last folded event up to ``position`` (a rejection or an alert under the
        region moves nothing): one index probe per region, in one query."""
        if not regions:
            return {}
        name = self.journal.table.name
        probe = (f"(SELECT max(e.seq) FROM {name} e WHERE e.region = r.region AND e.seq <= :position"
                 " AND e.type IN :types)")
        types = sa.bindparam("types", expanding=True)
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                query = sa.text(f"SELECT r.region, {probe} FROM unnest(CAST(:regions AS varchar[])) AS r(region)")
                values = regions
            else:
                query = sa.text(f"SELECT r.value, {probe.replace('r.region', 'r.value')} FROM json_each(:regions) AS r")
                values = orjson.dumps(regions).decode()
            found = conn.execute(query.bindparams(types), {"regions": values, "position": position, "types": list(FOLDS)})
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


def _load(conn: Connection, table: sa.Table, key: str, wanted: Mapping[str, MadeFrom], rows: bool) -> tuple[dict, dict]:
    """The kept rows of ``key`` made from what is ``wanted``, as region -> (row, totals) (without
    ``rows``, (None, None)); and the rows made from another position of the region on the same
    calendar, as region -> (what they were made from, their text), which may carry (``_carry``).
    A row that cannot be read is in neither: it is scored again."""
    t = table
    columns = [t.c.region, t.c.region_seq, t.c.calendar_seq, t.c.name, t.c.log_hash] + ([t.c.row] if rows else [])
    found, stale = {}, {}
    for kept in conn.execute(sa.select(*columns).where(t.c.key == key)):
        region, made, text = kept[0], tuple(kept[1:5]), kept[5] if rows else None
        want = wanted.get(region)
        if want is None:
            continue
        if made != want:
            if made[1:3] == want[1:3]:
                stale[region] = (made, text)
            continue
        decoded = _decoded(region, text) if rows else (None, None)
        if decoded is not None:
            found[region] = decoded
    return found, stale


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

