"""The ledger's composition root: settings → adapters → handlers. Nothing connects at import."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from shared.broker import Broker
from shared.clock import Clock, business_clock
from shared.config import Settings
from shared.db import is_transient_db_error, make_engine, migrate
from shared.keys import KeyStore, migrate_keys
from shared.reference import Reference, default_reference
from shared.topology import Topology
from shared.metrics import Gauge, Probes

from .adapters.publisher import EventPublisher
from .checkpoints import SigningKey, signing_key
from .adapters.repository import LedgerRepository
from .handlers import LedgerWriter

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_ledger"


@dataclass
class LedgerService:
    settings: Settings
    repo: LedgerRepository
    writer: LedgerWriter
    publisher: EventPublisher
    broker: Broker
    keys: KeyStore
    reference: Reference
    clock: Clock
    signing_key: SigningKey | None = None  # signs the checkpoints (None: production without a key file)

    def open_current_year(self) -> None:
        year = self.reference.calendar.business_date(self.clock.now()).year
        if year >= self.reference.calendar.first_year:
            self.writer.open_year(year)

    def close(self) -> None:
        self.repo.engine.dispose()


def migrate_ledger(settings: Settings) -> None:
    """Bring the schema up to date, then the projections: rebuilt from the log if their shape changed."""
    migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        repo = LedgerRepository(engine)
        repo.ensure_projections()
        repo.ensure_tree()
        insert_only(engine, "events")
    finally:
        engine.dispose()


def insert_only(engine, table: str) -> None:
    """On PostgreSQL, when run by the table's owner: no other role keeps UPDATE, DELETE or TRUNCATE
    on ``table`` (a role the deployment lets write every table, as the ledger's runtime role, may
    then only append to the log); dropping its trigger needs the owner anyway."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        owner, me = conn.execute(sa.text("SELECT tableowner, current_user FROM pg_tables "
                                         "WHERE schemaname = current_schema() AND tablename = :t"), {"t": table}).one()
        if owner != me:
            return
        grantees = conn.execute(sa.text(
            "SELECT DISTINCT grantee FROM information_schema.role_table_grants WHERE table_schema = current_schema() "
            "AND table_name = :t AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND grantee <> :owner"),
            {"t": table, "owner": owner}).scalars().all()
        quote = conn.dialect.identifier_preparer.quote
        for grantee in grantees:
            who = "PUBLIC" if grantee == "PUBLIC" else quote(grantee)
            conn.execute(sa.text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(table)} FROM {who}"))


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None, reference: Reference | None = None,
              keys: KeyStore | None = None, broker: Broker | None = None, run_migrations: bool = True) -> LedgerService:
    settings = settings or Settings.from_env("ledger")
    if run_migrations:
        migrate_ledger(settings)
        if keys is None:
            migrate_keys(settings.auth_database_url)
    repo = LedgerRepository(make_engine(settings.database_url, pool_size=max(settings.workers, 5)))
    broker = broker or Broker(settings.broker_url, Topology(settings.topology_prefix))
    publisher = EventPublisher(repo, broker, batch_size=settings.batch_size)
    reference = reference or default_reference()
    clock = clock or business_clock(settings.mode, settings.data_dir)
    writer = LedgerWriter(repo, reference, clock, on_commit=publisher.committed, is_transient=is_transient_db_error,
                          senders=settings.inbox_senders)
    key = signing_key(settings.signing_key_file, settings.data_dir, settings.mode == "production")
    return LedgerService(settings, repo, writer, publisher, broker, keys or KeyStore.from_url(settings.auth_database_url),
                         reference, clock, key)


def probes(service: LedgerService) -> Probes:
    """What the ledger reports (``/metrics``, readiness): its head, and its inbox's depth (workers)."""
    def published() -> int:
        with service.repo.engine.connect() as conn:
            return service.repo.published_seq(conn)

    return Probes([Gauge("zeroclear_ledger_head_seq", "The last seq on the log", lambda: service.repo.head()[0]),
                   Gauge("zeroclear_ledger_published_seq", "The last seq published to the ledger exchange", published)],
                  queues=[service.broker.topology.inbox_queue])
