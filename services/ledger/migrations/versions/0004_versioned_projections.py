"""Versioned projections: every version of every projection row is kept, with the seqs between
which it held (``valid_from`` .. ``valid_to``, NULL while live), so a read as of any position is
an index lookup rather than a replay; reads of the live rows use partial indexes.

The projections are derived from the log, so their tables are dropped and made anew empty in
the new shape; the ledger rebuilds them from the log at start-up (the projection version rose).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PROJECTIONS = ("years", "reports", "items", "tips", "listings", "resurgences")


def _versioned(name, key, columns, live_indexes, other_indexes=()):
    op.create_table(name, *columns, sa.Column("valid_from", sa.BigInteger, nullable=False),
                    sa.Column("valid_to", sa.BigInteger),
                    sa.PrimaryKeyConstraint(*key, "valid_from", name=f"pk_{name}"))
    live = sa.text("valid_to IS NULL")
    op.create_index(f"ux_{name}_live", name, list(key), unique=True, postgresql_where=live, sqlite_where=live)
    for index_name, indexed in live_indexes.items():
        op.create_index(f"ix_{name}_{index_name}", name, list(indexed), postgresql_where=live, sqlite_where=live)
    for index_name, indexed in other_indexes:
        op.create_index(index_name, name, list(indexed))


def upgrade():
    for name in PROJECTIONS:
        op.drop_table(name)
    _years()
    _reports()
    _items()
    _tips()
    _listings()
    _resurgences()
    op.execute("UPDATE projection_meta SET version = 0")  # rebuilt from the log at start-up


def _years():
    _versioned("years", ("year",), [
        sa.Column("year", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("report_due", sa.String(10), nullable=False),
        sa.Column("deadline", sa.String(27), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("opened_seq", sa.BigInteger, nullable=False),
        sa.Column("published_seq", sa.BigInteger),
        sa.Column("published_digest", sa.String(64)),
    ], {})


def _reports():
    _versioned("reports", ("region", "year"), [
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("submission_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("filed_at", sa.String(27), nullable=False),
        sa.Column("document_no", sa.Text, nullable=False),
        sa.Column("signed_by", sa.Text, nullable=False),
        sa.Column("zero_report", sa.Boolean, nullable=False),
        sa.Column("on_time", sa.Boolean, nullable=False),
        sa.Column("item_ids", sa.JSON, nullable=False),
        sa.Column("amended_at", sa.String(27)),
        sa.Column("history", sa.JSON, nullable=False),
    ], {"year": ("year", "region")})


def _items():
    _versioned("items", ("item_id",), [
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("report_seq", sa.BigInteger, nullable=False),
        sa.Column("enterprise", sa.Text, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("county", sa.Text, nullable=False),
        sa.Column("industry", sa.String(32), nullable=False),
        sa.Column("equipment", sa.Text, nullable=False),
        sa.Column("equipment_count", sa.Integer, nullable=False),
        sa.Column("capacity", sa.String(24), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("target_source", sa.Text, nullable=False),
        sa.Column("planned_date", sa.String(10), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("workers_affected", sa.Integer, nullable=False),
        sa.Column("remarks", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("tip_id", sa.String(64)),
        sa.Column("eliminated_on", sa.String(10)),
        sa.Column("elimination_method", sa.String(16)),
        sa.Column("evidence", sa.Text),
        sa.Column("workers_resettled", sa.Integer),
        sa.Column("elimination_seq", sa.BigInteger),
        sa.Column("verified_seq", sa.BigInteger),
        sa.Column("rejection_reason", sa.Text),
        sa.Column("event_seqs", sa.JSON, nullable=False),
    ], {"region": ("region", "item_id"), "year": ("year", "item_id"), "industry": ("industry", "item_id"),
        "status": ("status", "item_id"), "uscc": ("uscc", "region", "year")},
        [("ix_items_region_versions", ("region", "item_id", "valid_from"))])


def _tips():
    _versioned("tips", ("tip_id",), [
        sa.Column("tip_id", sa.String(64), nullable=False),
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
    ], {"region": ("region", "seq"), "status": ("status", "seq"), "seq": ("seq",)},
        [("ix_tips_versions", ("seq", "valid_from")), ("ix_tips_region_versions", ("region", "seq", "valid_from"))])


def _listings():
    _versioned("listings", ("listing_id",), [
        sa.Column("listing_id", sa.String(40), nullable=False),
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
    ], {"region_year": ("region", "year", "seq"), "seq": ("seq",), "department": ("department", "seq")})


def _resurgences():
    _versioned("resurgences", ("resurgence_id",), [
        sa.Column("resurgence_id", sa.String(40), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("enterprise", sa.Text, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("item_ids", sa.JSON, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", sa.String(27), nullable=False),
    ], {"region": ("region", "seq"), "seq": ("seq",)})


def downgrade():
    raise RuntimeError("the versioned projections cannot be turned back: restore a backup, or rebuild")
