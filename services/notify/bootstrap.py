"""The notify service's composition root: settings → adapters → the folded campaign → the use
cases (``handlers.py``) → the delivery worker and the alert scheduler, in one pass. Nothing connects
at import; the follower, the relay and the scheduler run in its worker."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from shared.background import BackgroundLoop
from shared.broker import Broker
from shared.clock import Clock, business_clock
from shared.config import Settings, SettingsError
from shared.db import SoleHolder, make_engine, migrate
from shared.feed import FeedClient, LedgerFollower
from shared.journal import FoldedView, KeepFolded
from shared.keys import KeyStore, migrate_keys
from shared.metrics import Gauge, Probes, follower_gauges, outbox_gauges
from shared.outbox import Outbox, OutboxRelay
from shared.reference import Reference, default_reference
from shared.topology import Topology
from shared.witness import LedgerWitness

from .adapters.announcement import AnnouncementRows
from .adapters.assessment import HttpAssessments
from .adapters.checkpoints import LedgerCheckpoints
from .adapters.documents import CircularDocuments
from .adapters.repository import NotifyRepository
from .adapters.tables import ledger_position, outbox
from .adapters.webhooks import WebhookGuard, parse_networks
from .delivery import DeliveryPump, DeliveryWorker, Sender
from .domain.campaign import NotifyState
from .handlers import NotifyHandlers

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_notify"


@dataclass(frozen=True)
class NotifyService:
    settings: Settings
    repo: NotifyRepository
    model: FoldedView  # the campaign as notify folds it, at any position
    handlers: NotifyHandlers  # the use cases: alerts, circulars, the scheduler's wake-up
    relay: OutboxRelay
    follower: LedgerFollower
    scheduler: BackgroundLoop
    pump: DeliveryPump
    deliverer: DeliveryWorker
    broker: Broker
    keys: KeyStore
    reference: Reference
    clock: Clock
    webhooks: WebhookGuard  # where a webhook may point
    announcement: AnnouncementRows  # the public announcement's rows, kept by index

    def close(self) -> None:
        self.repo.engine.dispose()
        self.keys.engine.dispose()


def webhook_networks(settings: Settings) -> tuple:
    """The networks an operator allows webhooks into although they are inside."""
    try:
        return parse_networks(settings.webhook_allow_networks)
    except ValueError as exc:
        raise SettingsError(f"ZEROCLEAR_NOTIFY_WEBHOOK_ALLOW_NETWORKS: {exc}") from None


def migrate_notify(settings: Settings) -> None:
    migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None, reference: Reference | None = None,
              keys: KeyStore | None = None, broker: Broker | None = None,
              run_migrations: bool = True) -> NotifyService:
    settings = settings or Settings.from_env("notify")
    if run_migrations:
        migrate_notify(settings)
        if keys is None:
            migrate_keys(settings.auth_database_url)
    engine = make_engine(settings.database_url, pool_size=max(settings.workers, 5))
    box = Outbox(outbox, max_attempts=settings.outbox_attempts)
    repo = NotifyRepository(engine, box)
    broker = broker or Broker(settings.broker_url, Topology(settings.topology_prefix))
    relay = OutboxRelay(engine, box, broker, batch_size=settings.batch_size,
                        redeliver_after=timedelta(seconds=settings.outbox_redeliver_seconds))
    follower = LedgerFollower(engine, ledger_position, repo.apply_ledger_events,
                              FeedClient(settings.ledger_url, settings.service_key), broker=broker,
                              subscriber="notify", batch_size=settings.batch_size, wait_ms=settings.batch_wait_ms)
    model = FoldedView(repo.journal, NotifyState)
    reference = reference or default_reference()
    clock = clock or business_clock(settings.mode, settings.data_dir)
    documents = CircularDocuments()
    handlers = NotifyHandlers(repo, repo.journal, model, HttpAssessments(settings.assessment_url, settings.service_key),
                              LedgerCheckpoints(settings.ledger_url, settings.service_key), documents, clock, reference,
                              circular_day=settings.circular_day)
    webhooks = WebhookGuard(webhook_networks(settings))
    latest = LedgerWitness(settings.ledger_url, settings.service_key).latest
    deliverer = DeliveryWorker(repo, Sender(settings, documents.pdf, webhooks, latest_checkpoint=latest), settings,
                               still_due=handlers.still_due, business=clock)
    announcement = AnnouncementRows(engine)

    def tick() -> int:
        handlers.run_schedule()
        model.using(None, announcement.catch_up)  # so a reader rarely waits for it
        return 0  # then rest until the next look

    # The scheduler wakes every few seconds and issues what the (injectable) clock says is due.
    scheduler = BackgroundLoop("notify-scheduler", step=tick, poll_seconds=settings.schedule_seconds)
    return NotifyService(settings, repo, model, handlers, relay, follower, scheduler, DeliveryPump(repo, broker),
                         deliverer, broker, keys or KeyStore.from_url(settings.auth_database_url), reference, clock,
                         webhooks, announcement)


def keeper(service: NotifyService) -> KeepFolded:
    """Keeps the fold of the process serving notify's API current and the announcement's rows
    written from it, so that neither waits for the first reader after a start (the rows of a
    ten-year log took that reader 11 s; bench/portal.py). On PostgreSQL one API process does (the
    rows serve them all; a fold of a national campaign holds 1.4 GB): the others read the rows as
    they stand, fold only for an office's circular, and take over if it goes."""
    return KeepFolded(service.model, "notify", then=service.announcement.catch_up,
                      holder=SoleHolder(service.repo.engine, "zeroclear.notify.keeper"))


def probes(service: NotifyService) -> Probes:
    """What notify reports (``/metrics``, readiness): its outbox and position, its deliveries by
    status, the alerts and circulars issued; an unreachable SMTP server is reported, not fatal."""
    from .adapters import tables
    from .smtp import smtp_check

    def count(table, by=None):
        def probe():
            query = sa.select(*( [by] if by is not None else []), sa.func.count()).select_from(table)
            with service.repo.engine.connect() as conn:
                if by is None:
                    return conn.execute(query).scalar_one()
                return dict(conn.execute(query.group_by(by)).all())
        return probe

    deliveries = tables.deliveries
    gauges = [Gauge("zeroclear_deliveries", "Deliveries (e-mail, webhooks) by status: pending, sent, failed, dead, "
                    "cancelled", count(deliveries, deliveries.c.status), label="status"),
              Gauge("zeroclear_alerts_issued", "Alerts issued", count(tables.alerts), counter=True),
              Gauge("zeroclear_circulars_issued", "Circulars issued", count(tables.circulars), counter=True)]
    return Probes(outbox_gauges(service.relay.engine, service.relay.outbox) + follower_gauges(service.follower) + gauges,
                  checks={"smtp": (smtp_check(service.settings), False)},
                  queues=[service.broker.topology.subscriber_queue("notify"), service.broker.topology.task_queue("notify")])
