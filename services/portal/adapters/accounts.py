"""The people and their sessions in the portal's database (SQLite embedded, PostgreSQL in
production). A session is a row keyed by the SHA-256 of the cookie's random token: the token
itself is never stored, and deleting the row ends the session wherever the cookie still is."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.clock import format_instant, parse_instant
from shared.db import write_tx

from ..domain.accounts import User
from .tables import sessions, users

_TIMES = ("last_failure_at", "locked_until")


def _user(row) -> User:
    values = {name: row[name] for name in ("name", "role", "region", "department", "display_name", "failures",
                                           "key_id", "password_hash", "key_sealed")}
    values.update({name: parse_instant(row[name]) if row[name] else None for name in _TIMES})
    return User(disabled=row["disabled_at"] is not None, **values)


def _instant(value: datetime | None) -> str | None:
    return format_instant(value) if value is not None else None


class AccountStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- people --------------------------------------------------------------------------------
    def add(self, user: User, now: datetime) -> bool:
        """False when the name is taken."""
        row = {k: v for k, v in asdict(user).items() if k not in ("disabled", *_TIMES)}
        with write_tx(self.engine) as conn:
            if conn.execute(sa.select(users.c.name).where(users.c.name == user.name)).first():
                return False
            conn.execute(users.insert().values(**row, created_at=format_instant(now)))
        return True

    def get(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
        return _user(row) if row else None

    def list(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name)).mappings().all()
        return [{k: v for k, v in row.items() if k not in ("password_hash", "key_sealed")} for row in rows]

    def record_attempt(self, user: User) -> None:
        """Store the failure count and lock of ``user`` as the sign-in left them."""
        with write_tx(self.engine) as conn:
            conn.execute(users.update().where(users.c.name == user.name).values(
                failures=user.failures, last_failure_at=_instant(user.last_failure_at),
                locked_until=_instant(user.locked_until)))

    def set_password(self, name: str, password_hash: str) -> bool:
        """New password, failures forgotten, lock lifted, every session ended."""
        with write_tx(self.engine) as conn:
            done = conn.execute(users.update().where(users.c.name == name).values(
                password_hash=password_hash, failures=0, last_failure_at=None, locked_until=None)).rowcount
            conn.execute(sessions.delete().where(sessions.c.user_name == name))
        return bool(done)

    def disable(self, name: str, now: datetime) -> bool:
        with write_tx(self.engine) as conn:
            done = conn.execute(users.update().where(users.c.name == name, users.c.disabled_at.is_(None))
                                .values(disabled_at=format_instant(now))).rowcount
            conn.execute(sessions.delete().where(sessions.c.user_name == name))
        return bool(done)

    # -- sessions ------------------------------------------------------------------------------
    def open_session(self, token_hash: str, name: str, now: datetime, expires_at: datetime) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(sessions.insert().values(token_hash=token_hash, user_name=name, created_at=format_instant(now),
                                                  seen_at=format_instant(now), expires_at=format_instant(expires_at)))

    def session(self, token_hash: str) -> tuple[str, datetime, datetime] | None:
        """(user name, last seen, absolute expiry) of a session, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(sessions).where(sessions.c.token_hash == token_hash)).mappings().first()
        if row is None:
            return None
        return row["user_name"], parse_instant(row["seen_at"]), parse_instant(row["expires_at"])

    def touch_session(self, token_hash: str, now: datetime) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(sessions.update().where(sessions.c.token_hash == token_hash).values(seen_at=format_instant(now)))

    def end_session(self, token_hash: str) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))

    def end_sessions_before(self, cut: datetime) -> int:
        """Drop sessions that expired (absolute) before ``cut``: housekeeping, not security."""
        with write_tx(self.engine) as conn:
            return conn.execute(sessions.delete().where(sessions.c.expires_at < format_instant(cut))).rowcount
