"""The journal indexed by region and by type, and each region's scored rows (issue 12: the
assessment reads one region's events to score it, instead of folding the whole log in memory).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ledger_events_region_seq", "ledger_events", ["region", "seq"])
    op.create_index("ix_ledger_events_type_seq", "ledger_events", ["type", "seq"])
    op.create_table(
        "scored_rows",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("region", sa.String(6), primary_key=True),
        sa.Column("region_seq", sa.BigInteger, nullable=False),
        sa.Column("calendar_seq", sa.BigInteger, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("log_hash", sa.String(64), nullable=False),
        sa.Column("stored", sa.BigInteger, nullable=False),
        sa.Column("row", sa.Text, nullable=False),
    )


def downgrade():
    op.drop_table("scored_rows")
    op.drop_index("ix_ledger_events_type_seq", "ledger_events")
    op.drop_index("ix_ledger_events_region_seq", "ledger_events")
