"""Indexes on the items' versions by year and the tips' versions by status: the office's dashboard
as of a past position counts a year's overdue items and the open tips per region
(``/v1/items/counts?year=&as_of=``, ``/v1/tips/counts?status=open&as_of=``), and the live indexes
are partial (live rows only), so without these each count scanned every version of the table.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_items_year_versions", "items", ["year", "valid_from"])
    op.create_index("ix_tips_status_versions", "tips", ["status", "valid_from"])


def downgrade():
    op.drop_index("ix_tips_status_versions", "tips")
    op.drop_index("ix_items_year_versions", "items")
