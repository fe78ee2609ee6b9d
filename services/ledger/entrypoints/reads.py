"""The ledger's read endpoints over its projections: capacity items, tips, the report registry,
the department lists' cross-check, as of now or of any position — each a page of indexed rows
(``adapters/reads.py``) in one read transaction, with a cursor for the next page.

Views are thin functions, registered a few at a time by ``_register_*``; each reaches what it needs
through one object stored on the app (``current_app.extensions[DESK]``) and calls it."""
from __future__ import annotations

import base64
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

import orjson
from flask import current_app
from sqlalchemy.engine import Connection

from shared.clock import format_instant, parse_instant, parse_position
from shared.db import read_tx
from shared.http import ApiBlueprint, Problem, current_principal, require

from .. import snapshots
from ..adapters import reads
from ..bootstrap import LedgerService
from ..domain import registry
from ..domain.records import PROJECTIONS, plain_record
from ..domain.views import item_view, tip_view
from . import schemas

READERS = ("office", "auditor", "service", "region")


@dataclass(frozen=True)
class Moment:
    """What a read sees: the rows valid at ``at`` (None: live) judged at the instant ``now``."""

    conn: Connection
    at: int | None
    seq: int
    now: str
    today: str


def encode_cursor(parts: tuple | None) -> str | None:
    return None if parts is None else base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode().rstrip("=")


DESK = "zeroclear.ledger.reads"


class ReadDesk:
    """What the read views need: a read transaction at a moment of the log, and the service's
    engine, clock and reference."""

    def __init__(self, service: LedgerService):
        self.service = service

    @contextmanager
    def moment(self, as_of: str | None) -> Iterator[Moment]:
        with read_tx(self.service.repo.engine) as conn:
            head, _ = reads.head(conn)
            if not as_of:
                yield self._judged(conn, None, head, self.service.clock.now())
                return
            try:
                seq, recorded_at = parse_position(as_of)
            except ValueError as exc:
                raise Problem(400, "Bad as_of", f"the query parameter as_of must be {exc}", kind="validation",
                              errors=[{"field": "query:as_of", "message": str(exc)}]) from None
            if seq is None:
                yield self._judged(conn, reads.position_at(conn, recorded_at), head, parse_instant(recorded_at))
                return
            if seq > head:
                raise Problem(409, "Not on the log", f"as_of: position {seq} is past the head of the log ({head})",
                              kind="not-yet", errors=[{"field": "query:as_of", "message": f"at most {head}"}])
            when = reads.recorded_at(conn, seq)
            yield self._judged(conn, seq, seq, parse_instant(when) if when else self.service.clock.now())

    def _judged(self, conn: Connection, at: int | None, seq: int, when: datetime) -> Moment:
        today = self.service.reference.calendar.business_date(when).isoformat()
        return Moment(conn, at, at if at is not None else seq, format_instant(when), today)

    def items(self, args: dict) -> dict:
        f = reads.ItemFilter(region=own_region(args.get("region")), industry=args.get("industry"),
                             year=args.get("year"), status=args.get("status"), source=args.get("source"))
        with self.moment(args.get("as_of")) as m:
            page = reads.items_page(m.conn, f, at=m.at, now=m.now, today=m.today, after=_one(args), limit=args["limit"])
            deadlines = reads.deadlines_at(m.conn, m.at)
            rows = [item_view(item, deadlines, m.now, m.today) for item in page.rows]
            answer = page_of(args, m, rows, page, lambda: reads.items_count(m.conn, f, at=m.at, now=m.now, today=m.today))
        answer["items"] = answer.pop("rows")
        return answer

    def item_counts(self, args: dict) -> dict:
        f = reads.ItemFilter(region=own_region(args.get("region")), industry=args.get("industry"),
                             year=args.get("year"), status=args.get("status"), source=args.get("source"))
        with self.moment(args.get("as_of")) as m:
            counted = reads.items_counts(m.conn, f, args["group_by"], at=m.at, now=m.now, today=m.today)
        return counts_of(args["group_by"], counted, m)

    def item(self, args: dict, item_id: str) -> dict:
        with self.moment(args.get("as_of")) as m:
            return item_view(visible_item(m, item_id), reads.deadlines_at(m.conn, m.at), m.now, m.today)

    def item_history(self, item_id: str) -> dict:
        with self.moment(None) as m:
            seqs = list(visible_item(m, item_id).event_seqs)
        return {"item_id": item_id, "events": [e.to_dict() for e in self.service.repo.events_at(seqs)]}

    def tips(self, args: dict) -> dict:
        region, status = own_region(args.get("region")), args.get("status")
        with self.moment(args.get("as_of")) as m:
            page = reads.tips_page(m.conn, region=region, status=status, at=m.at, now=m.now, after=_one(args),
                                   limit=args["limit"])
            answer = page_of(args, m, [tip_view(t, m.now) for t in page.rows], page,
                             lambda: reads.tips_count(m.conn, region=region, status=status, at=m.at, now=m.now))
        answer["tips"] = answer.pop("rows")
        return answer

    def tip_counts(self, args: dict) -> dict:
        with self.moment(args.get("as_of")) as m:
            counted = reads.tips_counts(m.conn, args["group_by"], region=own_region(args.get("region")),
                                        status=args.get("status"), at=m.at, now=m.now)
        return counts_of(args["group_by"], counted, m)

    def tip(self, args: dict, tip_id: str) -> dict:
        with self.moment(args.get("as_of")) as m:
            found = reads.tip(m.conn, tip_id, m.at)
            principal = current_principal()
            if found is None or (principal.role == "region" and found.region != principal.region):
                raise Problem(404, "Not found", f"no tip {tip_id}", kind="not-found")
            return tip_view(found, m.now)

    def discrepancies(self, args: dict) -> dict:
        scope = dict(region=own_region(args.get("region")), year=args.get("year"), department=own_department())
        with self.moment(args.get("as_of")) as m:
            page = reads.discrepancies_page(m.conn, **scope, at=m.at, after=args.get("cursor"), limit=args["limit"])
            answer = page_of(args, m, page.rows, page, lambda: reads.discrepancies_count(m.conn, **scope, at=m.at))
        answer["discrepancies"] = answer.pop("rows")
        return answer

    def resurgences(self, args: dict) -> dict:
        plain = plain_record(PROJECTIONS["resurgences"][0])
        with self.moment(args.get("as_of")) as m:
            page = reads.resurgences_page(m.conn, region=own_region(args.get("region")), department=own_department(),
                                          at=m.at, after=_one(args), limit=args["limit"])
            answer = page_of({**args, "count": False}, m, [plain(r) for r in page.rows], page, None)
        answer["resurgences"] = answer.pop("rows")
        return answer

    def registry(self, args: dict) -> dict:
        year, service = args["year"], self.service
        when = parse_instant(args["as_of"]) if args.get("as_of") else service.clock.now()
        principal = current_principal()
        own = principal.region if principal.role == "region" else None
        with read_tx(service.repo.engine) as conn:
            at = reads.position_at(conn, format_instant(when)) if args.get("as_of") else None
            record = reads.year_at(conn, year, at)
            expected, deadline, due = registry.schedule(record, year, service.reference)
            if own is not None:
                expected = [code for code in expected if code == own]
            after = _one(args)
            page = [code for code in expected if after is None or code > after][:args["limit"] + 1]
            shown = page[:args["limit"]]
            reports = reads.reports_of(conn, year, shown, at)
            filed = reads.report_counts(conn, year, at, own)
        now = format_instant(when)
        return {**registry.summary(year, record, len(expected), filed, deadline, due, now),
                "regions": registry.rows(shown, reports, year, deadline, now, service.reference),
                "next": encode_cursor((shown[-1],)) if len(page) > len(shown) else None}

    def state(self, args: dict) -> dict:
        with self.moment(args.get("as_of")) as m:
            head_hash = reads.hash_at(m.conn, m.seq)
            return {"seq": m.seq, "head": head_hash, "digest": reads.state_digest(m.conn, m.at)}

    def snapshots(self, args: dict) -> dict:
        found = snapshots.listed(self.service.repo.engine, after=args["after"], limit=args["limit"])
        return {"snapshots": [vars(s) for s in found],
                "next_after": found[-1].seq if len(found) == args["limit"] else None}


