"""Settings from the environment, read once per process into a frozen object.

Each key is looked up as ``ZEROCLEAR_<SERVICE>_<KEY>`` first, then ``ZEROCLEAR_<KEY>``; the
defaults run the embedded mode (SQLite files in one data folder, in-process broker). A secret
may come from a file instead (``..._FILE``, see ``shared.secret_settings``); production mode
refuses placeholders and default passwords, naming the variable.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from .secret_settings import SecretError, production_problems, read_secret, with_password

SERVICES = ("intake", "ledger", "assessment", "notify", "portal")
DEFAULT_PORTS = {"intake": 8001, "ledger": 8002, "assessment": 8003, "notify": 8004, "portal": 8000}
#: The services the portal reaches over HTTP, each at ``ZEROCLEAR_<NAME>_URL`` (default: its port here).
API_SERVICES = ("intake", "ledger", "assessment", "notify")
#: The services that talk through the broker, each as its own broker user (the portal has none).
BROKER_SERVICES = ("intake", "ledger", "assessment", "notify")
MEMORY_BROKER = "memory://"
#: Reads yield to writes on a shared machine by default: the ledger's API serves only reads (its
#: writes come from the broker, to ``zeroclear worker ledger``), so it runs at the lowest CPU
#: priority (bench/reads.py: intake's filing under 16 readers kept 82% of its rate at 10 and 89-96%
#: at 19 on a 100,000-item ledger; 75% at 19 on the national campaign's five million events).
DEFAULT_API_NICE = {"ledger": 19}


class SettingsError(ValueError):
    """A setting is present but unusable; the message names the variable."""


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "zeroclear"


@dataclass(frozen=True)
class Settings:
    service: str
    data_dir: Path
    database_url: str = field(repr=False)
    auth_database_url: str = field(repr=False)
    broker_url: str = field(repr=False)
    host: str
    port: int
    ledger_url: str
    assessment_url: str
    service_key: str | None = field(repr=False)
    topology_prefix: str
    mode: str
    batch_size: int
    batch_wait_ms: int
    max_body_bytes: int
    workers: int
    threads: int
    #: The CPU niceness (0-19) of the service's HTTP API processes (``zeroclear serve``): the
    #: ledger's API only reads, and on a shared machine its readers then take what the writers leave.
    api_nice: int = 0
    tip_wait_seconds: int = 5  # how long POST /v1/tips waits for the ledger's acknowledgement
    score_wait_seconds: float = 20.0  # how long an assessment read waits for a scoring the kept rows do not cover
    tip_rate_per_minute: int = 10
    schedule_seconds: float = 30.0  # how often notify's scheduler looks for what is due (0: only when asked)
    circular_day: int = 1  # the day of the month notify issues the monthly circular (0: none)
    smtp_url: str = "smtp://127.0.0.1:25"  # where notify sends e-mail (smtp://host:port); SMTP_HOST/PORT win
    mail_from: str = "zeroclear@localhost"
    smtp_security: str = "none"  # none | starttls | tls
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    delivery_retry_ms: int = 30000  # the first retry's wait; each next one doubles it
    delivery_attempts: int = 6  # then a delivery is dead-lettered (visible, re-drivable)
    outbox_attempts: int = 10  # sends of an unanswered outbox message before it stalls (visible, re-drivable)
    outbox_redeliver_seconds: float = 30.0  # how long an unanswered message waits before it is sent again
    webhook_allow_networks: str = ""  # CIDRs notify may send webhooks into although they are inside (tests, intranets)
    #: The addresses (CIDRs) of proxies in front — a reverse proxy, the portal before intake — whose
    #: X-Forwarded-For names the real client (for rate limits and logs; nothing stores it).
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
    inbox_senders: Mapping[str, str] = field(default_factory=dict)  # ledger: producer → the broker user it publishes as
    tip_secrets_file: Path | None = None  # intake: the operator's tip secrets (production: required)
    log_format: str = "text"  # text | json
    metrics_port: int = 0  # a worker's /metrics and /health/* (0: not served)
    snapshot_events: int = 100_000  # the ledger: a snapshot of the projections' digest every so many events
    snapshot_seconds: float = 3600.0  # or this long after the last one, when fewer came
    signing_key_file: Path | None = None  # the ledger's checkpoint signing key (embedded: made in the data folder)
    checkpoint_events: int = 1000  # the ledger signs a checkpoint every so many events
    checkpoint_seconds: float = 300.0  # or this long after the last one, when fewer came
    verify_every_seconds: float = 0.0  # the ledger: the public /v1/verify looks at new events at most this often
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
        values = {**_places(service, lookup, env), **_throughput(lookup), **_mail(lookup), **_edges(lookup, env),
                  **_cadence(lookup)}
        database_password = lookup.secret("DATABASE_PASSWORD", "") or None
        for name in ("database_url", "auth_database_url"):
            values[name] = with_password(values[name], database_password)
        values["broker_url"] = with_password(values["broker_url"], lookup.secret("BROKER_PASSWORD", "") or None)
        values.update(overrides)
        if values["mode"] == "production" and service != "cli":  # the services refuse; the operator's tools read
            _check_production(service, values, lookup)
        return cls(**values)


# Settings.from_env's groups, read in this order (the first bad variable is the one reported).

def _places(service: str, lookup: _Lookup, env: Mapping[str, str]) -> dict:
    """Where the service keeps its data, listens and finds the others."""
    data_dir = Path(lookup.text("DATA_DIR", str(default_data_dir(env)))).expanduser()
    ledger_port = _int("ZEROCLEAR_LEDGER_PORT", env.get("ZEROCLEAR_LEDGER_PORT", DEFAULT_PORTS["ledger"]))
    assessment_port = _int("ZEROCLEAR_ASSESSMENT_PORT",
                           env.get("ZEROCLEAR_ASSESSMENT_PORT", DEFAULT_PORTS["assessment"]))
    return dict(
        service=service,
        data_dir=data_dir,
        database_url=lookup.secret("DATABASE_URL", f"sqlite:///{data_dir / (service + '.db')}"),
        auth_database_url=lookup.secret("AUTH_DATABASE_URL", f"sqlite:///{data_dir / 'keys.db'}"),
        broker_url=lookup.secret("BROKER_URL", MEMORY_BROKER),
        host=lookup.text("HOST", "127.0.0.1"),
        port=lookup.integer("PORT", DEFAULT_PORTS.get(service, 0)),
        ledger_url=lookup.text("LEDGER_URL", f"http://127.0.0.1:{ledger_port}").rstrip("/"),
        assessment_url=lookup.text("ASSESSMENT_URL", f"http://127.0.0.1:{assessment_port}").rstrip("/"),
        service_key=lookup.secret("SERVICE_KEY", "") or None,
        topology_prefix=lookup.text("TOPOLOGY_PREFIX", ""),
        # embedded and demo: the business clock is the data folder's, moved by ``zeroclear clock``
        mode=lookup.choice("MODE", "embedded", ("embedded", "demo", "production")),
    )


def _throughput(lookup: _Lookup) -> dict:
    """Batches, pools, waits and rates."""
    return dict(
        batch_size=lookup.integer("BATCH_SIZE", 500),
        batch_wait_ms=lookup.integer("BATCH_WAIT_MS", 50),
        max_body_bytes=lookup.integer("MAX_BODY_BYTES", 2 * 1024 * 1024),
        workers=lookup.integer("WORKERS", 2),
        threads=lookup.integer("THREADS", 32),
        api_nice=lookup.integer("API_NICE", DEFAULT_API_NICE.get(lookup.service.lower(), 0), low=0, high=19),
        tip_wait_seconds=lookup.integer("TIP_WAIT_SECONDS", 5),
        score_wait_seconds=lookup.number("SCORE_WAIT_SECONDS", 20.0),
        tip_rate_per_minute=lookup.integer("TIP_RATE_PER_MINUTE", 10),
        schedule_seconds=lookup.integer("SCHEDULE_SECONDS", 30),
        circular_day=lookup.integer("CIRCULAR_DAY", 1),
    )


def _mail(lookup: _Lookup) -> dict:
    """Notify's mail server and its deliveries' retries."""
    return dict(
        smtp_url=_smtp_url(lookup),
        mail_from=lookup.text("MAIL_FROM", "zeroclear@localhost"),
        smtp_security=lookup.choice("SMTP_SECURITY", "none", ("none", "starttls", "tls")),
        smtp_user=lookup.text("SMTP_USER", "") or None,
        smtp_password=lookup.secret("SMTP_PASSWORD", "") or None,
        delivery_retry_ms=lookup.integer("DELIVERY_RETRY_MS", 30000),
        delivery_attempts=lookup.integer("DELIVERY_ATTEMPTS", 6),
    )


def _edges(lookup: _Lookup, env: Mapping[str, str]) -> dict:
    """The outbox, who may call in and how, sessions, logs and metrics."""
    return dict(
        outbox_attempts=lookup.integer("OUTBOX_ATTEMPTS", 10),
        outbox_redeliver_seconds=lookup.number("OUTBOX_REDELIVER_SECONDS", 30.0),
        webhook_allow_networks=lookup.text("WEBHOOK_ALLOW_NETWORKS", ""),
        trusted_proxies=lookup.networks("TRUSTED_PROXIES"),
        service_urls={name: _service_url(name, env) for name in API_SERVICES},
        secret=lookup.secret("SECRET", "") or None,
        session_idle_minutes=lookup.integer("SESSION_IDLE_MINUTES", 30),
        session_max_hours=lookup.integer("SESSION_MAX_HOURS", 12),
        cookie_secure=lookup.choice("COOKIE_SECURE", "auto", ("auto", "always", "never")),
        contact_phone=lookup.text("CONTACT_PHONE", ""),
        inbox_senders=_senders(lookup),
        tip_secrets_file=_optional_path(lookup.text("TIP_SECRETS_FILE", "")),
        log_format=lookup.choice("LOG_FORMAT", "text", ("text", "json")),
        metrics_port=lookup.integer("METRICS_PORT", 0),
    )


def _cadence(lookup: _Lookup) -> dict:
    """The ledger's snapshots, signed checkpoints and public verification."""
    return dict(
        snapshot_events=lookup.integer("SNAPSHOT_EVENTS", 100_000),
        snapshot_seconds=lookup.number("SNAPSHOT_SECONDS", 3600.0),
        signing_key_file=_optional_path(lookup.text("SIGNING_KEY_FILE", "")),
        checkpoint_events=lookup.integer("CHECKPOINT_EVENTS", 1000),
        checkpoint_seconds=lookup.number("CHECKPOINT_SECONDS", 300.0),
        verify_every_seconds=lookup.number("VERIFY_EVERY_SECONDS", 0.0),
    )


