"""Snapshots of the projections: their digest at positions along the log (services/ledger/snapshots.py).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "state_snapshots",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("taken_at", sa.String(27), nullable=False),
    )


def downgrade():
    op.drop_table("state_snapshots")
