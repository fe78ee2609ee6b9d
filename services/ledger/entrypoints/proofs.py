"""Signed checkpoints and Merkle proofs over HTTP (issue 17): open to anyone — they hold hashes,
never an event's content — so that a citizen holding a tip acknowledgement, an agency holding a
circular, or an auditor holding an export can check that the log they are shown still contains,
and extends, what they were given."""
from __future__ import annotations

from shared.db import read_tx
from shared.http import ApiBlueprint, Problem, require

from .. import checkpoints
from ..adapters import merkle_store
from ..bootstrap import LedgerService
from ..domain.merkle import consistency_ranges, inclusion_ranges, prove
from . import proof_schemas as schemas


def blueprint(service: LedgerService) -> ApiBlueprint:
    blp = ApiBlueprint("proofs", __name__, url_prefix="/v1", description="Signed checkpoints and Merkle proofs")
    engine = service.repo.engine

    def fetch(conn, wanted):
        return merkle_store.fetch(conn, wanted, service.repo.tree.stored)

    def key():
        if service.signing_key is None:
            raise Problem(503, "No signing key", "this ledger has no signing key configured "
                          "(ZEROCLEAR_LEDGER_SIGNING_KEY_FILE): it signs no checkpoints", kind="no-signing-key")
        return service.signing_key

    def checkpoint(size: int | None, field: str) -> dict:
        """The checkpoint of ``size`` (default the latest; none yet: one is signed now)."""
        found = checkpoints.latest(engine) if size is None else checkpoints.at_size(engine, size)
        if found is None and size is None:
            found = checkpoints.take(engine, key(), service.clock)
        if found is None:
            raise Problem(404, "No such checkpoint", f"the ledger signed no checkpoint of size {size}",
                          kind="not-found", errors=[{"field": f"query:{field}", "message": "no checkpoint of that size"}])
        return found

    @blp.route("/checkpoints")
    @blp.arguments(schemas.CheckpointsQuery, location="query")
    @blp.response(200, schemas.CheckpointsPage)
    def list_checkpoints(args):
        """Every checkpoint the ledger signed, by size."""
        key()
        found = checkpoints.listed(engine, after=args["after"], limit=args["limit"])
        return {"checkpoints": found, "next_after": found[-1]["size"] if len(found) == args["limit"] else None}

    @blp.route("/checkpoints", methods=["POST"])
    @require("office", "auditor", "service")
    @blp.arguments(schemas.TakeCheckpointRequest, required=False)
    @blp.response(201, schemas.CheckpointSchema)
    def take_checkpoint(data):
        """Sign a checkpoint of the log as it is now, or of the tree at an earlier ``size`` (the
        one kept if it was signed already)."""
        signing = key()
        head = service.repo.head()[0]
        if (data or {}).get("size") is not None and data["size"] > head:
            raise Problem(422, "Not on the log yet", f"the log holds {head} events", kind="validation",
                          errors=[{"field": "size", "message": f"at most {head}"}])
        return checkpoints.take(engine, signing, service.clock, at=(data or {}).get("size"))

    @blp.route("/checkpoints/latest")
    @blp.response(200, schemas.CheckpointSchema)
    def latest_checkpoint():
        """The latest signed checkpoint: keep its note to hold the log to it later."""
        key()
        return checkpoint(None, "size")

    @blp.route("/checkpoints/<int:size>")
    @blp.response(200, schemas.CheckpointSchema)
    def checkpoint_of(size):
        """The checkpoint of tree size ``size``."""
        key()
        return checkpoint(size, "size")

    @blp.route("/checkpoints/keys")
    @blp.response(200, schemas.KeysSchema)
    def signing_keys():
        """The ledger's signing keys as C2SP verifier keys: the current one and those it replaced."""
        signing = key()
        return {"origin": signing.origin, "current": str(signing.verifier),
                "verifier_keys": [str(v) for v in signing.verifiers()]}

    @blp.route("/proofs/inclusion")
    @blp.arguments(schemas.InclusionQuery, location="query")
    @blp.response(200, schemas.InclusionSchema)
    def inclusion(args):
        """That event ``seq`` is in the tree of a signed checkpoint: its leaf hash and audit path."""
        key()
        signed = checkpoint(args.get("size"), "size")
        if args["seq"] > signed["size"]:
            raise Problem(422, "Not in that checkpoint", f"the checkpoint holds seqs 1..{signed['size']}",
                          kind="validation", errors=[{"field": "query:seq", "message": f"at most {signed['size']}"}])
        index = args["seq"] - 1
        with read_tx(engine) as conn:  # the leaf in the same reads as its path (it sits among its siblings)
            values: dict = {}
            path = prove(inclusion_ranges(index, signed["size"]),
                         lambda wanted: values.update(fetch(conn, wanted | {(0, index)})) or values)
            leaf = values[(0, index)]
        return {"seq": args["seq"], "leaf_index": args["seq"] - 1, "leaf_hash": leaf.hex(), "size": signed["size"],
                "proof": [p.hex() for p in path], "checkpoint": signed}

    @blp.route("/proofs/consistency")
    @blp.arguments(schemas.ConsistencyQuery, location="query")
    @blp.response(200, schemas.ConsistencySchema)
    def consistency(args):
        """That the tree of a later checkpoint extends the tree of size ``old`` you hold a checkpoint of."""
        key()
        signed = checkpoint(args.get("new"), "new")
        if args["old"] > signed["size"]:
            raise Problem(422, "Not an earlier size", f"the checkpoint's size is {signed['size']}",
                          kind="validation", errors=[{"field": "query:old", "message": f"at most {signed['size']}"}])
        with read_tx(engine) as conn:
            path = prove(consistency_ranges(args["old"], signed["size"]), lambda wanted: fetch(conn, wanted))
        return {"old": args["old"], "new": signed["size"], "proof": [p.hex() for p in path],
                "old_checkpoint": checkpoints.at_size(engine, args["old"]), "checkpoint": signed}

    return blp
