from alembic import context

from shared.db import run_migrations
from shared.keys import metadata

run_migrations(context, metadata)
