"""The portal's composition root: settings → its own database (people, sessions), its secret,
the shared key store (to issue each person a key), and one HTTP client per service. Nothing
connects at import."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from shared.clock import Clock, SystemClock, business_clock
from shared.config import Settings
from shared.db import make_engine, migrate
from shared.keys import KeyStore, migrate_keys
from shared.ratelimit import RateLimiter
from shared.reference import Reference, default_reference

from .adapters.accounts import AccountStore
from .adapters.clients import Clients
from .adapters.crypto import KeySealer, Passwords, derive, load_secret
from .handlers import AccountHandlers

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_portal"


@dataclass
class PortalService:
    settings: Settings
    accounts: AccountStore
    handlers: AccountHandlers
    clients: Clients
    keys: KeyStore
    reference: Reference
    clock: Clock  # the business clock: deadlines, days left, the demo banner
    cookie_key: bytes  # signs the portal's cookies
    tip_limiter: RateLimiter  # per citizen, keyed by a pseudonym of the address only

    def close(self) -> None:
        self.accounts.engine.dispose()


def migrate_portal(settings: Settings) -> None:
    migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None, reference: Reference | None = None,
              keys: KeyStore | None = None, broker=None, run_migrations: bool = True, clients: Clients | None = None,
              real_clock: Clock | None = None) -> PortalService:
    """``broker`` is accepted like every service's and unused: the portal speaks only HTTP."""
    settings = settings or Settings.from_env("portal")
    if run_migrations:
        migrate_portal(settings)
        if keys is None:
            migrate_keys(settings.auth_database_url)
    secret = load_secret(settings.secret, settings.data_dir, settings.mode)
    reference = reference or default_reference()
    accounts = AccountStore(make_engine(settings.database_url, pool_size=max(settings.workers, 5)))
    keys = keys or KeyStore.from_url(settings.auth_database_url)
    handlers = AccountHandlers(accounts, keys, Passwords(), KeySealer(secret), real_clock or SystemClock(),
                               idle=timedelta(minutes=settings.session_idle_minutes),
                               lifetime=timedelta(hours=settings.session_max_hours),
                               valid_regions=set(reference.regions))
    rate = max(1, settings.tip_rate_per_minute)
    return PortalService(settings, accounts, handlers, clients or Clients.over_http(settings.service_urls), keys,
                         reference, clock or business_clock(settings.mode, settings.data_dir),
                         derive(secret, "cookies"), RateLimiter(rate, max(1, rate // 2)))
