"""The public announcement's rows, kept by index (issue 12): items, resolved tips, their position.

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
    op.create_table(
        "announced_items",
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("county", sa.Text, nullable=False),
        sa.Column("enterprise", sa.Text, nullable=False),
        sa.Column("industry", sa.Text, nullable=False),
        sa.Column("equipment", sa.Text, nullable=False),
        sa.Column("equipment_count", sa.Integer, nullable=False),
        sa.Column("capacity", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("planned_date", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_announced_items_region", "announced_items", ["region", "item_id"])
    op.create_table(
        "announced_tips",
        sa.Column("tip_id", sa.String(64), primary_key=True),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("resolved_seq", sa.BigInteger, nullable=False),
        sa.Column("enterprise", sa.Text, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("resolved_at", sa.String(27), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_announced_tips_resolved", "announced_tips", ["resolved_seq", "tip_id"])
    op.create_table(
        "announcement_position",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )


def downgrade():
    op.drop_table("announcement_position")
    op.drop_table("announced_tips")
    op.drop_table("announced_items")
