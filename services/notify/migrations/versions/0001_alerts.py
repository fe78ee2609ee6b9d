"""Notify's copy of the ledger's events, its alerts (each once, ever), circulars, outbox and feed position.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from shared.feed import position_columns
from shared.journal import journal_columns
from shared.outbox import outbox_columns, outbox_indexes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("ledger_events", *journal_columns())
    _alerts()
    _circulars()
    _subscriptions()
    _deliveries()
    op.create_table("outbox", *outbox_columns())
    for name, columns in outbox_indexes("outbox"):
        op.create_index(name, "outbox", columns)
    op.create_table("ledger_position", *position_columns())


def _alerts():
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("recipient", sa.String(16), nullable=False),
        sa.Column("deadline", sa.String(27), nullable=False),
        sa.Column("late_days", sa.Integer, nullable=False),
        sa.Column("case", sa.Text, nullable=False),
        sa.Column("issued_at", sa.String(27), nullable=False),
        sa.Column("seq", sa.BigInteger),
        sa.UniqueConstraint("subject", "rule", "level", name="uq_alerts_once"),
    )
    op.create_index("ix_alerts_region", "alerts", ["region"])


def _circulars():
    op.create_table(
        "circulars",
        sa.Column("circular_id", sa.String(40), primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("issued_at", sa.String(27), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("json_sha256", sa.String(64), nullable=False),
        sa.Column("html_sha256", sa.String(64), nullable=False),
        sa.Column("pdf_sha256", sa.String(64)),
        sa.Column("seq", sa.BigInteger),
        sa.UniqueConstraint("year", "number", name="uq_circulars_number"),
    )


def _subscriptions():
    op.create_table(
        "subscriptions",
        sa.Column("subscription_id", sa.String(36), primary_key=True),
        sa.Column("agency", sa.Text, nullable=False),
        sa.Column("region", sa.String(6)),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(64)),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )


def _deliveries():
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("ref_id", sa.String(40), nullable=False),
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", sa.String(27), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("sent_at", sa.String(27)),
        sa.UniqueConstraint("kind", "ref_id", "address", name="uq_deliveries_once"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])


def downgrade():
    for table in ("ledger_position", "outbox", "deliveries", "subscriptions", "circulars", "alerts", "ledger_events"):
        op.drop_table(table)
