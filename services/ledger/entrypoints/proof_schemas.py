"""Schemas of the checkpoints and proofs endpoints (entrypoints/proofs.py)."""
from marshmallow import Schema, fields, validate

SEQ = validate.Range(min=1, max=2**53 - 1)
SIZE = validate.Range(min=0, max=2**53 - 1)


class CheckpointSchema(Schema):
    size = fields.Integer(required=True, metadata={"description": "the tree size: the log's events 1..size (ledger seqs)"})
    root = fields.String(required=True, metadata={"description": "the Merkle tree's root hash (RFC 9162), hex"})
    taken_at = fields.String(required=True, metadata={"description": "when it was signed (UTC)"})
    key_id = fields.String(required=True, metadata={"description": "the signing key's id (hex, 4 bytes)"})
    note = fields.String(required=True, metadata={
        "description": "the signed checkpoint, a C2SP signed note (tlog-checkpoint): keep it; it is your witness",
        "example": "zeroclear.ledger\n1200\nq7CEnQ…=\ntime 2016-11-15T09:30:00Z\n\n— zeroclear.ledger AbCd…\n"})
    state_digest = fields.String(allow_none=True, metadata={
        "description": "the projections' state digest at that size (as /v1/state?as_of=size), when signed with a snapshot"})


class TakeCheckpointRequest(Schema):
    size = fields.Integer(strict=True, validate=SIZE, metadata={
        "description": "the tree size to sign (a past position, e.g. a circular's; default: the head)"})


class CheckpointsQuery(Schema):
    after = fields.Integer(load_default=-1, validate=validate.Range(min=-1, max=2**53 - 1),
                           metadata={"description": "checkpoints of sizes after this one"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class CheckpointsPage(Schema):
    checkpoints = fields.List(fields.Nested(CheckpointSchema), required=True)
    next_after = fields.Integer(allow_none=True, metadata={"description": "pass as ?after= for more; null: no more"})


class KeysSchema(Schema):
    origin = fields.String(required=True, metadata={"description": "the log's name, the first line of each checkpoint"})
    current = fields.String(required=True, metadata={"description": "the verifier key (name+id+base64 key) signing now"})
    verifier_keys = fields.List(fields.String(), required=True, metadata={
        "description": "every key whose checkpoints hold: the current one, then the retired ones"})


class InclusionQuery(Schema):
    seq = fields.Integer(required=True, validate=SEQ, metadata={"description": "the event (ledger seq)"})
    size = fields.Integer(validate=SIZE, metadata={
        "description": "the checkpoint's tree size to prove it in (default: the latest checkpoint)"})


class InclusionSchema(Schema):
    seq = fields.Integer(required=True)
    leaf_index = fields.Integer(required=True, metadata={"description": "seq - 1"})
    leaf_hash = fields.String(required=True, metadata={
        "description": "SHA-256(0x00 ‖ the event's canonical header bytes), hex"})
    size = fields.Integer(required=True)
    proof = fields.List(fields.String(), required=True, metadata={"description": "the audit path, hex, leaf first"})
    checkpoint = fields.Nested(CheckpointSchema, required=True)


class ConsistencyQuery(Schema):
    old = fields.Integer(required=True, validate=validate.Range(min=1, max=2**53 - 1),
                         metadata={"description": "the tree size you hold a checkpoint of"})
    new = fields.Integer(validate=SIZE, metadata={"description": "a later checkpoint's size (default: the latest)"})


class ConsistencySchema(Schema):
    old = fields.Integer(required=True)
    new = fields.Integer(required=True)
    proof = fields.List(fields.String(), required=True, metadata={"description": "RFC 9162 §2.1.4, hex"})
    old_checkpoint = fields.Nested(CheckpointSchema, allow_none=True, metadata={
        "description": "the ledger's own checkpoint of the old size, if it signed one"})
    checkpoint = fields.Nested(CheckpointSchema, required=True)