def _service_url(name: str, env: Mapping[str, str]) -> str:
    """``ZEROCLEAR_<NAME>_URL``, else the service's port on this machine (``ZEROCLEAR_<NAME>_PORT``)."""
    prefix = f"ZEROCLEAR_{name.upper()}"
    port = _int(f"{prefix}_PORT", env.get(f"{prefix}_PORT", DEFAULT_PORTS[name]))
    return env.get(f"{prefix}_URL", f"http://127.0.0.1:{port}").rstrip("/")


def _check_production(service: str, values: dict, lookup: _Lookup) -> None:
    origins = {name: lookup.origin(key) for name, key in (
        ("service_key", "SERVICE_KEY"), ("database_url", "DATABASE_URL"), ("auth_database_url", "AUTH_DATABASE_URL"),
        ("broker_url", "BROKER_URL"))}
    problems = production_problems(values, origins)
    if service == "ledger" and values["broker_url"].startswith("amqp") and not values["inbox_senders"]:
        problems.append("ZEROCLEAR_LEDGER_INBOX_SENDERS is not set: in production the ledger takes a filing only "
                        "from the broker user of its producer (e.g. intake:zeroclear-intake,assessment:...)")
    if problems:
        raise SettingsError(f"refusing to run {service} in production: " + "; ".join(problems))


