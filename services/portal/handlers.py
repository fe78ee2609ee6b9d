"""The portal's use cases about people: adding, disabling and resetting them (the operator's
``zeroclear users``), signing in and out, and finding who a session cookie stands for.

A person is given an API key of their own in the shared key store when they are added, so that
what they do through the portal is recorded on the ledger under them (``.../user:<name>``); the
portal keeps it sealed and revokes it when the person is disabled."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from shared.clock import Clock

from .domain.accounts import (
    AccountError, User, after_failure, check_new_user, check_password, wait_before_attempt,
)


class Accounts(Protocol):
    def add(self, user: User, now: datetime) -> bool: ...
    def get(self, name: str) -> User | None: ...
    def list(self) -> list[dict]: ...
    def record_attempt(self, user: User) -> None: ...
    def set_password(self, name: str, password_hash: str) -> bool: ...
    def disable(self, name: str, now: datetime) -> bool: ...
    def open_session(self, token_hash: str, name: str, now: datetime, expires_at: datetime) -> None: ...
    def session(self, token_hash: str) -> tuple[str, datetime, datetime] | None: ...
    def touch_session(self, token_hash: str, now: datetime) -> None: ...
    def end_session(self, token_hash: str) -> None: ...
    def end_sessions_before(self, cut: datetime) -> int: ...


class KeyIssuer(Protocol):
    """The shared key store as the portal uses it (``shared.keys.KeyStore``)."""

    def create(self, role: str, *, region=None, department=None, label: str = "", valid_regions=None,
               person=None): ...
    def revoke(self, key_id: str) -> bool: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, stored: str | None, password: str) -> bool: ...


class Sealer(Protocol):
    def seal(self, key: str) -> str: ...
    def open(self, sealed: str) -> str | None: ...


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: ``token`` on success, else ``wait`` (slowed down or locked) or
    neither (a wrong name or password: which of the two is never told)."""

    token: str | None = None
    user: User | None = None
    wait: timedelta | None = None
    locked: bool = False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountHandlers:
    def __init__(self, accounts: Accounts, keys: KeyIssuer, passwords: PasswordHasher, sealer: Sealer, clock: Clock,
                 *, idle: timedelta, lifetime: timedelta, valid_regions: set[str] | None = None):
        self.accounts, self.keys, self.passwords, self.sealer, self.clock = accounts, keys, passwords, sealer, clock
        self.idle, self.lifetime, self.valid_regions = idle, lifetime, valid_regions

    # -- the operator --------------------------------------------------------------------------
    def add_user(self, name: str, password: str, role: str, *, region: str | None = None,
                 department: str | None = None, display_name: str = "") -> User:
        check_new_user(name, role, region, department)
        check_password(password)
        if self.accounts.get(name) is not None:
            raise AccountError(f"there is already a user {name}")
        key, principal = self.keys.create(role, region=region, department=department, person=name,
                                          label=f"portal: {display_name or name}", valid_regions=self.valid_regions)
        user = User(name, role, region, department, display_name, key_id=principal.key_id,
                    password_hash=self.passwords.hash(password), key_sealed=self.sealer.seal(key))
        if not self.accounts.add(user, self.clock.now()):
            self.keys.revoke(principal.key_id)
            raise AccountError(f"there is already a user {name}")
        return user

    def disable_user(self, name: str) -> User:
        """Signed out everywhere, unable to sign in, and the person's API key revoked."""
        user = self._existing(name)
        self.accounts.disable(name, self.clock.now())
        self.keys.revoke(user.key_id)
        return user

    def reset_password(self, name: str, password: str) -> User:
        check_password(password)
        user = self._existing(name)
        self.accounts.set_password(name, self.passwords.hash(password))
        return user

    def _existing(self, name: str) -> User:
        user = self.accounts.get(name)
        if user is None:
            raise AccountError(f"no user {name}")
        return user

    # -- people --------------------------------------------------------------------------------
    def sign_in(self, name: str, password: str) -> SignIn:
        now = self.clock.now()
        user = self.accounts.get(name.strip().lower())
        if user is not None:
            wait = wait_before_attempt(user, now)
            if wait > timedelta(0):
                return SignIn(wait=wait, locked=user.locked_until is not None and now < user.locked_until)
        if not self.passwords.verify(user.password_hash if user else None, password) or user is None:
            if user is not None:
                self.accounts.record_attempt(after_failure(user, now))
            return SignIn()
        if user.disabled:
            return SignIn()
        if user.failures:
            self.accounts.record_attempt(replace(user, failures=0, last_failure_at=None, locked_until=None))
        self.accounts.end_sessions_before(now)  # housekeeping: rows of sessions long expired
        token = secrets.token_urlsafe(32)
        self.accounts.open_session(token_hash(token), user.name, now, now + self.lifetime)
        return SignIn(token=token, user=user)

    def session_user(self, token: str | None) -> tuple[User, str] | None:
        """Who a session token stands for, and their API key; None once it has ended, expired
        (idle or absolute) or its person is disabled."""
        if not token:
            return None
        hashed = token_hash(token)
        found = self.accounts.session(hashed)
        if found is None:
            return None
        name, seen_at, expires_at = found
        now = self.clock.now()
        if now >= expires_at or now - seen_at >= self.idle:
            self.accounts.end_session(hashed)
            return None
        user = self.accounts.get(name)
        key = self.sealer.open(user.key_sealed) if user is not None and not user.disabled else None
        if key is None:
            return None
        if now - seen_at >= timedelta(minutes=1):  # one write a minute per session, not one per page
            self.accounts.touch_session(hashed, now)
        return user, key

    def sign_out(self, token: str | None) -> None:
        if token:
            self.accounts.end_session(token_hash(token))
