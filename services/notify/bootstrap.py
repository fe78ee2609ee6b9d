"""The notify service's composition root: settings → adapters → the folded campaign → the alert
scheduler. Nothing connects at import; the follower, the relay and the scheduler run in its worker."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.background import BackgroundLoop
from shared.broker import Broker
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.db import make_engine, migrate
from shared.envelope import new_envelope, new_id
from shared.feed import FeedClient, LedgerFollower
from shared.journal import FoldedView
from shared.keys import KeyStore, migrate_keys
from shared.outbox import Outbox, OutboxRelay
from shared.reference import Reference, default_reference
from shared.topology import Topology

from .adapters.repository import ALERT_ISSUED, NotifyRepository
from .adapters.tables import ledger_position, outbox
from .domain.alerts import Alert, due_alerts
from .domain.campaign import NotifyState

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_notify"
ACTOR = "system/notify"


@dataclass
class Service:
    settings: Settings
    repo: NotifyRepository
    model: FoldedView  # the campaign as notify folds it, at any position
    relay: OutboxRelay
    follower: LedgerFollower
    scheduler: BackgroundLoop
    broker: Broker
    keys: KeyStore
    reference: Reference
    clock: Clock

    def close(self) -> None:
        self.repo.engine.dispose()
        self.keys.engine.dispose()

    def names(self) -> dict[str, str]:
        return {code: region.name for code, region in self.reference.regions.items()}

    def issue_due_alerts(self) -> list[dict]:
        """Issue every alert due now that was not issued before (each onto the ledger)."""
        now = self.clock.now()
        due = self.model.using(None, lambda state: due_alerts(state, now, self.names()))
        return self.repo.issue(due, lambda alert: _message(alert, now))


def _message(alert: Alert, now) -> object:
    alert_id = new_id()
    return new_envelope(ALERT_ISSUED, {"submission_id": alert_id, **alert.to_payload()}, actor=ACTOR, occurred_at=now,
                        id=alert_id)


def migrate_notify(settings: Settings) -> None:
    migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None, reference: Reference | None = None,
              keys: KeyStore | None = None, broker: Broker | None = None, run_migrations: bool = True) -> Service:
    settings = settings or Settings.from_env("notify")
    if run_migrations:
        migrate_notify(settings)
        if keys is None:
            migrate_keys(settings.auth_database_url)
    engine = make_engine(settings.database_url, pool_size=max(settings.workers, 5))
    box = Outbox(outbox)
    repo = NotifyRepository(engine, box)
    broker = broker or Broker(settings.broker_url, Topology(settings.topology_prefix))
    relay = OutboxRelay(engine, box, broker, batch_size=settings.batch_size)
    follower = LedgerFollower(engine, ledger_position, repo.apply_ledger_events,
                              FeedClient(settings.ledger_url, settings.service_key), broker=broker,
                              subscriber="notify", batch_size=settings.batch_size, wait_ms=settings.batch_wait_ms)
    service = Service(settings, repo, FoldedView(repo.journal, NotifyState), relay, follower, None, broker,
                      keys or KeyStore.from_url(settings.auth_database_url), reference or default_reference(),
                      clock or SystemClock())
    def tick() -> int:
        service.issue_due_alerts()
        return 0  # then rest until the next look

    # The scheduler wakes every few seconds and issues what the (injectable) clock says is due.
    service.scheduler = BackgroundLoop("notify-scheduler", step=tick, poll_seconds=settings.schedule_seconds)
    return service