def _smtp_url(lookup: _Lookup) -> str:
    """``SMTP_HOST`` and ``SMTP_PORT`` if set, else ``SMTP_URL`` (smtp://host:port); an empty
    ``SMTP_HOST`` says no SMTP server is configured (the URL is then empty)."""
    url = lookup.text("SMTP_URL", "smtp://127.0.0.1:25")
    host, port = lookup.text("SMTP_HOST", ""), lookup.integer("SMTP_PORT", 0)
    if lookup.origin("SMTP_HOST") in lookup.env and not host:
        return ""
    if not host and not port:
        return url
    parsed = urlsplit(url)
    return f"smtp://{host or parsed.hostname or '127.0.0.1'}:{port or parsed.port or 25}"


def _senders(lookup: _Lookup) -> dict[str, str]:
    """``intake:zeroclear-intake,assessment:zeroclear-assessment`` → {producer: broker user}."""
    text = lookup.text("INBOX_SENDERS", "")
    senders = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        producer, _, user = item.partition(":")
        if not producer.strip() or not user.strip():
            raise SettingsError(f"{lookup.origin('INBOX_SENDERS')} must list producer:user pairs, not {item!r}")
        senders[producer.strip()] = user.strip()
    return senders


def _optional_path(text: str) -> Path | None:
    return Path(text).expanduser() if text else None


class _Lookup:
    def __init__(self, service: str, env: Mapping[str, str]):
        self.service = service.upper()
        self.env = env

    def _raw(self, key: str) -> tuple[str, str] | None:
        for name in (f"ZEROCLEAR_{self.service}_{key}", f"ZEROCLEAR_{key}"):
            if name in self.env:
                return name, self.env[name]
        return None

    def origin(self, key: str) -> str:
        """The variable a key was read from (or would be), to name it in an error."""
        for name in (f"ZEROCLEAR_{self.service}_{key}", f"ZEROCLEAR_{key}"):
            if name in self.env or f"{name}_FILE" in self.env:
                return name if name in self.env else f"{name}_FILE"
        return f"ZEROCLEAR_{key}"

    def text(self, key: str, default: str) -> str:
        found = self._raw(key)
        return default if found is None else found[1]

    def secret(self, key: str, default: str) -> str:
        """Like ``text``, but each variable may also be given as a file (``<NAME>_FILE``)."""
        for name in (f"ZEROCLEAR_{self.service}_{key}", f"ZEROCLEAR_{key}"):
            try:
                found = read_secret(self.env, name)
            except SecretError as error:
                raise SettingsError(str(error)) from None
            if found is not None:
                return found[1]
        return default

    def integer(self, key: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
        found = self._raw(key)
        if found is None:
            return default
        value = _int(*found)
        if (low is not None and value < low) or (high is not None and value > high):
            raise SettingsError(f"{found[0]} must be a whole number from {low} to {high}, not {found[1]!r}")
        return value

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
