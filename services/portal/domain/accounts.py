"""People who sign in to the portal: their roles, and how failed sign-ins slow down and lock.

Each failed attempt in a row makes the next one wait longer (1 s, 2 s, 4 s … up to a minute);
after ``LOCK_AFTER`` failures in a row the account is locked for ``LOCK_MINUTES`` (the operator's
``zeroclear users reset`` unlocks it at once). A success clears the count. Guessing a password is
so held to a few hundred tries a day per account, while a person who mistypes loses seconds."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

ROLES = ("region", "department", "office", "auditor")
#: A user name as it may stand in the ledger's actor (``.../user:<name>``): the key store's rule.
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
LOCK_AFTER = 10
LOCK_MINUTES = 15
MAX_DELAY_SECONDS = 60
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class User:
    name: str
    role: str
    region: str | None = None
    department: str | None = None
    display_name: str = ""
    disabled: bool = False
    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None
    key_id: str = ""
    password_hash: str = field(default="", repr=False)
    key_sealed: str = field(default="", repr=False)  # the person's API key, encrypted

    @property
    def scope(self) -> str | None:
        return self.region or self.department


class AccountError(ValueError):
    """A request about an account that cannot be honoured; the message says why."""


def check_new_user(name: str, role: str, region: str | None, department: str | None) -> None:
    if not USER_NAME.match(name):
        raise AccountError("a user name: 1 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if (role == "region") != bool(region):
        raise AccountError("a region user needs --region, and only a region user takes it")
    if (role == "department") != bool(department):
        raise AccountError("a department user needs --department, and only a department user takes it")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password of at least {MIN_PASSWORD_LENGTH} characters")


def retry_delay(failures: int) -> timedelta:
    """How long after the last failure the next attempt is heard."""
    if failures <= 0:
        return timedelta(0)
    return timedelta(seconds=min(MAX_DELAY_SECONDS, 2 ** (failures - 1)))


def after_failure(user: User, now: datetime) -> User:
    failures = user.failures + 1
    locked = now + timedelta(minutes=LOCK_MINUTES) if failures >= LOCK_AFTER else user.locked_until
    return replace(user, failures=failures, last_failure_at=now, locked_until=locked)


def wait_before_attempt(user: User, now: datetime) -> timedelta:
    """Zero when an attempt may be heard now; else how long to wait (locked: until the lock ends)."""
    if user.locked_until is not None and now < user.locked_until:
        return user.locked_until - now
    if user.last_failure_at is None:
        return timedelta(0)
    return max(timedelta(0), user.last_failure_at + retry_delay(user.failures) - now)


def days_left(due, today) -> int:
    """Whole days from ``today`` to ``due`` (dates): 0 on the day itself, negative once past."""
    return (due - today).days
