"""Prometheus metrics: what every API and worker serves at ``/metrics``.

Two kinds. Counters and histograms of what a process does (HTTP requests and their latency,
filings the ledger refused) live in prometheus-client's registry; under several HTTP worker
processes ``zeroclear serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder so that any
process answers for all of them. Figures that the databases and the broker hold (outbox depth
and oldest age, follower position, deliveries by status, queue depths) are read when scraped,
by a ``Gauges`` collector over a service's probes: the same answer from every process, and
nothing to keep in step.
"""
from __future__ import annotations

import logging
import os
from typing import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_REQUESTS = Counter("zeroclear_http_requests", "HTTP requests answered",
                        ["service", "method", "endpoint", "status"])
HTTP_LATENCY = Histogram("zeroclear_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["service", "method", "endpoint"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
INBOX_REFUSED = Counter("zeroclear_ledger_inbox_refused", "Messages the ledger refused to record because their "
                        "broker user may not send them (dead-lettered, never on the log)", ["reason"])

#: A probe answers a number, or numbers by label value (``{"sent": 3, "dead": 1}``).
Probe = Callable[[], "float | Mapping[str, float]"]


class Gauge:
    """One figure read at scrape time: ``name`` (with ``label`` when the probe answers several)."""

    def __init__(self, name: str, help: str, probe: Probe, *, label: str | None = None, counter: bool = False):
        self.name, self.help, self.probe, self.label, self.counter = name, help, probe, label, counter


class Gauges(Collector):
    """A service's figures, each read from its source when Prometheus scrapes. A probe that fails
    (its database is away) is left out of that scrape and counted in ``zeroclear_probe_failed``."""

    def __init__(self, service: str, gauges: Iterable[Gauge]):
        self.service = service
        self.gauges = list(gauges)

    def collect(self):
        failed = GaugeMetricFamily("zeroclear_probe_failed", "1 when a figure could not be read in this scrape",
                                   labels=["service", "metric"])
        for gauge in self.gauges:
            try:
                value = gauge.probe()
            except Exception as exc:  # noqa: BLE001 - a scrape reports what it can
                log.debug("metrics: %s failed: %r", gauge.name, exc)
                failed.add_metric([self.service, gauge.name], 1)
                continue
            if value is not None:  # nothing to say yet (a head not seen)
                yield self._family(gauge, value)
        yield failed

    def _family(self, gauge: Gauge, value):
        kind = CounterMetricFamily if gauge.counter else GaugeMetricFamily
        labels = ["service"] + ([gauge.label] if gauge.label else [])
        family = kind(gauge.name, gauge.help, labels=labels)
        if isinstance(value, Mapping):
            for key, number in sorted(value.items()):
                family.add_metric([self.service, str(key)], float(number))
        else:
            family.add_metric([self.service], float(value))
        return family


def render(collectors: Iterable[Collector] = ()) -> bytes:
    """The exposition text: this process's (or every HTTP worker's) metrics and the given collectors."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
        sources = [registry]
    else:
        sources = [REGISTRY, registry]
    for collector in collectors:
        registry.register(collector)
    return b"".join(generate_latest(source) for source in sources)


class Probes:
    """What a service reports: its figures (``gauges``), its readiness checks beyond its database
    (name → (check, critical)), and the broker queues it consumes (their depths, from a worker)."""

    def __init__(self, gauges: Iterable[Gauge] = (), checks: Mapping | None = None, queues: Iterable = ()):
        self.gauges, self.checks, self.queues = list(gauges), dict(checks or {}), list(queues)


def outbox_gauges(engine, outbox) -> list[Gauge]:
    """Depth of a producer's outbox by state, and how long its oldest unanswered message has waited."""
    import sqlalchemy as sa

    from .clock import parse_instant

    def counts():
        with engine.connect() as conn:
            return outbox.counts(conn)

    def oldest():
        t = outbox.table
        with engine.connect() as conn:
            first = conn.execute(sa.select(sa.func.min(t.c.created_at)).where(t.c.settled_at.is_(None))).scalar()
        return 0.0 if first is None else max(0.0, (outbox.clock.now() - parse_instant(first)).total_seconds())

    return [Gauge("zeroclear_outbox_messages", "Outbox messages: unpublished, unsettled (no answer from the ledger "
                  "yet), stalled (sent as often as allowed)", counts, label="state"),
            Gauge("zeroclear_outbox_oldest_unsettled_age_seconds", "How long the oldest message without the "
                  "ledger's answer has waited", oldest)]


def follower_gauges(follower) -> list[Gauge]:
    """A follower's position on the ledger's log, and the ledger's head as its feed last said."""
    def position():
        with follower.engine.connect() as conn:
            return follower.last_seq(conn)

    gauges = [Gauge("zeroclear_follower_position", "The last ledger seq this service has applied", position)]
    gauges.append(Gauge("zeroclear_follower_ledger_head", "The ledger's head seq as this service's feed reader "
                        "last saw it (workers only)", lambda: follower.feed.head_seq))
    return gauges


def queue_gauge(broker, queues) -> Gauge:
    """Messages waiting in each of ``queues`` and their dead-letter queues (a passive declare)."""
    def depths():
        names = [name for spec in queues for name in (spec.name, spec.dead_letter_key)]
        return broker.queue_depths(names)
    return Gauge("zeroclear_queue_messages", "Messages ready in a broker queue (<queue>.dead: dead letters)",
                 depths, label="queue")
