"""The 16 leaf hashes of each level-4 block of the Merkle tree kept with its node, so that an
inclusion proof needs one query and no hashing of events (issue 17). Blocks stored before this
revision keep NULL and are read from the events as before.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("merkle_nodes", sa.Column("leaves", sa.LargeBinary, nullable=True))


def downgrade():
    with op.batch_alter_table("merkle_nodes") as batch:
        batch.drop_column("leaves")
