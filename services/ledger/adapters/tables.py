"""The ledger's tables. ``events`` is append-only (on PostgreSQL a trigger refuses UPDATE and
DELETE); the payload is kept as its canonical JSON text, exactly the bytes that were hashed."""
import sqlalchemy as sa

from shared.db import BigKey

metadata = sa.MetaData()


def versioned(name: str, key: tuple[str, ...], *columns, live_indexes: dict[str, tuple[str, ...]] = {}) -> sa.Table:
    """A projection's table, every version of every row kept: ``valid_from`` is the seq of the
    event that made the version, ``valid_to`` the seq of the one that replaced it (NULL while it
    is live). The live rows are the projection now; the rows valid at P are the projection as of
    P — read by index, without a replay. Each index over live rows is partial (``valid_to IS NULL``)."""
    table = sa.Table(name, metadata, *columns,
                     sa.Column("valid_from", sa.BigInteger, nullable=False),
                     sa.Column("valid_to", sa.BigInteger),
                     sa.PrimaryKeyConstraint(*key, "valid_from", name=f"pk_{name}"))
    live = table.c.valid_to.is_(None)
    sa.Index(f"ux_{name}_live", *(table.c[c] for c in key), unique=True, postgresql_where=live, sqlite_where=live)
    for index_name, indexed in live_indexes.items():
        sa.Index(f"ix_{name}_{index_name}", *(table.c[c] for c in indexed), postgresql_where=live, sqlite_where=live)
    return table

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
    sa.Index("ix_events_causation_id", "causation_id"),  # what an event caused (the auditors' browser)
    sa.Index("ix_events_correlation_id", "correlation_id"),
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

years = versioned(
    "years", ("year",),
    sa.Column("year", sa.Integer, nullable=False, autoincrement=False),
    sa.Column("report_due", sa.String(10), nullable=False),
    sa.Column("deadline", sa.String(27), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("regions", sa.JSON, nullable=False),
    sa.Column("opened_seq", sa.BigInteger, nullable=False),
    sa.Column("published_seq", sa.BigInteger),
    sa.Column("published_digest", sa.String(64)),
)

reports = versioned(
    "reports", ("region", "year"),
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
    live_indexes={"year": ("year", "region")},
)

items = versioned(
    "items", ("item_id",),
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
    live_indexes={"region": ("region", "item_id"), "year": ("year", "item_id"), "industry": ("industry", "item_id"),
                  "status": ("status", "item_id"), "uscc": ("uscc", "region", "year")},
)
# as of a position: each region's versions in item order, then any item's versions in order
sa.Index("ix_items_region_versions", items.c.region, items.c.item_id, items.c.valid_from)
# as of a position: a year's versions (the dashboard's counts of a past year; migration 0009)
sa.Index("ix_items_year_versions", items.c.year, items.c.valid_from)
#: The live items not yet eliminated (overdue once their planned date passes), as one condition
#: with its values written out: a query repeats it word for word so that PostgreSQL (even from a
#: prepared statement) and SQLite can tell that the partial index below serves it.
ITEMS_OPEN = items.c.status.in_([sa.literal_column("'registered'"), sa.literal_column("'scheduled'")])
# the overdue items a page at a time in item order, their planned dates in the index (migration 0010)
sa.Index("ix_items_open_live", items.c.item_id, items.c.planned_date,
         postgresql_where=items.c.valid_to.is_(None) & ITEMS_OPEN, sqlite_where=items.c.valid_to.is_(None) & ITEMS_OPEN)

tips = versioned(
    "tips", ("tip_id",),
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
    live_indexes={"region": ("region", "seq"), "status": ("status", "seq"), "seq": ("seq",)},
)
sa.Index("ix_tips_versions", tips.c.seq, tips.c.valid_from)
sa.Index("ix_tips_region_versions", tips.c.region, tips.c.seq, tips.c.valid_from)
sa.Index("ix_tips_status_versions", tips.c.status, tips.c.valid_from)  # the open ones as of a position (0009)
#: The live tips that are late or may become so (resolved late, or still open), written out as
#: ITEMS_OPEN is, for the partial index of ``status=late`` in log order (migration 0010).
TIPS_LATE_OR_OPEN = tips.c.late.is_(sa.true()) | (tips.c.status == sa.literal_column("'open'"))
sa.Index("ix_tips_late_or_open_live", tips.c.seq, postgresql_where=tips.c.valid_to.is_(None) & TIPS_LATE_OR_OPEN,
         sqlite_where=tips.c.valid_to.is_(None) & TIPS_LATE_OR_OPEN)

listings = versioned(
    "listings", ("listing_id",),
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
    live_indexes={"region_year": ("region", "year", "seq"), "seq": ("seq",), "department": ("department", "seq")},
)

resurgences = versioned(
    "resurgences", ("resurgence_id",),
    sa.Column("resurgence_id", sa.String(40), nullable=False),
    sa.Column("source", sa.String(8), nullable=False),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("region", sa.String(6), nullable=False),
    sa.Column("enterprise", sa.Text, nullable=False),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("item_ids", sa.JSON, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("occurred_at", sa.String(27), nullable=False),
    live_indexes={"region": ("region", "seq"), "seq": ("seq",)},
)

#: Which version of the projections' shape the rows above were written in; when the code's
#: version differs, the projections are rebuilt from the log (they are derived, the log is not).
projection_meta = sa.Table(
    "projection_meta", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

#: Snapshots: the digest of the projections as they stood at a position (``snapshots.py``).
state_snapshots = sa.Table(
    "state_snapshots", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("taken_at", sa.String(27), nullable=False),
)

#: The Merkle tree over the log (domain/merkle.py): each perfect subtree once, by (level, index);
#: level 0 holds the leaves (index = seq - 1). Written in the same transaction as the events.
merkle_nodes = sa.Table(
    "merkle_nodes", metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
    # level 4 only: the 16 leaf hashes under the node, side by side (an inclusion proof reads its
    # leaf's siblings from here in the same query as the rest of its path; NULL where written
    # before revision 0007: those are hashed from the events)
    sa.Column("leaves", sa.LargeBinary, nullable=True),
)

#: Signed checkpoints (C2SP tlog-checkpoint notes): the tree's size and root at a time, signed
#: with the ledger's key; the projections' state digest at that size when it was taken with it.
checkpoints = sa.Table(
    "checkpoints", metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root", sa.String(64), nullable=False),
    sa.Column("taken_at", sa.String(27), nullable=False),
    sa.Column("key_id", sa.String(8), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("state_digest", sa.String(64)),
)
