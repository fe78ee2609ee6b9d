"""The ledger's tables. ``events`` is append-only (on PostgreSQL a trigger refuses UPDATE and
DELETE); the payload is kept as its canonical JSON text, exactly the bytes that were hashed."""
import sqlalchemy as sa

from shared.db import BigKey

metadata = sa.MetaData()

events = sa.Table(
    "events", metadata,
    sa.Column("seq", BigKey, primary_key=True, autoincrement=False),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("type", sa.String(80), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("stream", sa.String(120), nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("occurred_at", sa.String(27), nullable=False),
    sa.Column("recorded_at", sa.String(27), nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("causation_id", sa.String(64)),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("region", sa.String(6)),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("payload_hash", sa.String(64), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("stream", "stream_version", name="uq_events_stream_version"),
    sa.Index("ix_events_region_seq", "region", "seq"),
    sa.Index("ix_events_recorded_at", "recorded_at"),
)

log_head = sa.Table(
    "log_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("recorded_at", sa.String(27), nullable=False, server_default=""),
)

inbox_messages = sa.Table(
    "inbox_messages", metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

publication = sa.Table(
    "publication", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("published_seq", sa.BigInteger, nullable=False),
)

years = sa.Table(
    "years", metadata,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("report_due", sa.String(10), nullable=False),
    sa.Column("deadline", sa.String(27), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("regions", sa.JSON, nullable=False),
    sa.Column("opened_seq", sa.BigInteger, nullable=False),
    sa.Column("published_seq", sa.BigInteger),
    sa.Column("published_digest", sa.String(64)),
)

reports = sa.Table(
    "reports", metadata,
    sa.Column("region", sa.String(6), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
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
)

items = sa.Table(
    "items", metadata,
    sa.Column("item_id", sa.String(64), primary_key=True),
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
    sa.Index("ix_items_region_year", "region", "year"),
)

tips = sa.Table(
    "tips", metadata,
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
    sa.Index("ix_tips_region", "region"),
)

listings = sa.Table(
    "listings", metadata,
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
    sa.Index("ix_listings_region_year", "region", "year"),
)

resurgences = sa.Table(
    "resurgences", metadata,
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

#: Which version of the projections' shape the rows above were written in; when the code's
#: version differs, the projections are rebuilt from the log (they are derived, the log is not).
projection_meta = sa.Table(
    "projection_meta", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)
