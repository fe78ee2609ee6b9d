"""Tips as tipsters follow them: the receipt only as a keyed hash, the contact only sealed.

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
        "tips",
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


def downgrade():
    op.drop_table("tips")
