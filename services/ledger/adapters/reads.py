"""The ledger's reads, answered from indexed projection rows: live, or as of any position.

Every list is a page in a stable order with a keyset cursor (the last key of the page), so a page
costs the same at the millionth row as at the first, and nothing loads a whole projection to
serve one. A read as of a position P takes the row versions valid at P (``projections.valid_at``)
— no replay. One read transaction serves a whole answer, so its rows and its position agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.chain import GENESIS
from ..domain.digest import digest_of
from ..domain.records import PROJECTIONS, YearRecord
from .projections import TABLES, record_columns, valid_at
from .tables import ITEMS_OPEN, TIPS_LATE_OR_OPEN, events, items, listings, log_head, reports, resurgences, tips, years

_RECORD = {kind: PROJECTIONS[kind][0] for kind in PROJECTIONS}


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next: tuple | None  # the cursor's key parts, or None on the last page


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(sa.select(log_head.c.seq, log_head.c.recorded_at).where(log_head.c.id == 1)).first()
    return (int(row.seq), row.recorded_at) if row else (0, "")


def position_at(conn: Connection, recorded_at: str) -> int:
    """The last position recorded by ``recorded_at``."""
    found = conn.execute(sa.select(sa.func.max(events.c.seq)).where(events.c.recorded_at <= recorded_at)).scalar()
    return int(found or 0)


def recorded_at(conn: Connection, seq: int) -> str | None:
    return conn.execute(sa.select(events.c.recorded_at).where(events.c.seq == seq)).scalar()


def hash_at(conn: Connection, seq: int) -> str:
    """The hash of the event at ``seq``: the head of the log as it stood there."""
    return conn.execute(sa.select(events.c.hash).where(events.c.seq == seq)).scalar() or GENESIS


def _records(conn: Connection, kind: str, query) -> Iterator[Any]:
    cls = _RECORD[kind]
    for row in conn.execute(query).mappings():
        yield cls(**row)


def _select(kind: str, at: int | None):
    table = TABLES[kind][0]
    return sa.select(*record_columns(table)).where(valid_at(table, at))


def years_at(conn: Connection, at: int | None) -> dict[int, YearRecord]:
    return {record.year: record for record in _records(conn, "years", _select("years", at))}


def deadlines_at(conn: Connection, at: int | None) -> dict[int, str]:
    """Each opened year's report deadline (what judging an item's status needs; not the years' region lists)."""
    return dict(conn.execute(sa.select(years.c.year, years.c.deadline).where(valid_at(years, at))).all())


def _page(rows: list, limit: int, key) -> Page:
    """The first ``limit`` of ``limit + 1`` rows fetched, and the cursor if there are more."""
    if len(rows) > limit:
        return Page(rows[:limit], key(rows[limit - 1]))
    return Page(rows, None)


# -- items ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemFilter:
    region: str | None = None
    industry: str | None = None
    year: int | None = None
    status: str | None = None  # a stored status, or scheduled / overdue as judged at ``now`` / ``today``
    source: str | None = None


def _item_query(f: ItemFilter, at: int | None, now: str, today: str):
    query = _select("items", at)
    for name in ("region", "industry", "year", "source"):
        if getattr(f, name) is not None:
            query = query.where(items.c[name] == getattr(f, name))
    # A registered item is shown scheduled once its year's deadline fixed the plan; an item whose
    # elimination was rejected is scheduled as stored (views.item_status).
    if f.status in ("registered", "scheduled"):
        plan_fixed = sa.exists(sa.select(years.c.year).where(
            years.c.year == items.c.year, valid_at(years, at), years.c.deadline < now))
        registered = items.c.status == "registered"
        query = query.where((registered & plan_fixed) | (items.c.status == "scheduled") if f.status == "scheduled"
                            else registered & ~plan_fixed)
    elif f.status == "overdue":  # ITEMS_OPEN as the partial index ix_items_open_live words it
        query = query.where(ITEMS_OPEN, items.c.planned_date < today)
    elif f.status is not None:
        query = query.where(items.c.status == f.status)
    return query


def items_page(conn: Connection, f: ItemFilter, *, at: int | None, now: str, today: str, after: str | None,
               limit: int) -> Page:
    query = _item_query(f, at, now, today)
    if after is not None:
        query = query.where(items.c.item_id > after)
    rows = list(_records(conn, "items", query.order_by(items.c.item_id).limit(limit + 1)))
    return _page(rows, limit, lambda item: (item.item_id,))


def items_count(conn: Connection, f: ItemFilter, *, at: int | None, now: str, today: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(_item_query(f, at, now, today).subquery())).scalar_one()


