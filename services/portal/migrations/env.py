from alembic import context

from services.portal.adapters.tables import metadata
from shared.db import run_migrations

run_migrations(context, metadata)
