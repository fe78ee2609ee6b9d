"""The notify service's composition root: settings → adapters → the folded campaign → the alert
scheduler. Nothing connects at import; the follower, the relay and the scheduler run in its worker."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from shared.background import BackgroundLoop
import orjson
import sqlalchemy as sa

from shared.broker import Broker
from shared.clock import Clock, business_clock, format_instant, parse_instant
from shared.config import Settings, SettingsError
from shared.db import make_engine, migrate
from shared.envelope import Envelope, new_envelope, new_id
from shared.feed import FeedClient, LedgerFollower
from shared.journal import FoldedView
from shared.witness import LedgerWitness
from shared.keys import KeyStore, migrate_keys
from shared.outbox import Outbox, OutboxRelay
from shared.reference import Reference, default_reference
from shared.topology import Topology
from shared.metrics import Gauge, Probes, follower_gauges, outbox_gauges

from .adapters.announcement import AnnouncementRows
from .adapters.assessment import Assessments, HttpAssessments, ScoresUnavailable
from .adapters.checkpoints import Checkpoints, LedgerCheckpoints

from .adapters.repository import ALERT_ISSUED, CIRCULAR_ISSUED, NotifyRepository
from .adapters.webhooks import WebhookGuard, parse_networks
from .circulars import PdfUnavailable, render_html, render_json, render_pdf, validate_content
from .delivery import DeliveryPump, DeliveryWorker, Sender
from .domain.circular import circular_content
from .adapters.tables import ledger_position, outbox
from .domain.alerts import Alert, due_alerts, still_due as alert_still_due
from .domain.campaign import NotifyState

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_notify"
ACTOR = "system/notify"

class CircularRefused(ValueError):
    """A circular that cannot be issued as asked (a position not followed yet, or before the last one)."""

    def __init__(self, message: str, field: str = "position"):
        super().__init__(message)
        self.field = field

@dataclass
class Service:
    settings: Settings
    repo: NotifyRepository
    model: FoldedView  # the campaign as notify folds it, at any position
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
    assessments: Assessments  # the scores a circular ranks by
    announcement: AnnouncementRows  # the public announcement's rows, kept by index
    checkpoints: Checkpoints  # the ledger's signed checkpoint at a circular's position, its witness

    def close(self) -> None:
        self.repo.engine.dispose()
        self.keys.engine.dispose()

    def names(self) -> dict[str, str]:
        return {code: region.name for code, region in self.reference.regions.items()}

    def issue_due_alerts(self) -> list[dict]:
        """Issue every alert due now that was not issued before (each onto the ledger)."""
        now = self.clock.now()
        due = self.model.using(None, lambda state: due_alerts(state, now, self.names()))
        return self.repo.issue(due, lambda alert: _message(alert, now), format_instant(now))

    def still_due(self, alert: dict) -> bool:
        """Whether the duty an issued alert is about is still overdue, as the clock and the log say now."""
        now, key = self.clock.now(), (alert["subject"], alert["rule"], alert["level"])
        return self.model.using(None, lambda state: alert_still_due(state, now, key))

    # -- circulars ---------------------------------------------------------------------------
    def issue_circular(self, year: int, position: int | None = None, period: str | None = None,
                       kind: str = "on_demand", document_no: str | None = None,
                       wait_seconds: float = 0.0) -> tuple[dict, bool]:
        """Issue ``year``'s circular pinned to ``position`` (default: as far as notify has followed
        the log): its content, its documents' hashes onto the ledger. The same position gives the
        same circular (and is not issued twice); returns it and whether it is new. Its ranking is
        the assessment's as of the same position: ``ScoresUnavailable`` (nothing issued) until the
        assessment has followed the log that far (waiting up to ``wait_seconds`` for it)."""
        head = self.repo.journal.head()
        position = head if position is None else position
        if not 1 <= position <= head:
            raise CircularRefused(f"position {position} is not on the log as notify has followed it (1 to {head})")
        # An on-demand circular is one per position; the monthly one, one per month (it may share
        # its position with an on-demand one, as a document of its own).
        circular_id = f"{year}-{position}" if kind == "on_demand" else f"{year}-{period}"
        for _ in range(3):  # another process may take the next number meanwhile: compose again
            found = self.repo.circular(circular_id)
            if found is not None:
                return found, False
            row, message, now = self._compose(year, position, circular_id, period, kind, document_no, wait_seconds)
            added = self.repo.add_circular(row, message, now)
            if added is not None:
                return added
        raise CircularRefused(f"circular {circular_id}: other circulars were being issued at the same time; try again")

    def _compose(self, year: int, position: int, circular_id: str, period: str | None, kind: str,
                 document_no: str | None, wait_seconds: float) -> tuple[dict, Envelope, str]:
        """The circular's row and its message to the ledger."""
        issued = self.repo.circulars(year)
        if issued and issued[-1]["position"] > position:
            raise CircularRefused(f"circular {issued[-1]['circular_id']} is pinned to a later position "
                                  f"({issued[-1]['position']}): circulars follow the log forward")
        previous = orjson.loads(issued[-1]["content"]) if issued else None
        event = self.repo.journal.event_at(position)
        issued_at, head_hash = event["recorded_at"], event["hash"]
        today = self.reference.calendar.business_date(parse_instant(issued_at))
        scores = self.assessments.scores(year, position, wait_seconds)
        witness = self.checkpoints.at(position)
        now = self.clock.now()
        content = self.model.using(position, lambda state: circular_content(
            state, circular_id=circular_id, year=year, issued_at=issued_at, head_hash=head_hash, today=today.isoformat(),
            period=period or today.strftime("%Y-%m"), names=self.names(), scores=scores, previous=previous,
            document_no=document_no, dated=self.reference.calendar.business_date(now).isoformat()))
        if witness is not None:
            content["checkpoint"] = dict(witness)
        validate_content(content)
        documents = self.documents(content)
        digests = {name: hashlib.sha256(body).hexdigest() if body is not None else None for name, body in documents.items()}
        row = {"circular_id": circular_id, "year": year, "number": content["number"], "period": content["period"],
               "kind": kind, "position": position, "issued_at": issued_at, "content": documents["json"].decode(),
               "json_sha256": digests["json"], "html_sha256": digests["html"], "pdf_sha256": digests["pdf"]}
        message_id = new_id()
        message = new_envelope(CIRCULAR_ISSUED, {
            "submission_id": message_id, "circular_id": circular_id, "year": year, "number": content["number"],
            "period": content["period"], "position": position, "json_sha256": digests["json"],
            "html_sha256": digests["html"], "pdf_sha256": digests["pdf"]}, actor=ACTOR, occurred_at=now,
            id=message_id)
        return row, message, format_instant(now)

    def issue_monthly_circular(self) -> dict | None:
        """The month's circular, on its day (``circular_day``), for the month just ended, while a
        campaign runs (from its first stage to the end of acceptance, on the calendar); once."""
        day = self.settings.circular_day
        today = self.reference.calendar.business_date(self.clock.now())
        if day <= 0 or today.day < day:
            return None
        reported = today.replace(day=1) - timedelta(days=1)
        period = reported.strftime("%Y-%m")
        years = self.model.using(None, lambda state: sorted(state.years, reverse=True))
        for year in years:
            stages = [self.reference.calendar.stage(year, name) for name in ("mobilisation", "inspection", "push",
                                                                              "acceptance")]
            bounds = [bound for stage in stages if stage for bound in stage]
            if not bounds or not min(bounds).replace(day=1) <= reported <= max(bounds):
                continue
            if any(row["kind"] == "monthly" and row["period"] == period for row in self.repo.circulars(year)):
                return None
            try:
                row, _ = self.issue_circular(year, period=period, kind="monthly")
            except (CircularRefused, ScoresUnavailable):
                return None  # tried again at the next wake-up
            return row
        return None

    def run_schedule(self) -> dict:
        """What the scheduler does at each wake-up: the alerts due, the monthly circular if due."""
        return {"alerts": self.issue_due_alerts(), "circular": self.issue_monthly_circular()}

    @staticmethod
    def circular_document(row: dict, fmt: str) -> bytes | None:
        """One document of an issued circular: its JSON as stored (the canonical bytes hashed at
        issue), its HTML or PDF rendered again from that content (None: no CJK font for a PDF);
        ValueError for content of a layout this version no longer renders."""
        if fmt == "json":
            return row["content"].encode()
        content = orjson.loads(row["content"])
        if fmt == "html":
            return render_html(content)
        try:
            return render_pdf(content)
        except PdfUnavailable:
            return None

    @staticmethod
    def documents(content: dict) -> dict[str, bytes | None]:
        """The circular's documents; the PDF is None where no CJK font is installed."""
        try:
            pdf = render_pdf(content)
        except PdfUnavailable:
            pdf = None
        return {"json": render_json(content), "html": render_html(content), "pdf": pdf}

