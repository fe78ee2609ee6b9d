"""Intake's tables: submissions and their status, idempotent answers, the outbox, the ledger position."""
import sqlalchemy as sa

from shared.feed import position_table
from shared.idempotency import idempotency_table
from shared.outbox import outbox_table

metadata = sa.MetaData()

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("submission_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("region", sa.String(6)),
    sa.Column("year", sa.Integer),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("submitted_at", sa.String(27), nullable=False),
    sa.Column("decided_at", sa.String(27)),
    sa.Column("seq", sa.BigInteger),
    sa.Column("hash", sa.String(64)),
    sa.Column("stream", sa.String(120)),
    sa.Column("reasons", sa.JSON),
)

idempotency_keys = idempotency_table(metadata)

#: Tips as the tipster follows them: the receipt only as a keyed hash, the contact only sealed.
tips = sa.Table(
    "tips", metadata,
    sa.Column("tip_id", sa.String(36), primary_key=True),
    sa.Column("receipt_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("contact", sa.Text),
    sa.Column("region", sa.String(6), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger),
    sa.Column("hash", sa.String(64)),
    sa.Column("recorded_at", sa.String(27)),
    sa.Column("explanation", sa.Text),
    sa.Column("resolved_at", sa.String(27)),
)

outbox = outbox_table(metadata)
ledger_position = position_table(metadata)
