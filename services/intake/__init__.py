"""Intake: where regions, departments and citizens submit facts; each becomes a proposal to the ledger."""
from shared.service_parts import ServiceParts

SERVICE = ServiceParts(
    "intake",
    bootstrap="services.intake.bootstrap:bootstrap",
    app="services.intake.entrypoints.http:create_app",
    worker="services.intake.entrypoints.worker:IntakeWorker",
    migrate="services.intake.bootstrap:migrate_intake",
    probes="services.intake.bootstrap:probes",
)