def own_region(asked: str | None) -> str | None:
    """The region a reader may see: a region key only its own, whatever it asks for."""
    principal = current_principal()
    if principal.role == "region":
        return principal.region if not asked or asked == principal.region else "-"  # another's: as if none
    return asked


def own_department() -> str | None:
    principal = current_principal()
    return principal.department if principal.role == "department" else None


def page_of(args: dict, m: Moment, rows: list, page: reads.Page, count) -> dict:
    answer = {"next": encode_cursor(page.next), "limit": args["limit"], "as_of": m.now, "seq": m.seq,
              "rows": rows}
    if args["count"]:
        answer["total"] = count()
    return answer


def counts_of(group_by: str, counted: dict, m: Moment) -> dict:
    """A counts answer: each group's ``[count, overdue]`` in key order, and their sums."""
    groups = sorted((str(key), count, overdue) for key, (count, overdue) in counted.items())
    return {"group_by": group_by, "counts": [{"key": k, "count": n, "overdue": o} for k, n, o in groups],
            "total": sum(n for _, n, _ in groups), "overdue": sum(o for _, _, o in groups), "as_of": m.now,
            "seq": m.seq}


def visible_item(m: Moment, item_id: str):
    found = reads.item(m.conn, item_id, m.at)
    principal = current_principal()
    if found is None or (principal.role == "region" and found.region != principal.region):
        raise Problem(404, "Not found", f"no capacity item {item_id}", kind="not-found")
    return found


def _desk() -> ReadDesk:
    return current_app.extensions[DESK]


def blueprint(service: LedgerService) -> ApiBlueprint:
    blp = ApiBlueprint("ledger-reads", __name__, url_prefix="/v1", description="The projections: now or as of a position")
    desk = ReadDesk(service)
    blp.record(lambda state: state.app.extensions.update({DESK: desk}))
    _register_items(blp)
    _register_tips(blp)
    _register_cross_checks(blp)
    _register_registry(blp)
    return blp


