"""Notify: circulars, overdue alerts and the public announcement (issue 5)."""
from shared.service_parts import ServiceParts

SERVICE = ServiceParts(
    "notify",
    bootstrap="services.notify.bootstrap:bootstrap",
    app="services.notify.entrypoints.http:create_app",
    worker="services.notify.entrypoints.worker:NotifyWorker",
    migrate="services.notify.bootstrap:migrate_notify",
    probes="services.notify.bootstrap:probes",
    keeper="services.notify.bootstrap:keeper",
)
