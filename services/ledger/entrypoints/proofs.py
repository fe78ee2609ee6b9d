"""Signed checkpoints and Merkle proofs over HTTP (issue 17): open to anyone — they hold hashes,
never an event's content — so that a citizen holding a tip acknowledgement, an agency holding a
circular, or an auditor holding an export can check that the log they are shown still contains,
and extends, what they were given.

Views are thin functions, registered a few at a time by ``_register_*``; each reaches what it needs
through one object stored on the app (``current_app.extensions[DESK]``) and calls it."""
from __future__ import annotations

from flask import current_app

from shared.db import read_tx
from shared.http import ApiBlueprint, Problem, require

from .. import checkpoints
from ..adapters import merkle_store
from ..bootstrap import LedgerService
from ..domain.merkle import consistency_ranges, inclusion_ranges, prove
from . import proof_schemas as schemas

DESK = "zeroclear.ledger.proofs"


class ProofDesk:
    """What the proof views need: the ledger's signing key, its checkpoints and its stored tree."""

    def __init__(self, service: LedgerService):
        self.service, self.engine = service, service.repo.engine

    def key(self):
        if self.service.signing_key is None:
            raise Problem(503, "No signing key", "this ledger has no signing key configured "
                          "(ZEROCLEAR_LEDGER_SIGNING_KEY_FILE): it signs no checkpoints", kind="no-signing-key")
        return self.service.signing_key

    def checkpoint(self, size: int | None, field: str) -> dict:
        """The checkpoint of ``size`` (default the latest; none yet: one is signed now)."""
        found = checkpoints.latest(self.engine) if size is None else checkpoints.at_size(self.engine, size)
        if found is None and size is None:
            found = checkpoints.take(self.engine, self.key(), self.service.clock)
        if found is None:
            raise Problem(404, "No such checkpoint", f"the ledger signed no checkpoint of size {size}",
                          kind="not-found", errors=[{"field": f"query:{field}", "message": "no checkpoint of that size"}])
        return found

    def listed(self, args: dict) -> dict:
        self.key()
        found = checkpoints.listed(self.engine, after=args["after"], limit=args["limit"])
        return {"checkpoints": found, "next_after": found[-1]["size"] if len(found) == args["limit"] else None}

    def take(self, data: dict | None) -> dict:
        signing = self.key()
        head = self.service.repo.head()[0]
        if (data or {}).get("size") is not None and data["size"] > head:
            raise Problem(422, "Not on the log yet", f"the log holds {head} events", kind="validation",
                          errors=[{"field": "size", "message": f"at most {head}"}])
        return checkpoints.take(self.engine, signing, self.service.clock, at=(data or {}).get("size"))

    def keys(self) -> dict:
        signing = self.key()
        return {"origin": signing.origin, "current": str(signing.verifier),
                "verifier_keys": [str(v) for v in signing.verifiers()]}

    def inclusion(self, args: dict) -> dict:
        self.key()
        signed = self.checkpoint(args.get("size"), "size")
        if args["seq"] > signed["size"]:
            raise Problem(422, "Not in that checkpoint", f"the checkpoint holds seqs 1..{signed['size']}",
                          kind="validation", errors=[{"field": "query:seq", "message": f"at most {signed['size']}"}])
        index = args["seq"] - 1
        with read_tx(self.engine) as conn:  # the leaf in the same reads as its path (it sits among its siblings)
            values: dict = {}
            path = prove(inclusion_ranges(index, signed["size"]),
                         lambda wanted: values.update(self._fetch(conn, wanted | {(0, index)})) or values)
            leaf = values[(0, index)]
        return {"seq": args["seq"], "leaf_index": args["seq"] - 1, "leaf_hash": leaf.hex(), "size": signed["size"],
                "proof": [p.hex() for p in path], "checkpoint": signed}

    def consistency(self, args: dict) -> dict:
        self.key()
        signed = self.checkpoint(args.get("new"), "new")
        if args["old"] > signed["size"]:
            raise Problem(422, "Not an earlier size", f"the checkpoint's size is {signed['size']}",
                          kind="validation", errors=[{"field": "query:old", "message": f"at most {signed['size']}"}])
        with read_tx(self.engine) as conn:
            path = prove(consistency_ranges(args["old"], signed["size"]), lambda wanted: self._fetch(conn, wanted))
        return {"old": args["old"], "new": signed["size"], "proof": [p.hex() for p in path],
                "old_checkpoint": checkpoints.at_size(self.engine, args["old"]), "checkpoint": signed}

    def _fetch(self, conn, wanted):
        return merkle_store.fetch(conn, wanted, self.service.repo.tree.stored)


def _desk() -> ProofDesk:
    return current_app.extensions[DESK]


def blueprint(service: LedgerService) -> ApiBlueprint:
    blp = ApiBlueprint("proofs", __name__, url_prefix="/v1", description="Signed checkpoints and Merkle proofs")
    desk = ProofDesk(service)
    blp.record(lambda state: state.app.extensions.update({DESK: desk}))
    _register_checkpoints(blp)
    _register_proofs(blp)
    return blp


def _register_checkpoints(blp: ApiBlueprint) -> None:
    @blp.route("/checkpoints")
    @blp.arguments(schemas.CheckpointsQuery, location="query")
    @blp.response(200, schemas.CheckpointsPage)
    def list_checkpoints(args):
        """Every checkpoint the ledger signed, by size."""
        return _desk().listed(args)

    @blp.route("/checkpoints", methods=["POST"])
    @require("office", "auditor", "service")
    @blp.arguments(schemas.TakeCheckpointRequest, required=False)
    @blp.response(201, schemas.CheckpointSchema)
    def take_checkpoint(data):
        """Sign a checkpoint of the log as it is now, or of the tree at an earlier ``size`` (the
        one kept if it was signed already)."""
        return _desk().take(data)

    @blp.route("/checkpoints/latest")
    @blp.response(200, schemas.CheckpointSchema)
    def latest_checkpoint():
        """The latest signed checkpoint: keep its note to hold the log to it later."""
        _desk().key()
        return _desk().checkpoint(None, "size")

    @blp.route("/checkpoints/<int:size>")
    @blp.response(200, schemas.CheckpointSchema)
    def checkpoint_of(size):
        """The checkpoint of tree size ``size``."""
        _desk().key()
        return _desk().checkpoint(size, "size")

    @blp.route("/checkpoints/keys")
    @blp.response(200, schemas.KeysSchema)
    def signing_keys():
        """The ledger's signing keys as C2SP verifier keys: the current one and those it replaced."""
        return _desk().keys()


def _register_proofs(blp: ApiBlueprint) -> None:
    @blp.route("/proofs/inclusion")
    @blp.arguments(schemas.InclusionQuery, location="query")
    @blp.response(200, schemas.InclusionSchema)
    def inclusion(args):
        """That event ``seq`` is in the tree of a signed checkpoint: its leaf hash and audit path."""
        return _desk().inclusion(args)

    @blp.route("/proofs/consistency")
    @blp.arguments(schemas.ConsistencyQuery, location="query")
    @blp.response(200, schemas.ConsistencySchema)
    def consistency(args):
        """That the tree of a later checkpoint extends the tree of size ``old`` you hold a checkpoint of."""
        return _desk().consistency(args)
