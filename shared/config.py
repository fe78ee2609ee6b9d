"""Settings from the environment, read once per process into a frozen object.

Each key is looked up as ``ZEROCLEAR_<SERVICE>_<KEY>`` first, then ``ZEROCLEAR_<KEY>``; the
defaults run the embedded mode (SQLite files in one data folder, in-process broker).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

SERVICES = ("intake", "ledger", "assessment", "notify", "portal")
DEFAULT_PORTS = {"intake": 8001, "ledger": 8002, "assessment": 8003, "notify": 8004, "portal": 8000}
#: The services the portal reaches over HTTP, each at ``ZEROCLEAR_<NAME>_URL`` (default: its port here).
API_SERVICES = ("intake", "ledger", "assessment", "notify")
MEMORY_BROKER = "memory://"


class SettingsError(ValueError):
    """A setting is present but unusable; the message names the variable."""


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "zeroclear"


@dataclass(frozen=True)
class Settings:
    service: str
    data_dir: Path
    database_url: str
    auth_database_url: str
    broker_url: str
    host: str
    port: int
    ledger_url: str
    assessment_url: str
    service_key: str | None
    topology_prefix: str
    mode: str
    batch_size: int
    batch_wait_ms: int
    max_body_bytes: int
    workers: int
    threads: int
    tip_wait_seconds: int = 5  # how long POST /v1/tips waits for the ledger's acknowledgement
    tip_rate_per_minute: int = 10
    schedule_seconds: float = 30.0  # how often notify's scheduler looks for what is due (0: only when asked)
    circular_day: int = 1  # the day of the month notify issues the monthly circular (0: none)
    smtp_url: str = "smtp://127.0.0.1:25"  # where notify sends e-mail (smtp://host:port)
    mail_from: str = "zeroclear@localhost"
    delivery_retry_ms: int = 30000  # the first retry's wait; each next one doubles it
    delivery_attempts: int = 6  # then a delivery is dead-lettered (visible, re-drivable)
    outbox_attempts: int = 10  # sends of an unanswered outbox message before it stalls (visible, re-drivable)
    outbox_redeliver_seconds: float = 30.0  # how long an unanswered message waits before it is sent again
    webhook_allow_networks: str = ""  # CIDRs notify may send webhooks into although they are inside (tests, intranets)
    #: Proxies whose X-Forwarded-For names the client (intake's tip limiter; the portal in front of it).
    trusted_proxies: tuple[str, ...] = ()
    #: Where the other services' APIs are (the portal's clients), by service name.
    service_urls: Mapping[str, str] = field(default_factory=dict)
    #: The portal's secret (sessions, the people's keys at rest); generated in the data folder
    #: outside production. Never printed.
    secret: str | None = field(default=None, repr=False)
    session_idle_minutes: int = 30  # a portal session ends after this long without a request
    session_max_hours: int = 12  # and this long after sign-in, whatever
    cookie_secure: str = "auto"  # portal cookies: Secure over TLS (auto), always, or never
    contact_phone: str = ""  # the portal footer's 联系电话
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith("memory://")

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        if service not in SERVICES and service != "cli":
            raise SettingsError(f"unknown service {service!r}")
        lookup = _Lookup(service, env)
        data_dir = Path(lookup.text("DATA_DIR", str(default_data_dir(env)))).expanduser()
        ledger_port = _int("ZEROCLEAR_LEDGER_PORT", env.get("ZEROCLEAR_LEDGER_PORT", DEFAULT_PORTS["ledger"]))
        assessment_port = _int("ZEROCLEAR_ASSESSMENT_PORT",
                               env.get("ZEROCLEAR_ASSESSMENT_PORT", DEFAULT_PORTS["assessment"]))
        values = dict(
            service=service,
            data_dir=data_dir,
            database_url=lookup.text("DATABASE_URL", f"sqlite:///{data_dir / (service + '.db')}"),
            auth_database_url=lookup.text("AUTH_DATABASE_URL", f"sqlite:///{data_dir / 'keys.db'}"),
            broker_url=lookup.text("BROKER_URL", MEMORY_BROKER),
            host=lookup.text("HOST", "127.0.0.1"),
            port=lookup.integer("PORT", DEFAULT_PORTS.get(service, 0)),
            ledger_url=lookup.text("LEDGER_URL", f"http://127.0.0.1:{ledger_port}").rstrip("/"),
            assessment_url=lookup.text("ASSESSMENT_URL", f"http://127.0.0.1:{assessment_port}").rstrip("/"),
            service_key=lookup.text("SERVICE_KEY", "") or None,
            topology_prefix=lookup.text("TOPOLOGY_PREFIX", ""),
            # embedded and demo: the business clock is the data folder's, moved by ``zeroclear clock``
            mode=lookup.choice("MODE", "embedded", ("embedded", "demo", "production")),
            batch_size=lookup.integer("BATCH_SIZE", 500),
            batch_wait_ms=lookup.integer("BATCH_WAIT_MS", 50),
            max_body_bytes=lookup.integer("MAX_BODY_BYTES", 2 * 1024 * 1024),
            workers=lookup.integer("WORKERS", 2),
            threads=lookup.integer("THREADS", 32),
            tip_wait_seconds=lookup.integer("TIP_WAIT_SECONDS", 5),
            tip_rate_per_minute=lookup.integer("TIP_RATE_PER_MINUTE", 10),
            schedule_seconds=lookup.integer("SCHEDULE_SECONDS", 30),
            circular_day=lookup.integer("CIRCULAR_DAY", 1),
            smtp_url=lookup.text("SMTP_URL", "smtp://127.0.0.1:25"),
            mail_from=lookup.text("MAIL_FROM", "zeroclear@localhost"),
            delivery_retry_ms=lookup.integer("DELIVERY_RETRY_MS", 30000),
            delivery_attempts=lookup.integer("DELIVERY_ATTEMPTS", 6),
            outbox_attempts=lookup.integer("OUTBOX_ATTEMPTS", 10),
            outbox_redeliver_seconds=lookup.number("OUTBOX_REDELIVER_SECONDS", 30.0),
            webhook_allow_networks=lookup.text("WEBHOOK_ALLOW_NETWORKS", ""),
            trusted_proxies=lookup.networks("TRUSTED_PROXIES"),
            service_urls={name: _service_url(name, env) for name in API_SERVICES},
            secret=lookup.text("SECRET", "") or None,
            session_idle_minutes=lookup.integer("SESSION_IDLE_MINUTES", 30),
            session_max_hours=lookup.integer("SESSION_MAX_HOURS", 12),
            cookie_secure=lookup.choice("COOKIE_SECURE", "auto", ("auto", "always", "never")),
            contact_phone=lookup.text("CONTACT_PHONE", ""),
        )
        values.update(overrides)
        return cls(**values)


def _service_url(name: str, env: Mapping[str, str]) -> str:
    """``ZEROCLEAR_<NAME>_URL``, else the service's port on this machine (``ZEROCLEAR_<NAME>_PORT``)."""
    prefix = f"ZEROCLEAR_{name.upper()}"
    port = _int(f"{prefix}_PORT", env.get(f"{prefix}_PORT", DEFAULT_PORTS[name]))
    return env.get(f"{prefix}_URL", f"http://127.0.0.1:{port}").rstrip("/")


