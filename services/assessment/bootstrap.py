"""The assessment service's composition root: settings → adapters → read model. Nothing connects
at import; the follower and the outbox relay run in its worker (entrypoints/worker.py)."""
from __future__ import annotations

from datetime import timedelta

import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Mapping

from shared.broker import Broker
from shared.clock import Clock, business_clock
from shared.config import Settings, SettingsError
from shared.db import SoleHolder, make_engine, migrate
from shared.feed import FeedClient, LedgerFollower
from shared.background import BackgroundLoop
from shared.witness import LedgerWitness
from shared.keys import KeyStore, migrate_keys
from shared.outbox import Outbox, OutboxRelay
from shared.reference import Reference, default_reference
from shared.topology import Topology
from shared.metrics import Probes, follower_gauges, outbox_gauges

from .adapters.regional import RegionalScores
from .adapters.repository import AssessmentRepository
from .adapters.tables import ledger_position, outbox
from .domain.scoring import DEFAULT_WEIGHTS
from .handlers import AssessmentHandlers

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_assessment"
WEIGHTS_VARIABLE = "ZEROCLEAR_ASSESSMENT_WEIGHTS"
#: The keeper's thread yields to everything else: at a national campaign's filing rate its passes
#: (tens of milliseconds per region an event moved) would otherwise take a core from filing.
KEEPER_NICE = 19


@dataclass
class Service:
    settings: Settings
    repo: AssessmentRepository
    scores: RegionalScores  # each region's row, scored from its own events and kept, at any position
    relay: OutboxRelay
    follower: LedgerFollower
    broker: Broker
    keys: KeyStore
    reference: Reference
    clock: Clock
    witness: LedgerWitness | None = None  # the ledger's signed checkpoint a publication carries
    handlers: AssessmentHandlers | None = None  # the use cases (filled in by bootstrap)
    on_close: list[Callable[[], None]] = field(default_factory=list)  # what the HTTP app ends with it

    def close(self) -> None:
        for end in self.on_close:
            end()
        self.repo.engine.dispose()
        self.keys.engine.dispose()


def migrate_assessment(settings: Settings) -> None:
    migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def weights_from(env: Mapping[str, str]) -> tuple[Decimal, ...]:
    """The five criteria's weights (SPEC §6, default 0.2 each), e.g. "0.3,0.1,0.1,0.2,0.3"."""
    text = env.get(WEIGHTS_VARIABLE)
    if not text:
        return DEFAULT_WEIGHTS
    try:
        weights = tuple(Decimal(part.strip()) for part in text.split(","))
    except InvalidOperation:
        raise SettingsError(f"{WEIGHTS_VARIABLE}: five decimals separated by commas, e.g. 0.2,0.2,0.2,0.2,0.2") from None
    if len(weights) != 5 or any(not w.is_finite() or w < 0 for w in weights) or sum(weights) != 1:
        raise SettingsError(f"{WEIGHTS_VARIABLE}: five weights, none negative, summing to 1 (got {text!r})")
    return weights


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None, reference: Reference | None = None,
              keys: KeyStore | None = None, broker: Broker | None = None, run_migrations: bool = True,
              env: Mapping[str, str] | None = None) -> Service:
    settings = settings or Settings.from_env("assessment")
    if run_migrations:
        migrate_assessment(settings)
        if keys is None:
            migrate_keys(settings.auth_database_url)
    engine = make_engine(settings.database_url, pool_size=max(settings.workers, 5))
    box = Outbox(outbox, max_attempts=settings.outbox_attempts)
    repo = AssessmentRepository(engine, box)
    broker = broker or Broker(settings.broker_url, Topology(settings.topology_prefix))
    relay = OutboxRelay(engine, box, broker, batch_size=settings.batch_size,
                        redeliver_after=timedelta(seconds=settings.outbox_redeliver_seconds))
    follower = LedgerFollower(engine, ledger_position, repo.apply_ledger_events,
                              FeedClient(settings.ledger_url, settings.service_key), broker=broker,
                              subscriber="assessment", batch_size=settings.batch_size, wait_ms=settings.batch_wait_ms)
    clock = clock or business_clock(settings.mode, settings.data_dir)
    witness = LedgerWitness(settings.ledger_url, settings.service_key)
    reference = reference or default_reference()
    weights = weights_from(os.environ if env is None else env)
    scores = RegionalScores(repo.journal, weights=weights, names={code: r.name for code, r in reference.regions.items()})
    return Service(settings, repo, scores, relay, follower, broker, keys or KeyStore.from_url(settings.auth_database_url),
                   reference, clock, witness, AssessmentHandlers(repo, clock, witness))


def keep_scored(service: Service) -> BackgroundLoop:
    """Keeps every opened year's rows (as of its default cut-off) scored in the process that serves
    the reads, as the journal grows: a reader finds them made, not the whole campaign to score
    (minutes at a national campaign's size after an upgrade, seconds for what a poll brought). On
    PostgreSQL one API process of the service keeps them (they are the same for all), the others
    take over if it goes."""
    kept = {"at": -1}

    def step() -> int:
        head = service.repo.journal.head()
        if head == kept["at"]:
            return 0
        service.scores.keep_years(service.reference.calendar, head)
        kept["at"] = head
        return 1
    return BackgroundLoop("assessment-keep-scored", poll_seconds=1.0, step=step, nice=KEEPER_NICE,
                          holder=SoleHolder(service.repo.engine, "zeroclear.assessment.keeper"))


def probes(service: Service) -> Probes:
    """What the assessment reports (``/metrics``, readiness): its outbox, its position on the log."""
    return Probes(outbox_gauges(service.relay.engine, service.relay.outbox) + follower_gauges(service.follower),
                  queues=[service.broker.topology.subscriber_queue("assessment")])
