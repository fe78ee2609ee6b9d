"""The ledger (台账): the one writer of the append-only, hash-chained event log and its projections."""
from shared.service_parts import ServiceParts

SERVICE = ServiceParts(
    "ledger",
    bootstrap="services.ledger.bootstrap:bootstrap",
    app="services.ledger.entrypoints.http:create_app",
    worker="services.ledger.entrypoints.worker:LedgerWorker",
    migrate="services.ledger.bootstrap:migrate_ledger",
    probes="services.ledger.bootstrap:probes",
)
