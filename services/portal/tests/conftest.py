"""The portal's own tests: ``unit/`` (domain rules; the pages on the in-memory clients of
``adapters/fakes.py``), ``integration/`` (its account store on SQLite and PostgreSQL, the
``zeroclear users`` commands). The browser journeys through the whole system are in
``tests/e2e/test_portal_*.py``."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.clock import SettableClock
from shared.config import Settings

from ..adapters.fakes import fake_clients
from ..bootstrap import bootstrap
from ..entrypoints.http import create_app


class FastPasswords:
    """Argon2 at its cheapest cost, so the tests that sign in many times stay quick."""

    def __new__(cls):
        from argon2 import PasswordHasher

        from ..adapters.crypto import Passwords

        return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def real_clock() -> SettableClock:
    return SettableClock(datetime(2016, 11, 1, 1, 0, tzinfo=timezone.utc))


@pytest.fixture
def portal(tmp_path, real_clock):
    """The portal on the fake clients, its own database in a temporary folder."""
    settings = Settings.from_env("portal", {"ZEROCLEAR_DATA_DIR": str(tmp_path)})
    service = bootstrap(settings, clients=fake_clients(), clock=SettableClock(datetime(2016, 11, 1, tzinfo=timezone.utc)),
                        real_clock=real_clock)
    service.handlers.passwords = FastPasswords()
    yield service
    service.close()
    service.keys.engine.dispose()


@pytest.fixture
def app(portal):
    app = create_app(portal)
    app.testing = True
    return app