class _Lookup:
    def __init__(self, service: str, env: Mapping[str, str]):
        self.service = service.upper()
        self.env = env

    def _raw(self, key: str) -> tuple[str, str] | None:
        for name in (f"ZEROCLEAR_{self.service}_{key}", f"ZEROCLEAR_{key}"):
            if name in self.env:
                return name, self.env[name]
        return None

    def text(self, key: str, default: str) -> str:
        found = self._raw(key)
        return default if found is None else found[1]

    def integer(self, key: str, default: int) -> int:
        found = self._raw(key)
        return default if found is None else _int(*found)

    def number(self, key: str, default: float) -> float:
        found = self._raw(key)
        if found is None:
            return default
        try:
            value = float(found[1])
        except ValueError:
            raise SettingsError(f"{found[0]} must be a number, not {found[1]!r}") from None
        if not 0 <= value < 1e9:
            raise SettingsError(f"{found[0]} must be a number from 0, not {found[1]!r}")
        return value

    def networks(self, key: str) -> tuple[str, ...]:
        """Comma-separated addresses or CIDR blocks (``127.0.0.1/32, 10.0.0.0/8``), normalised."""
        found = self._raw(key)
        if found is None or not found[1].strip():
            return ()
        try:
            return tuple(str(ipaddress.ip_network(part.strip(), strict=False)) for part in found[1].split(",")
                         if part.strip())
        except ValueError:
            raise SettingsError(f"{found[0]} must be addresses or CIDR blocks separated by commas, "
                                f"not {found[1]!r}") from None

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        found = self._raw(key)
        if found is None:
            return default
        if found[1] not in allowed:
            raise SettingsError(f"{found[0]} must be one of {', '.join(allowed)}, not {found[1]!r}")
        return found[1]


def _int(name: str, value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None
