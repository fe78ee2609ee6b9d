"""Secrets among the settings: read from a file (``<NAME>_FILE``, as compose ``secrets:`` mount
them) or the variable itself, put into connection URLs, and refused in production when they are
placeholders or well-known defaults.

A secret file holds the value alone; one trailing line break is not part of it. Setting both
``NAME`` and ``NAME_FILE`` is refused: which one wins would be a guess.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping
from urllib.parse import quote, unquote, urlsplit, urlunsplit

#: Passwords that ship with images, examples and tutorials: refused in production.
DEFAULT_PASSWORDS = frozenset({
    "", "zeroclear", "guest", "postgres", "password", "passw0rd", "secret", "changeme", "change-me", "admin",
    "rabbitmq", "root", "example", "test", "replace-me",
})
#: The placeholder of deploy/env.example and anything shaped like it.
PLACEHOLDER_MARKERS = ("replace-me", "change-me", "changeme", "placeholder", "example")
MIN_SERVICE_KEY = 32
MIN_PASSWORD = 12


class SecretError(ValueError):
    """A secret setting that cannot be used; the message names the variable (never the value)."""


def read_secret(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """``(where, value)`` of ``name`` from ``name`` or the file named by ``name_FILE``; None if neither."""
    file_name = f"{name}_FILE"
    if name in env and file_name in env:
        raise SecretError(f"both {name} and {file_name} are set: set one of them")
    if file_name in env:
        path = Path(env[file_name])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise SecretError(f"{file_name}: cannot read {path} ({error.strerror or error})") from None
        except UnicodeDecodeError:
            raise SecretError(f"{file_name}: {path} is not UTF-8 text") from None
        return f"{file_name} ({path})", text[:-1] if text.endswith("\n") else text
    if name in env:
        return name, env[name]
    return None


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` put in, unless the URL already carries one (or has no user)."""
    if not password or "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is not None or not parts.username:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def credentials(url: str) -> tuple[str | None, str | None]:
    parts = urlsplit(url)
    return (unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password is not None else None)


def production_problems(values: Mapping[str, object], origins: Mapping[str, str]) -> list[str]:
    """What production refuses among the settings: each problem names its variable."""
    problems = []
    key = values.get("service_key")
    if isinstance(key, str) and key:
        if _placeholder(key) or len(key) < MIN_SERVICE_KEY:
            problems.append(f"{origins.get('service_key', 'ZEROCLEAR_SERVICE_KEY')} is a placeholder or shorter than "
                            f"{MIN_SERVICE_KEY} characters: use a fresh random secret")
    for field in ("database_url", "auth_database_url", "broker_url"):
        url = str(values.get(field) or "")
        scheme = url.partition("://")[0]
        if not scheme.startswith(("postgres", "amqp")):
            continue
        user, password = credentials(url)
        if scheme.startswith("amqp") and user is None:
            user, password = "guest", "guest"  # what an AMQP client sends when the URL names nobody
        weak = password is not None and (password.lower() in DEFAULT_PASSWORDS or _placeholder(password)
                                         or len(password) < MIN_PASSWORD)
        if weak or user == "guest":
            problems.append(f"{origins.get(field, field)} uses a default or weak password (user {user}): give it its "
                            f"own secret of {MIN_PASSWORD}+ characters")
    return problems


def _placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)
