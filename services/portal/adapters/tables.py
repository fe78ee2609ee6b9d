"""The portal's own tables: the people who sign in, and their sessions (server-side rows)."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("region", sa.String(6)),
    sa.Column("department", sa.String(16)),
    sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("key_sealed", sa.Text, nullable=False),  # the person's API key, Fernet-encrypted
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("disabled_at", sa.String(32)),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_failure_at", sa.String(32)),
    sa.Column("locked_until", sa.String(32)),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # SHA-256 of the cookie's token
    sa.Column("user_name", sa.String(32), sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("seen_at", sa.String(32), nullable=False),
    sa.Column("expires_at", sa.String(32), nullable=False),
)
