"""The assessment service's tables: its copy of the ledger's recorded events (indexed by region,
which is all one region's scores read, and by type), each region's scored rows kept by what they
were made from, the office's submissions it forwards to the ledger (inputs, publications) with
their idempotent answers and outbox, and its place in the ledger's feed."""
import sqlalchemy as sa

from shared.feed import position_table
from shared.idempotency import idempotency_table
from shared.journal import journal_table
from shared.outbox import outbox_table

metadata = sa.MetaData()

ledger_events = journal_table(metadata)
sa.Index("ix_ledger_events_region_seq", ledger_events.c.region, ledger_events.c.seq)
sa.Index("ix_ledger_events_type_seq", ledger_events.c.type, ledger_events.c.seq)

#: One region's row of a year's scores (and its totals for the province's summary), by ``key``
#: (year, cut-off, weights, time zone), with what it was made from: the position of the region's
#: last event and of the calendar's, the region's name and the log's hash at the later of the two
#: positions. A row is good for any position where those are the same; otherwise the region is
#: scored again (``adapters/regional.py``).
scored_rows = sa.Table(
    "scored_rows", metadata,
    sa.Column("key", sa.String(160), primary_key=True),
    sa.Column("region", sa.String(6), primary_key=True),
    sa.Column("region_seq", sa.BigInteger, nullable=False),
    sa.Column("calendar_seq", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("log_hash", sa.String(64), nullable=False),
    sa.Column("stored", sa.BigInteger, nullable=False),  # when (ns): the keys stored last are kept
    sa.Column("row", sa.Text, nullable=False),
)

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("submission_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("region", sa.String(6)),
    sa.Column("year", sa.Integer),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("submitted_at", sa.String(27), nullable=False),
    sa.Column("decided_at", sa.String(27)),
    sa.Column("seq", sa.BigInteger),
    sa.Column("hash", sa.String(64)),
    sa.Column("reasons", sa.JSON),
)

idempotency_keys = idempotency_table(metadata, dated=False)  # made before answers were dated

outbox = outbox_table(metadata)
ledger_position = position_table(metadata)
