"""A key may be issued to a person (a portal user): what that person files is recorded under them.

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
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("person", sa.String(32)))


def downgrade():
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("person")
