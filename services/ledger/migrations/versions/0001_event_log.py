"""The event log, its head and inbox record, the publication mark and the first projections.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigKey = sa.BigInteger().with_variant(sa.Integer, "sqlite")
GENESIS = "0" * 64

PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION zeroclear_events_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the event log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION zeroclear_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION zeroclear_events_append_only();
"""
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END",
]


def upgrade():
    _event_log()
    _log_head()
    _inbox_messages()
    _publication()
    _years()
    _reports()
    _items()
    _append_only()


def _event_log():
    op.create_table(
        "events",
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
    )
    op.create_index("ix_events_region_seq", "events", ["region", "seq"])
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])


def _log_head():
    head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.String(27), nullable=False, server_default=""),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS, "recorded_at": ""}])


def _inbox_messages():
    op.create_table(
        "inbox_messages",
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )


def _publication():
    publication = op.create_table(
        "publication",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("published_seq", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(publication, [{"id": 1, "published_seq": 0}])


def _years():
    op.create_table(
        "years",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("report_due", sa.String(10), nullable=False),
        sa.Column("deadline", sa.String(27), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("opened_seq", sa.BigInteger, nullable=False),
    )


def _reports():
    op.create_table(
        "reports",
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
    )


def _items():
    op.create_table(
        "items",
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
    )
    op.create_index("ix_items_region_year", "items", ["region", "year"])


def _append_only():
    """The event table refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) by trigger."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade():
    for table in ("items", "reports", "years", "publication", "inbox_messages", "log_head", "events"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zeroclear_events_append_only()")
