"""The assessment service's tables: its copy of the ledger's recorded events (the read model it
scores from, as of any position), the office's submissions it forwards to the ledger (inputs,
publications) with their idempotent answers and outbox, and its place in the ledger's feed."""
import sqlalchemy as sa

from shared.feed import position_table
from shared.idempotency import idempotency_table
from shared.journal import journal_table
from shared.outbox import outbox_table

metadata = sa.MetaData()

ledger_events = journal_table(metadata)

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
    sa.Column("reasons", sa.JSON),
)

idempotency_keys = idempotency_table(metadata, dated=False)  # made before answers were dated

outbox = outbox_table(metadata)
ledger_position = position_table(metadata)