def items_counts(conn: Connection, f: ItemFilter, group_by: str, *, at: int | None, now: str,
                 today: str) -> dict[Any, list[int]]:
    """The matching items counted per ``group_by`` (region, industry, year or status as judged at
    ``now``), each ``[count, overdue]``: one grouped index scan, no rows sent. A status is judged
    here as ``views.item_status`` judges it (registered becomes scheduled once its year's deadline
    has passed), from the counts per stored status and year."""
    overdue = sa.case((items.c.status.in_(("registered", "scheduled")) & (items.c.planned_date < today), 1), else_=0)
    keys = (items.c.status, items.c.year) if group_by == "status" else (items.c[group_by],)
    query = _item_query(f, at, now, today).with_only_columns(
        *keys, sa.func.count(), sa.func.coalesce(sa.func.sum(overdue), 0)).group_by(*keys)
    rows = conn.execute(query).all()
    deadlines = deadlines_at(conn, at) if group_by == "status" else {}
    counted: dict[Any, list[int]] = {}
    for row in rows:
        key = row[0]
        if group_by == "status" and key == "registered" and deadlines.get(row[1]) is not None \
                and now > deadlines[row[1]]:
            key = "scheduled"
        found = counted.setdefault(key, [0, 0])
        found[0] += row[-2]
        found[1] += int(row[-1])
    return counted


def item(conn: Connection, item_id: str, at: int | None):
    return next(_records(conn, "items", _select("items", at).where(items.c.item_id == item_id)), None)


# -- tips ------------------------------------------------------------------------------------
def _tip_query(region: str | None, status: str | None, at: int | None, now: str):
    query = _select("tips", at)
    if region is not None:
        query = query.where(tips.c.region == region)
    if status == "late":  # resolved late, or still open past its period (within ix_tips_late_or_open_live)
        query = query.where(TIPS_LATE_OR_OPEN, tips.c.late.is_(True) | ((tips.c.status == "open") & (tips.c.due_at < now)))
    elif status is not None:
        query = query.where(tips.c.status == status)
    return query


def tips_page(conn: Connection, *, region: str | None, status: str | None, at: int | None, now: str,
              after: int | None, limit: int) -> Page:
    query = _tip_query(region, status, at, now)
    if after is not None:
        query = query.where(tips.c.seq > after)
    rows = list(_records(conn, "tips", query.order_by(tips.c.seq).limit(limit + 1)))
    return _page(rows, limit, lambda tip: (tip.seq,))


def tips_count(conn: Connection, *, region: str | None, status: str | None, at: int | None, now: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(_tip_query(region, status, at, now).subquery())).scalar_one()


def tips_counts(conn: Connection, group_by: str, *, region: str | None, status: str | None, at: int | None,
                now: str) -> dict[Any, list[int]]:
    """The matching tips counted per ``group_by`` (region or stored status), each ``[count,
    overdue]`` (overdue: still open past its period at ``now``)."""
    overdue = sa.case(((tips.c.status == "open") & (tips.c.due_at < now), 1), else_=0)
    key = tips.c[group_by]
    query = _tip_query(region, status, at, now).with_only_columns(
        key, sa.func.count(), sa.func.coalesce(sa.func.sum(overdue), 0)).group_by(key)
    return {row[0]: [row[1], int(row[2])] for row in conn.execute(query).all()}


def tip(conn: Connection, tip_id: str, at: int | None):
    return next(_records(conn, "tips", _select("tips", at).where(tips.c.tip_id == tip_id)), None)


# -- the department lists' cross-check --------------------------------------------------------
def _discrepancy_query(region: str | None, year: int | None, department: str | None, at: int | None):
    """Listed enterprises that their region's current report for the list's year leaves out, or
    declares zero against; a region that has not reported has none (it is missing)."""
    reported = sa.exists(sa.select(items.c.item_id).where(
        items.c.region == listings.c.region, items.c.year == listings.c.year, items.c.uscc == listings.c.uscc,
        items.c.source == "report", items.c.status != "withdrawn", valid_at(items, at)))
    query = (sa.select(*record_columns(listings), reports.c.seq.label("report_seq"), reports.c.zero_report)
             .join_from(listings, reports, (reports.c.region == listings.c.region) & (reports.c.year == listings.c.year)
                        & valid_at(reports, at))
             .where(valid_at(listings, at), ~reported))
    for column, value in ((listings.c.region, region), (listings.c.year, year), (listings.c.department, department)):
        if value is not None:
            query = query.where(column == value)
    return query


_LISTING_ORDER = (listings.c.seq, sa.func.length(listings.c.listing_id), listings.c.listing_id)