def _register_items(blp: ApiBlueprint) -> None:
    @blp.route("/items")
    @require(*READERS)
    @blp.arguments(schemas.ItemsQuery, location="query")
    @blp.response(200, schemas.ItemsPage)
    def items(args):
        """Capacity items (台账条目) with their status judged as of now or ``as_of``, filtered, in
        item id order, a page at a time (``next``: the cursor of the next page)."""
        return _desk().items(args)

    @blp.route("/items/counts")
    @require(*READERS)
    @blp.arguments(schemas.ItemCountsQuery, location="query")
    @blp.response(200, schemas.CountsSchema)
    def item_counts(args):
        """How many capacity items match the filters (those of ``/v1/items``), per region, industry,
        year or status (``group_by``), and how many of each are overdue, now or ``as_of``: one
        indexed count instead of paging through the list; a region key counts its own region."""
        return _desk().item_counts(args)

    @blp.route("/items/<item_id>")
    @require(*READERS)
    @blp.arguments(schemas.AsOfQuery, location="query")
    @blp.response(200, schemas.ItemSchema)
    def item(args, item_id):
        """One capacity item with its status as of now or ``as_of`` (404 for another region's)."""
        return _desk().item(args, item_id)

    @blp.route("/items/<item_id>/history")
    @require(*READERS)
    @blp.response(200, schemas.HistorySchema)
    def item_history(item_id):
        """Every recorded event that touched the item, in log order."""
        return _desk().item_history(item_id)


def _register_tips(blp: ApiBlueprint) -> None:
    @blp.route("/tips")
    @require(*READERS)
    @blp.arguments(schemas.TipsQuery, location="query")
    @blp.response(200, schemas.TipsPage)
    def tip_list(args):
        """Tips (举报) on the ledger with their resolution, in the order they were recorded; a
        region sees the tips about it. ``status=late``: resolved late, or open past its period."""
        return _desk().tips(args)

    @blp.route("/tips/counts")
    @require(*READERS)
    @blp.arguments(schemas.TipCountsQuery, location="query")
    @blp.response(200, schemas.CountsSchema)
    def tip_counts(args):
        """How many tips match the filters (those of ``/v1/tips``), per region or status
        (``group_by``), and how many of each are open past their period, now or ``as_of``; a
        region key counts the tips about it."""
        return _desk().tip_counts(args)

    @blp.route("/tips/<tip_id>")
    @require(*READERS)
    @blp.arguments(schemas.AsOfQuery, location="query")
    @blp.response(200, schemas.TipSchema)
    def tip_lookup(args, tip_id):
        """One tip with its resolution as of now or ``as_of`` (404 for another region's, to a region key)."""
        return _desk().tip(args, tip_id)


def _register_cross_checks(blp: ApiBlueprint) -> None:
    @blp.route("/discrepancies")
    @require(*READERS, "department")
    @blp.arguments(schemas.DiscrepanciesQuery, location="query")
    @blp.response(200, schemas.DiscrepanciesPage)
    def discrepancy_list(args):
        """Department-listed enterprises that their region's current report leaves out (or declares
        zero against), in the order they were listed; a department key sees what its own lists
        revealed. Resurgences (死灰复燃) are at ``/v1/resurgences``."""
        return _desk().discrepancies(args)

    @blp.route("/resurgences")
    @require(*READERS, "department")
    @blp.arguments(schemas.ResurgencesQuery, location="query")
    @blp.response(200, schemas.ResurgencesPage)
    def resurgence_list(args):
        """死灰复燃: a tip or a department's list naming an enterprise whose capacity was already
        verified eliminated, in log order; a department key sees those its own lists revealed."""
        return _desk().resurgences(args)


def _register_registry(blp: ApiBlueprint) -> None:
    @blp.route("/reports")
    @require(*READERS)
    @blp.arguments(schemas.RegistryQuery, location="query")
    @blp.response(200, schemas.RegistrySchema)
    def report_registry(args):
        """The report registry of a year, judged at ``as_of`` (a time; default: now) from the rows
        valid then: the whole year at a glance (counts, completeness), and the regions a page at a
        time in code order (``next``); a region key sees its own region only."""
        return _desk().registry(args)

    @blp.route("/state")
    @require("office", "auditor", "service")
    @blp.arguments(schemas.AsOfQuery, location="query")
    @blp.response(200, schemas.StateSchema)
    def state(args):
        """The projections' digest now or as of a position (compare with ``zeroclear ledger
        replay``): streamed from the rows valid then, no replay."""
        return _desk().state(args)

    @blp.route("/snapshots")
    @require("office", "auditor", "service")
    @blp.arguments(schemas.SnapshotsQuery, location="query")
    @blp.response(200, schemas.SnapshotsPage)
    def snapshot_list(args):
        """Snapshots of the projections: at positions along the log, their digest as the stored rows
        gave it (``zeroclear ledger snapshots verify`` holds each against a replay of the log)."""
        return _desk().snapshots(args)


def _one(args: dict):
    """The one key a single-key cursor holds."""
    cursor = args.get("cursor")
    return None if cursor is None else cursor[0]
