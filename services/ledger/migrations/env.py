from alembic import context

from services.ledger.adapters.tables import metadata
from shared.db import run_migrations

run_migrations(context, metadata)
