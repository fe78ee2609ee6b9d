"""The year's official assessment publication (its seq and digest) on the year's row, so that the
ledger can judge a second publication: a correction must name the one it replaces.

The ledger rebuilds its projections from the log at start-up (the projection version rose).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("years") as batch:
        batch.add_column(sa.Column("published_seq", sa.BigInteger))
        batch.add_column(sa.Column("published_digest", sa.String(64)))


def downgrade():
    with op.batch_alter_table("years") as batch:
        batch.drop_column("published_digest")
        batch.drop_column("published_seq")
