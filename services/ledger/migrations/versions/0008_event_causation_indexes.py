"""Indexes on the events' causation and correlation ids: an event's page in the auditors' browser
asks which events it caused and which share its correlation (``/v1/audit/events?caused_by=`` and
``?correlation=``), and without them each question scanned the whole log.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_events_causation_id", "events", ["causation_id"])
    op.create_index("ix_events_correlation_id", "events", ["correlation_id"])


def downgrade():
    op.drop_index("ix_events_correlation_id", "events")
    op.drop_index("ix_events_causation_id", "events")
