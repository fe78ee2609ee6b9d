"""The assessment's read model (its copy of the ledger's events), its submissions and outbox.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from shared.feed import position_columns
from shared.journal import journal_columns
from shared.outbox import outbox_columns, outbox_indexes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("ledger_events", *journal_columns())
    op.create_table(
        "submissions",
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
    op.create_table(
        "idempotency_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table("outbox", *outbox_columns())
    for name, columns in outbox_indexes("outbox"):
        op.create_index(name, "outbox", columns)
    op.create_table("ledger_position", *position_columns())


def downgrade():
    for table in ("ledger_position", "outbox", "idempotency_keys", "submissions", "ledger_events"):
        op.drop_table(table)
