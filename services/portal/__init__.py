"""The portal: the pages citizens, regions, departments (and, next, the office and auditors) use."""
from shared.service_parts import ServiceParts

SERVICE = ServiceParts(
    "portal",
    bootstrap="services.portal.bootstrap:bootstrap",
    app="services.portal.entrypoints.http:create_app",
    migrate="services.portal.bootstrap:migrate_portal",
)
