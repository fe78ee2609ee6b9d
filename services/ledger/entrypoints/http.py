"""The ledger's HTTP API: the feed, verification, the state digest and the report registry."""
from __future__ import annotations

from flask import Flask

from datetime import datetime

from shared.clock import format_instant, parse_instant
from shared.http import ApiBlueprint, Problem, create_app as create_base_app, current_principal, require

from ..audit import AsOf, AsOfError, replay_database
from ..bootstrap import LedgerService
from ..domain.registry import registry
from ..domain.state import LedgerState
from ..domain.state import TipRecord, plain_record
from ..domain.views import discrepancies, item_view, items_view, resurgences

plain_tip = plain_record(TipRecord)
from . import schemas

READERS = ("office", "auditor", "service", "region")


def create_app(service: LedgerService) -> Flask:
    app, api = create_base_app("zeroclear.ledger", title="zeroclear ledger", database=service.repo.head,
                               max_body_bytes=service.settings.max_body_bytes)
    app.extensions["zeroclear.keys"] = service.keys
    api.register_blueprint(_blueprint(service))
    return app


def _blueprint(service: LedgerService) -> ApiBlueprint:
    blp = ApiBlueprint("ledger", __name__, url_prefix="/v1", description="The event log (台账) and its projections")

    @blp.route("/events")
    @require(*READERS)
    @blp.arguments(schemas.EventsQuery, location="query")
    @blp.response(200, schemas.EventsPage)
    def events(args):
        """The feed: recorded events after a position (a region key sees its own region's)."""
        principal = current_principal()
        region = principal.region if principal.role == "region" else None
        page = service.repo.read(args["after"], args["limit"], region=region)
        head_seq, _ = service.repo.head()
        return {"events": [e.to_dict() for e in page], "next_after": page[-1].seq if page else args["after"],
                "head_seq": head_seq}

    @blp.route("/verify")
    @blp.response(200, schemas.VerdictSchema)
    def verify():
        """Recompute the whole hash chain; open to anyone, like a public checkpoint."""
        return service.repo.verify().to_dict()

    @blp.route("/state")
    @require("office", "auditor", "service")
    @blp.response(200, schemas.StateSchema)
    def state():
        """The live projection's position and digest (compare with `zeroclear ledger replay`)."""
        current = service.repo.load_state(with_streams=False)
        return {"seq": current.seq, "head": current.head, "digest": current.digest()}

    @blp.route("/reports")
    @require(*READERS)
    @blp.arguments(schemas.RegistryQuery, location="query")
    @blp.response(200, schemas.RegistrySchema)
    def reports(args):
        """The report registry of a year: on time, late, missing or awaiting, and zero reports."""
        as_of = parse_instant(args["as_of"]) if args.get("as_of") else service.clock.now()
        principal = current_principal()
        only = {principal.region} if principal.role == "region" else None
        return registry(service.repo.load_state(with_items=False), args["year"], as_of, service.reference, only)

    def state_at(as_of: str | None) -> tuple[LedgerState, datetime]:
        """The state now, or as it was at a position or time (replayed from the log, verified),
        and the instant statuses are judged at."""
        if not as_of:
            return service.repo.load_state(with_streams=False), service.clock.now()
        try:
            point = AsOf.parse(as_of)
        except AsOfError as exc:
            raise Problem(400, "Bad as_of", str(exc), kind="validation",
                          errors=[{"field": "query:as_of", "message": str(exc)}]) from None
        replay = replay_database(service.repo, point)
        if not replay.verdict.ok:
            raise Problem(409, "The log does not verify", f"first bad seq {replay.verdict.first_bad_seq}", kind="log-broken")
        when = parse_instant(point.recorded_at) if point.recorded_at else (
            parse_instant(replay.state.recorded_at) if replay.state.recorded_at else service.clock.now())
        return replay.state, when

    def judged(when: datetime) -> tuple[str, str]:
        """The instant and the business date that statuses are judged at."""
        return format_instant(when), service.reference.calendar.business_date(when).isoformat()

    def own_region(asked: str | None) -> str | None:
        """The region a reader may see: a region key only its own, whatever it asks for."""
        principal = current_principal()
        if principal.role == "region":
            if asked and asked != principal.region:
                return "-"  # another region's data: an empty answer, as if there were none
            return principal.region
        return asked

    def page(rows: list, args: dict, state: LedgerState, now: str) -> tuple[dict, list]:
        """The page's metadata and its rows, by ``offset`` and ``limit``."""
        offset, limit = args["offset"], args["limit"]
        end = offset + limit
        return {"total": len(rows), "offset": offset, "next_offset": end if end < len(rows) else None,
                "as_of": now, "seq": state.seq}, rows[offset:end]

    @blp.route("/items")
    @require(*READERS)
    @blp.arguments(schemas.ItemsQuery, location="query")
    @blp.response(200, schemas.ItemsPage)
    def items(args):
        """Capacity items (台账条目) with their status as of now or ``as_of``, filtered and paginated."""
        state, when = state_at(args.get("as_of"))
        now, today = judged(when)
        rows = items_view(state, now, today, region=own_region(args.get("region")), industry=args.get("industry"),
                          status=args.get("status"), year=args.get("year"))
        meta, rows = page(rows, args, state, now)
        return {**meta, "items": rows}

    def visible_item(state: LedgerState, item_id: str):
        item = state.items.get(item_id)
        principal = current_principal()
        if item is None or (principal.role == "region" and item.region != principal.region):
            raise Problem(404, "Not found", f"no capacity item {item_id}", kind="not-found")
        return item

    @blp.route("/items/<item_id>")
    @require(*READERS)
    @blp.arguments(schemas.AsOfQuery, location="query")
    @blp.response(200, schemas.ItemSchema)
    def item(args, item_id):
        """One capacity item with its status as of now or ``as_of`` (404 for another region's)."""
        state, when = state_at(args.get("as_of"))
        now, today = judged(when)
        return item_view(visible_item(state, item_id), state, now, today)

    @blp.route("/items/<item_id>/history")
    @require(*READERS)
    @blp.response(200, schemas.HistorySchema)
    def item_history(item_id):
        """Every recorded event that touched the item, in log order."""
        item = visible_item(service.repo.load_state(with_streams=False), item_id)
        return {"item_id": item_id, "events": [e.to_dict() for e in service.repo.events_at(list(item.event_seqs))]}

    @blp.route("/discrepancies")
    @require(*READERS, "department")
    @blp.arguments(schemas.DiscrepanciesQuery, location="query")
    @blp.response(200, schemas.DiscrepanciesPage)
    def discrepancy_list(args):
        """Department-listed enterprises the region's current report leaves out, and resurgences
        (死灰复燃: a tip or list naming capacity already verified eliminated). A department key
        sees what its own lists revealed."""
        state, when = state_at(args.get("as_of"))
        now, _ = judged(when)
        region = own_region(args.get("region"))
        principal = current_principal()
        department = principal.department if principal.role == "department" else None
        rows = discrepancies(state, region=region, year=args.get("year"), department=department)
        meta, rows = page(rows, args, state, now)
        return {**meta, "discrepancies": rows,
                "resurgences": resurgences(state, region=region, department=department)}

    @blp.route("/tips")
    @require("office", "auditor", "service", "region")
    @blp.arguments(schemas.TipsQuery, location="query")
    @blp.response(200, schemas.TipsPage)
    def tip_list(args):
        """Tips (举报) on the ledger with their resolution; a region sees the tips about it."""
        state, when = state_at(args.get("as_of"))
        now, _ = judged(when)
        region = own_region(args.get("region"))
        wanted = args.get("status")
        rows = []
        for tip in sorted(state.tips.values(), key=lambda t: t.seq):
            if region and tip.region != region:
                continue
            view = plain_tip(tip)
            view["overdue"] = tip.status == "open" and now > tip.due_at
            if wanted and not (tip.status == wanted or (wanted == "late" and (tip.late or view["overdue"]))):
                continue
            rows.append(view)
        meta, rows = page(rows, args, state, now)
        return {**meta, "tips": rows}

    @blp.route("/topology")
    @blp.response(200)
    def topology():
        """The broker topology: how an agency subscribes to recorded events with any AMQP client."""
        return service.broker.topology.describe()

    return blp
