"""The whole chain verified a segment at a time, for a walk that shows its progress (the portal's
chain page): each request walks at most ``limit`` events after the position and hash the caller
verified to last, so no request holds the ledger for the length of the log and the caller can say
how far it is. A chain verified to N and then from N on is verified to the end, as the public
``/v1/verify`` moves on; the last segment is held to the head row, as the full walk is. For office
and auditor keys, like the full walk; the walk's state lives with the caller, not the ledger."""
from __future__ import annotations

from contextlib import closing

import sqlalchemy as sa
from marshmallow import Schema, fields, validate

from shared.db import read_tx
from shared.http import ApiBlueprint, require

from ..adapters.log_rows import stream_rows
from ..adapters.tables import log_head
from ..bootstrap import LedgerService
from ..domain.chain import GENESIS
from ..domain.log_row import verify_rows
from .schemas import VerdictSchema

AUDITORS = ("office", "auditor")
MAX_SEQ = 2**53 - 1


class SegmentQuery(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_SEQ),
                           metadata={"description": "the position verified to so far (0: from the start)"})
    after_hash = fields.String(load_default=GENESIS, validate=validate.Regexp(r"^[0-9a-f]{64}$"),
                               metadata={"description": "the hash at ``after`` as the previous segment found it"})
    limit = fields.Integer(load_default=50_000, validate=validate.Range(min=1, max=1_000_000))


class SegmentVerdict(VerdictSchema):
    head_seq = fields.Integer(required=True, metadata={"description": "the log's head when this segment was read"})
    done = fields.Boolean(required=True, metadata={"description": "the walk reached the head (or found a bad event)"})


def blueprint(service: LedgerService) -> ApiBlueprint:
    blp = ApiBlueprint("ledger-verify-walk", __name__, url_prefix="/v1",
                       description="The chain verified a segment at a time, with its progress")

    @blp.route("/verify/segment")
    @require(*AUDITORS)
    @blp.arguments(SegmentQuery, location="query")
    @blp.response(200, SegmentVerdict)
    def verify_segment(args):
        """The next ``limit`` events after ``after`` verified from ``after_hash``: ``count`` and
        ``head`` say how far the chain holds, ``done`` whether the walk is over (the last segment is
        also held to the head row; ``ok`` false names the first bad position)."""
        after, limit = args["after"], args["limit"]
        with read_tx(service.repo.engine) as conn:
            row = conn.execute(sa.select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)).first()
            head_seq, head_hash = (int(row.seq), row.hash) if row else (0, GENESIS)
            upto = min(head_seq, after + limit)  # every position up to it must be there: the walk moves on
            with closing(stream_rows(conn, upto_seq=upto, after=after)) as rows:
                verdict = verify_rows(rows, expected_count=upto, expected_head=head_hash if upto == head_seq else None,
                                      start=(after, args["after_hash"]))
        return {**verdict.to_dict(), "scope": "full", "head_seq": head_seq, "done": upto == head_seq or not verdict.ok}

    return blp
