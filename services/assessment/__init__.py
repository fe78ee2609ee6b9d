"""Assessment (考核): scores every region per SPEC §6 from the ledger's recorded events (issue 4)."""
from shared.service_parts import ServiceParts

SERVICE = ServiceParts(
    "assessment",
    bootstrap="services.assessment.bootstrap:bootstrap",
    app="services.assessment.entrypoints.http:create_app",
    worker="services.assessment.entrypoints.worker:AssessmentWorker",
    migrate="services.assessment.bootstrap:migrate_assessment",
    probes="services.assessment.bootstrap:probes",
    keeper="services.assessment.bootstrap:keep_scored",
)