def discrepancies_page(conn: Connection, *, region: str | None, year: int | None, department: str | None,
                       at: int | None, after: tuple | None, limit: int) -> Page:
    query = _discrepancy_query(region, year, department, at)
    if after is not None:
        query = query.where(sa.tuple_(*_LISTING_ORDER) > sa.tuple_(*(sa.literal(v) for v in after)))
    rows = [dict(row) for row in conn.execute(query.order_by(*_LISTING_ORDER).limit(limit + 1)).mappings()]
    for row in rows:
        row["kind"] = "zero_report" if row.pop("zero_report") else "omitted"
    return _page(rows, limit, lambda row: (row["seq"], len(row["listing_id"]), row["listing_id"]))


def discrepancies_count(conn: Connection, *, region: str | None, year: int | None, department: str | None,
                        at: int | None) -> int:
    query = _discrepancy_query(region, year, department, at)
    return conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


def resurgences_page(conn: Connection, *, region: str | None, department: str | None, at: int | None,
                     after: int | None, limit: int) -> Page:
    query = _select("resurgences", at)
    if region is not None:
        query = query.where(resurgences.c.region == region)
    if department is not None:  # those its own lists revealed
        query = query.where(resurgences.c.source == "list", sa.exists(sa.select(listings.c.listing_id).where(
            listings.c.listing_id == resurgences.c.source_id, listings.c.department == department,
            valid_at(listings, at))))
    if after is not None:
        query = query.where(resurgences.c.seq > after)
    rows = list(_records(conn, "resurgences", query.order_by(resurgences.c.seq, resurgences.c.resurgence_id)
                         .limit(limit + 1)))
    return _page(rows, limit, lambda r: (r.seq,))


# -- the report registry ------------------------------------------------------------------------
def reports_of(conn: Connection, year: int, regions: list[str], at: int | None) -> dict[tuple[str, int], Any]:
    """The reports of ``year`` of some regions (a page of the registry): one index range from the
    lowest code to the highest, the rows of other regions dropped here. Not ``region IN (...)``:
    PostgreSQL runs a statement prepared with a list of parameters (psycopg prepares a query after
    5 runs) by a generic plan that compares every row of the year with every code of the list, not
    by hash as for literal values: 20-90 ms for each 500 codes instead of ~2 ms (bench/reads.py's
    national campaign of 2,850 regions)."""
    if not regions:
        return {}
    wanted = set(regions)
    as_text = ("item_ids", "history")  # decoded here by orjson: the driver's json.loads was half the time
    columns = [sa.cast(c, sa.Text).label(c.name) if c.name in as_text else c for c in record_columns(reports)]
    query = sa.select(*columns).where(valid_at(reports, at), reports.c.year == year, reports.c.region >= min(wanted),
                                      reports.c.region <= max(wanted))
    found = {}
    for row in conn.execute(query).mappings():
        if row["region"] in wanted:
            record = _RECORD["reports"](**{**row, "item_ids": orjson.loads(row["item_ids"]),
                                           "history": orjson.loads(row["history"])})
            found[(record.region, record.year)] = record
    return found


def report_counts(conn: Connection, year: int, at: int | None, region: str | None = None) -> dict[str, int]:
    """How many of the year's reports were filed on time, late, and as zero reports."""
    query = sa.select(sa.func.count().filter(reports.c.on_time.is_(True)), sa.func.count().filter(reports.c.on_time.is_(False)),
                      sa.func.count().filter(reports.c.zero_report.is_(True))).where(reports.c.year == year, valid_at(reports, at))
    if region is not None:
        query = query.where(reports.c.region == region)
    on_time, late, zero = conn.execute(query).one()
    return {"on_time": on_time, "late": late, "zero": zero}


def year_at(conn: Connection, year: int, at: int | None) -> YearRecord | None:
    return next(_records(conn, "years", _select("years", at).where(years.c.year == year)), None)


# -- the state digest -------------------------------------------------------------------------------
def state_digest(conn: Connection, at: int | None) -> str:
    """The digest of the projections valid at ``at`` (None: live), streamed from the rows in key
    order: ``LedgerState.digest`` of the same state, without loading it."""
    return digest_of({kind: _in_key_order(conn, kind, at) for kind in PROJECTIONS})


def _in_key_order(conn: Connection, kind: str, at: int | None) -> Iterator[tuple[str, Any]]:
    table, names = TABLES[kind]
    code_points = (lambda c: sa.collate(c, "C")) if conn.dialect.name == "postgresql" else (lambda c: c)
    order = [code_points(table.c[name]) if isinstance(table.c[name].type, sa.String) else table.c[name]
             for name in names]
    write = PROJECTIONS[kind][1]
    query = _select(kind, at).order_by(*order)
    for record in _records(conn, kind, query.execution_options(yield_per=2000)):
        key = tuple(getattr(record, name) for name in names)
        yield write(key if len(names) > 1 else key[0]), record
