"""Projections of the whole campaign: amendments, eliminations and verification on items, tips,
department lists and resurgences, and the projections' version mark.

The new columns get defaults so existing rows stay valid; the ledger then rebuilds every
projection from the log at start-up (``LedgerRepository.ensure_projections``), since the
projection version these rows were written in is older than the code's.

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
    _amendment_and_elimination_columns()
    _tips()
    _listings()
    _resurgences()
    _projection_meta()


def _amendment_and_elimination_columns():
    """Reports keep their amendments, items their source, elimination and verification; the
    defaults keep existing rows valid."""
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("amended_at", sa.String(27)))
        batch.add_column(sa.Column("history", sa.JSON, nullable=False, server_default="[]"))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("source", sa.String(8), nullable=False, server_default="report"))
        batch.add_column(sa.Column("tip_id", sa.String(64)))
        batch.add_column(sa.Column("eliminated_on", sa.String(10)))
        batch.add_column(sa.Column("elimination_method", sa.String(16)))
        batch.add_column(sa.Column("evidence", sa.Text))
        batch.add_column(sa.Column("workers_resettled", sa.Integer))
        batch.add_column(sa.Column("elimination_seq", sa.BigInteger))
        batch.add_column(sa.Column("verified_seq", sa.BigInteger))
        batch.add_column(sa.Column("rejection_reason", sa.Text))
        batch.add_column(sa.Column("event_seqs", sa.JSON, nullable=False, server_default="[]"))


def _tips():
    op.create_table(
        "tips",
        sa.Column("tip_id", sa.String(64), primary_key=True),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("enterprise", sa.Text, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("filed_at", sa.String(27), nullable=False),
        sa.Column("due_at", sa.String(27), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("explanation", sa.Text),
        sa.Column("duplicate_of", sa.String(64)),
        sa.Column("resolved_seq", sa.BigInteger),
        sa.Column("resolved_at", sa.String(27)),
        sa.Column("late", sa.Boolean),
        sa.Column("revealed", sa.String(16)),
        sa.Column("item_id", sa.String(64)),
    )
    op.create_index("ix_tips_region", "tips", ["region"])


def _listings():
    op.create_table(
        "listings",
        sa.Column("listing_id", sa.String(40), primary_key=True),
        sa.Column("department", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("enterprise", sa.Text, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("industry", sa.String(32), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("submission_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_listings_region_year", "listings", ["region", "year"])


def _resurgences():
    op.create_table(
        "resurgences",
        sa.Column("resurgence_id", sa.String(40), primary_key=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("enterprise", sa.Text, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("item_ids", sa.JSON, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", sa.String(27), nullable=False),
    )


def _projection_meta():
    op.create_table(
        "projection_meta",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.bulk_insert(sa.table("projection_meta", sa.column("id"), sa.column("version")), [{"id": 1, "version": 1}])


def downgrade():
    for table in ("projection_meta", "resurgences", "listings", "tips"):
        op.drop_table(table)
    with op.batch_alter_table("items") as batch:
        for name in ("event_seqs", "rejection_reason", "verified_seq", "elimination_seq", "workers_resettled",
                     "evidence", "elimination_method", "eliminated_on", "tip_id", "source"):
            batch.drop_column(name)
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("history")
        batch.drop_column("amended_at")
