"""Notify's tables: its copy of the ledger's events (the read model it folds), the alerts it has
issued — each (subject, rule, level) once, ever — with the ledger position that recorded them,
the outbox to the ledger's inbox, and its place in the ledger's feed."""
import sqlalchemy as sa

from shared.feed import position_table
from shared.journal import journal_table
from shared.outbox import outbox_table

metadata = sa.MetaData()

ledger_events = journal_table(metadata)

alerts = sa.Table(
    "alerts", metadata,
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
    sa.Index("ix_alerts_region", "region"),
)

outbox = outbox_table(metadata)
ledger_position = position_table(metadata)
