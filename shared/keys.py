"""API keys: created by an operator, shown once, stored only as a SHA-256 hash.

The key store is the platform's identity service (an API gateway or IdP would hold it in a
larger deployment): every service reads it to authenticate a request, only the CLI writes it.
Keys carry 256 bits of randomness, so an unsalted fast hash is safe to store and to look up by.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .clock import Clock, SystemClock, format_instant
from .db import make_engine, migrate

ROLES = ("region", "department", "office", "auditor", "service")
DEPARTMENTS = {
    "industry": "工信",
    "environment": "环保",
    "development": "发改",
    "quality": "质监",
    "safety": "安监",
}
metadata = sa.MetaData()
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("region", sa.String(6)),
    sa.Column("department", sa.String(16)),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("revoked_at", sa.String(32)),
    sa.Column("person", sa.String(32)),
)
#: A person's user name, as it may stand in an actor (``.../user:<name>``) and a column of 32.
PERSON = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


class KeyRequestError(ValueError):
    """A key request that cannot be honoured; the message says why."""


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    region: str | None = None
    department: str | None = None
    person: str | None = None  # the person the key was issued to (a portal user), if any

    @property
    def actor(self) -> str:
        """Who acts, as the ledger records it: ``role[/region or department]/key[/user:person]``."""
        scope = self.region or self.department
        actor = f"{self.role}/{scope}/{self.key_id}" if scope else f"{self.role}/{self.key_id}"
        return f"{actor}/user:{self.person}" if self.person else actor

    def can_read_region(self, region: str | None) -> bool:
        if self.role in ("office", "auditor", "service"):
            return True
        return self.role == "region" and region is not None and region == self.region


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


#: How long a process may go on trusting a key it looked up: a revocation (by any process, the
#: command line included) takes effect everywhere within this bound.
REVOCATION_BOUND_SECONDS = 1.0


class KeyStore:
    """Keys looked up are kept for ``cache_seconds`` (at most ``REVOCATION_BOUND_SECONDS``): one
    lookup a second per key instead of one per request."""

    def __init__(self, engine: Engine, clock: Clock | None = None, cache_seconds: float = REVOCATION_BOUND_SECONDS,
                 ticks=time.monotonic):
        self.engine = engine
        self.clock = clock or SystemClock()
        self.cache_seconds = min(cache_seconds, REVOCATION_BOUND_SECONDS)
        self._ticks = ticks
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs) -> "KeyStore":
        """Six connections kept and no more: with one key per region a lookup is a query per
        request (a key is trusted for a second), and a pool of two that could overflow to six made
        and dropped a PostgreSQL connection (a server process) for most of an HTTP worker's 32
        threads under load; a thread now waits a moment for a free one instead."""
        return cls(make_engine(url, pool_size=6, max_overflow=0), **kwargs)

    def create(self, role: str, *, region: str | None = None, department: str | None = None,
               label: str = "", valid_regions: set[str] | None = None, person: str | None = None) -> tuple[str, Principal]:
        """Make a key (issued to ``person``, if given); returns the clear key (show it once) and who it stands for."""
        self._check(role, region, department, valid_regions)
        if person is not None and not PERSON.match(person):
            raise KeyRequestError("a person's name: 1 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
        key_id = "k" + secrets.token_hex(6)
        key = f"zc_{key_id}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(
                key_id=key_id, key_hash=hash_key(key), role=role, region=region, department=department,
                label=label, created_at=format_instant(self.clock.now()), person=person,
            ))
        return key, Principal(key_id, role, region, department, person)

    @staticmethod
    def _check(role, region, department, valid_regions) -> None:
        if role not in ROLES:
            raise KeyRequestError(f"role must be one of {', '.join(ROLES)}")
        if role == "region":
            if not region:
                raise KeyRequestError("a region key needs --region CODE")
            if valid_regions is not None and region not in valid_regions:
                raise KeyRequestError(f"unknown region code {region!r}")
        elif region:
            raise KeyRequestError("only a region key takes --region")
        if role == "department":
            if department not in DEPARTMENTS:
                raise KeyRequestError(f"a department key needs --department, one of {', '.join(DEPARTMENTS)}")
        elif department:
            raise KeyRequestError("only a department key takes --department")

    def import_key(self, key: str, role: str, *, label: str = "") -> bool:
        """Register a key generated elsewhere (a deployment secret); False if it is known already."""
        self._check(role, None, None, None)
        if self.authenticate(key) is not None:
            return False
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(
                key_id="k" + secrets.token_hex(6), key_hash=hash_key(key), role=role, label=label,
                created_at=format_instant(self.clock.now())))
        return True

    def revoke(self, key_id: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                api_keys.update().where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=format_instant(self.clock.now()))
            ).rowcount
        with self._lock:
            self._cache.clear()
        return bool(done)

    def authenticate(self, key: str) -> Principal | None:
        digest = hash_key(key)
        now = self._ticks()
        with self._lock:
            hit = self._cache.get(digest)
        if hit and now - hit[0] < self.cache_seconds:
            return hit[1]
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(api_keys).where(api_keys.c.key_hash == digest, api_keys.c.revoked_at.is_(None))
            ).first()
        if row is None:
            return None
        principal = Principal(row.key_id, row.role, row.region, row.department, row.person)
        with self._lock:
            self._cache[digest] = (now, principal)
        return principal

    def list(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).mappings().all()
        return [{k: v for k, v in row.items() if k != "key_hash"} for row in rows]


def migrate_keys(url: str) -> None:
    migrate(url, Path(__file__).with_name("keys_migrations"), "alembic_version_keys")

