"""The notify service's composition root. It has no state of its own yet: only its HTTP app."""
from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings
from shared.keys import KeyStore


@dataclass
class Service:
    settings: Settings
    keys: KeyStore

    def close(self) -> None:
        self.keys.engine.dispose()


def bootstrap(settings: Settings | None = None, *, keys: KeyStore | None = None, **_ignored) -> Service:
    settings = settings or Settings.from_env("notify")
    return Service(settings, keys or KeyStore.from_url(settings.auth_database_url))