def _message(alert: Alert, now: datetime) -> Envelope:
    alert_id = new_id()
    return new_envelope(ALERT_ISSUED, {"submission_id": alert_id, **alert.to_payload()}, actor=ACTOR, occurred_at=now,
                        id=alert_id)

def webhook_networks(settings: Settings) -> tuple:
    """The networks an operator allows webhooks into although they are inside."""
    try:
        return parse_networks(settings.webhook_allow_networks)
    except ValueError as exc:
        raise SettingsError(f"ZEROCLEAR_NOTIFY_WEBHOOK_ALLOW_NETWORKS: {exc}") from None

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
    box = Outbox(outbox, max_attempts=settings.outbox_attempts)
    repo = NotifyRepository(engine, box)
    broker = broker or Broker(settings.broker_url, Topology(settings.topology_prefix))
    relay = OutboxRelay(engine, box, broker, batch_size=settings.batch_size,
                        redeliver_after=timedelta(seconds=settings.outbox_redeliver_seconds))
    follower = LedgerFollower(engine, ledger_position, repo.apply_ledger_events,
                              FeedClient(settings.ledger_url, settings.service_key), broker=broker,
                              subscriber="notify", batch_size=settings.batch_size, wait_ms=settings.batch_wait_ms)
    service = Service(settings, repo, FoldedView(repo.journal, NotifyState), relay, follower, None,
                      DeliveryPump(repo, broker), None, broker, keys or KeyStore.from_url(settings.auth_database_url),
                      reference or default_reference(), clock or business_clock(settings.mode, settings.data_dir),
                      WebhookGuard(webhook_networks(settings)),
                      HttpAssessments(settings.assessment_url, settings.service_key), AnnouncementRows(engine),
                      LedgerCheckpoints(settings.ledger_url, settings.service_key))
    latest = LedgerWitness(settings.ledger_url, settings.service_key).latest
    service.deliverer = DeliveryWorker(repo, Sender(settings, lambda content: service.documents(content)["pdf"],
                                                    service.webhooks, latest_checkpoint=latest), settings,
                                       still_due=service.still_due,
                                       business=service.clock)
    def tick() -> int:
        service.run_schedule()
        service.model.using(None, service.announcement.catch_up)  # so a reader rarely waits for it
        return 0  # then rest until the next look

    # The scheduler wakes every few seconds and issues what the (injectable) clock says is due.
    service.scheduler = BackgroundLoop("notify-scheduler", step=tick, poll_seconds=settings.schedule_seconds)
    return service

def probes(service: Service) -> Probes:
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
