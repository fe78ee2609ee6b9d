#!/usr/bin/env python3
"""Make the secret files docker-compose.yml mounts (``secrets:``), with nothing but Python:

    python3 deploy/make-secrets.py            # into ./secrets, beside docker-compose.yml

Each file holds one fresh random value (the tip secrets file: the three tip secrets, and the
broker's admin file: RabbitMQ's config lines for its operator user). A file that exists is kept,
so running it again only adds what is missing; to change one, see the README (operators:
secrets). The folder is private to its owner (0700); the files in it are world-readable (0644)
because each is mounted alone into containers that run as other users (the app's 10001,
postgres, rabbitmq), and only the containers that need a secret mount it.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from pathlib import Path

SERVICES = ("ledger", "intake", "assessment", "notify")
ADMIN_USER = "zeroclear-admin"


def token() -> str:
    return secrets.token_urlsafe(32)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def tip_secrets() -> str:
    """The tip secrets file (version 2): an Ed25519 private key is any 32 random bytes, a Fernet
    key is 32 random bytes in base64url."""
    document = {"version": 2, "signing_keys": [b64url(secrets.token_bytes(32))],
                "peppers": [b64url(secrets.token_bytes(32))],
                "contact_keys": [base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")]}
    return json.dumps(document, indent=2) + "\n"


def ledger_signing() -> str:
    """The ledger's checkpoint signing key: an Ed25519 private key is any 32 random bytes."""
    document = {"origin": "zeroclear.ledger", "private_key": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
                "retired": []}
    return json.dumps(document, indent=2) + "\n"


def wanted() -> dict[str, object]:
    files: dict[str, object] = {
        "service_key": token,
        "postgres_password": token,  # the database server's superuser (operator's backups, over its socket)
        "db_owner_password": token,  # owns every database: migrations and the operator's commands
        "amqp_admin_password": token,  # the broker's operator user (an administrator)
        "tip_secrets.json": tip_secrets,
        "ledger_signing.json": ledger_signing,  # signs the log's checkpoints; rotate: zeroclear ledger signing-key rotate
        "smtp_password": lambda: "",  # fill in if the SMTP server wants a login
        "grafana_admin_password": token,  # the monitoring profile's Grafana (user admin)
        "portal_secret": token,  # seals each person's API key and signs the portal's cookies
        "db_portal_password": token,  # the portal's own database (people and sessions); it has no broker user
    }
    for service in SERVICES:
        files[f"db_{service}_password"] = token
        files[f"amqp_{service}_password"] = token
    return files


def write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o644)


def main(folder: Path) -> int:
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    made = []
    for name, make in wanted().items():
        path = folder / name
        if not path.exists():
            write(path, make())
            made.append(name)
    admin = folder / "rabbitmq_admin.conf"  # RabbitMQ reads its operator user from a conf.d file
    password = (folder / "amqp_admin_password").read_text(encoding="utf-8").strip()
    text = f"default_user = {ADMIN_USER}\ndefault_pass = {password}\n"
    if not admin.exists() or admin.read_text(encoding="utf-8") != text:
        admin.unlink(missing_ok=True)
        write(admin, text)
        made.append(admin.name)
    print(f"{folder}: {'made ' + ', '.join(made) if made else 'every secret already there'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "secrets")))
