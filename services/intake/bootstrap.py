"""Intake's composition root: settings → adapters → handlers. Nothing connects at import."""
from __future__ import annotations

from datetime import timedelta

import os
from dataclasses import dataclass
from pathlib import Path

from shared.broker import Broker
from shared.clock import Clock, business_clock
from shared.config import Settings
from shared.db import make_engine, migrate
from shared.feed import FeedClient, LedgerFollower
from shared.group_commit import GroupCommitter
from shared.idempotency import IdempotencyDesk
from shared.keys import KeyStore, migrate_keys
from shared.outbox import Outbox, OutboxRelay
from shared.reference import Reference, default_reference
from shared.topology import Topology
from shared.metrics import Probes, follower_gauges, outbox_gauges

from .adapters.ledger_proofs import LedgerProofs
from .adapters.repository import SubmissionRepository
from .adapters.tables import idempotency_keys, ledger_position, outbox
from .handlers import IntakeHandlers
from .tip_desk import TipDesk

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_intake"
SECRETS_FILE = "intake-tip-secrets.json"  # in the data folder, outside production


@dataclass
class IntakeService:
    settings: Settings
    repo: SubmissionRepository
    handlers: IntakeHandlers
    relay: OutboxRelay
    follower: LedgerFollower
    broker: Broker
    keys: KeyStore
    reference: Reference
    clock: Clock
    tips: TipDesk
    proofs: LedgerProofs  # a tip's event header and its inclusion proof, for the tipster to check

    def close(self) -> None:
        self.handlers.committer.close()
        self.repo.engine.dispose()


def migrate_intake(settings: Settings) -> None:
    migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None, reference: Reference | None = None,
              keys: KeyStore | None = None, broker: Broker | None = None, run_migrations: bool = True) -> IntakeService:
    settings = settings or Settings.from_env("intake")
    if run_migrations:
        migrate_intake(settings)
        if keys is None:
            migrate_keys(settings.auth_database_url)
    engine = make_engine(settings.database_url, pool_size=max(settings.workers, 5))
    box = Outbox(outbox, max_attempts=settings.outbox_attempts)
    repo = SubmissionRepository(engine, box)
    broker = broker or Broker(settings.broker_url, Topology(settings.topology_prefix))
    relay = OutboxRelay(engine, box, broker, batch_size=settings.batch_size,
                        redeliver_after=timedelta(seconds=settings.outbox_redeliver_seconds))
    clock = clock or business_clock(settings.mode, settings.data_dir)
    handlers = IntakeHandlers(repo, IdempotencyDesk(idempotency_keys), clock, committer=lambda work: GroupCommitter(
        engine, work, on_commit=relay.notify, name="intake-commit"))
    follower = LedgerFollower(engine, ledger_position, repo.apply_ledger_events,
                              FeedClient(settings.ledger_url, settings.service_key), broker=broker,
                              subscriber="intake", batch_size=settings.batch_size, wait_ms=settings.batch_wait_ms)
    production = settings.mode == "production"
    tips = TipDesk(repo, settings.tip_secrets_file or (None if production else settings.data_dir / SECRETS_FILE),
                   os.environ, rate_per_minute=settings.tip_rate_per_minute,
                   burst=max(1, settings.tip_rate_per_minute // 2), production=production)
    return IntakeService(settings, repo, handlers, relay, follower, broker,
                         keys or KeyStore.from_url(settings.auth_database_url), reference or default_reference(), clock,
                         tips, LedgerProofs(settings.ledger_url, settings.service_key))


def probes(service: IntakeService) -> Probes:
    """What intake reports (``/metrics``, readiness): its outbox, its position on the ledger's log."""
    return Probes(outbox_gauges(service.relay.engine, service.relay.outbox) + follower_gauges(service.follower),
                  queues=[service.broker.topology.subscriber_queue("intake")])
