from alembic import context

from services.notify.adapters.tables import metadata
from shared.db import run_migrations

run_migrations(context, metadata)
