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

#: Circulars issued: the content they were rendered from (its canonical JSON), the documents'
#: hashes recorded on the ledger, and that ledger position. Re-rendering gives the same bytes.
circulars = sa.Table(
    "circulars", metadata,
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

#: Who receives what: an agency's e-mail address or webhook, for the alerts about one region (or,
#: without a region, the office's: escalations) and/or the circulars.
subscriptions = sa.Table(
    "subscriptions", metadata,
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

#: One row per (alert or circular, address): never sent twice. A task on notify's queue sends it;
#: a failure waits (doubling) and retries, the last one dead-letters it until the office re-drives.
deliveries = sa.Table(
    "deliveries", metadata,
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
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
)

outbox = outbox_table(metadata)
ledger_position = position_table(metadata)

#: The public announcement's rows, written from notify's fold as it moves (only the items and tips
#: an event changed), so that a read streams them by index instead of building the whole
#: announcement in memory. ``position`` is the fold's position when the row was written: a row is
#: only ever replaced by one written at a later position (two processes may write the same row).
announced_items = sa.Table(
    "announced_items", metadata,
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
    sa.Index("ix_announced_items_region", "region", "item_id"),
)
announced_tips = sa.Table(
    "announced_tips", metadata,
    sa.Column("tip_id", sa.String(64), primary_key=True),
    sa.Column("region", sa.String(6), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("resolved_seq", sa.BigInteger, nullable=False),
    sa.Column("enterprise", sa.Text, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("resolved_at", sa.String(27), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Index("ix_announced_tips_resolved", "resolved_seq", "tip_id"),
)
#: The position the announcement's rows stand at: the furthest any process has written.
announcement_position = sa.Table(
    "announcement_position", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)
