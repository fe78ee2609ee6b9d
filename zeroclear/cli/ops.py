"""Operators' commands for a production deployment: the tip secrets and the broker's users."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import click


def _tips():
    # by name, like the rest of the command line: it may know every service, they not each other
    return importlib.import_module("services.intake.tips.secrets_file")


@click.group("tip-secrets")
def tip_secrets():
    """Intake's tip secrets (signing keys, receipt peppers, contact keys) in the operator's file."""


@tip_secrets.command("init")
@click.argument("file", type=click.Path(dir_okay=False))
def tip_secrets_init(file):
    """Write a new secrets FILE (readable by its owner only); refuses to overwrite one."""
    path = Path(file)
    if path.exists():
        raise click.ClickException(f"{path} exists: rotate it (`zeroclear tip-secrets rotate`) instead")
    module = _tips()
    module.create_file(path)
    module.load_tip_secrets(path, {})  # read back: what was written is usable
    click.echo(f"tip secrets written to {path}; mount it as ZEROCLEAR_INTAKE_TIP_SECRETS_FILE in every intake container")


@tip_secrets.command("rotate")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--only", "kinds", multiple=True, type=click.Choice(["signing_keys", "peppers", "contact_keys"]),
              help="Rotate only this secret (repeatable; default: all three).")
def tip_secrets_rotate(file, kinds):
    """Put a fresh secret first in FILE and keep the old ones, so that receipts, acknowledgements
    and contacts made before stay readable; then recreate the intake containers."""
    module = _tips()
    try:
        counts = module.rotate(Path(file), tuple(kinds) or module.KINDS)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"file": file, "rotated": list(kinds) or list(module.KINDS), "held": counts}))


@click.group("broker")
def broker():
    """The broker's virtual host, users and permissions (RabbitMQ)."""


@broker.command("provision")
@click.option("--management-url", envvar="ZEROCLEAR_BROKER_ADMIN_URL", required=True,
              help="RabbitMQ's management API, e.g. http://rabbitmq:15672 (or ZEROCLEAR_BROKER_ADMIN_URL).")
def broker_provision(management_url):
    """As the operator's user (ZEROCLEAR_BROKER_URL, an administrator), make the vhost, the
    exchanges and each service's own user (ZEROCLEAR_<SERVICE>_BROKER_URL with its password) with
    only the permissions it needs. Idempotent: run it again after changing a password."""
    from shared.broker_admin import ManagementApi, ProvisionError, provision
    from shared.config import BROKER_SERVICES, Settings
    from shared.secret_settings import credentials
    from shared.topology import Topology

    operator = Settings.from_env("cli")
    user, password = credentials(operator.broker_url)
    services = {name: Settings.from_env(name).broker_url for name in BROKER_SERVICES}
    try:
        done = provision(ManagementApi(management_url, user or "guest", password or "guest"), operator.broker_url,
                         services, Topology(operator.topology_prefix))
    except ProvisionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(done, indent=2))


@click.group("agency")
def agency():
    """Agencies that follow the ledger's event stream with broker credentials of their own."""


@agency.command("add")
@click.argument("name")
@click.option("--management-url", envvar="ZEROCLEAR_BROKER_ADMIN_URL",
              help="RabbitMQ's management API, e.g. http://rabbitmq:15672 (or ZEROCLEAR_BROKER_ADMIN_URL).")
@click.option("--rabbitmqctl", "use_ctl", is_flag=True, help="Use rabbitmqctl on this machine instead.")
def agency_add(name, management_url, use_ctl):
    """Make NAME's read-only broker user (agency-NAME, a new password, shown once): it may declare
    and read queues agency.NAME.* bound to the ledger's exchange, and never publish a filing.
    As the operator's user (ZEROCLEAR_BROKER_URL); run again to set a new password."""
    import secrets

    from shared.broker_admin import ManagementApi, ProvisionError, Rabbitmqctl, provision_agency, vhost_of
    from shared.config import Settings
    from shared.secret_settings import credentials
    from shared.topology import Topology

    operator = Settings.from_env("cli")
    if use_ctl:
        admin = Rabbitmqctl()
    elif management_url:
        user, password = credentials(operator.broker_url)
        admin = ManagementApi(management_url, user or "guest", password or "guest")
    else:
        raise click.UsageError("give --management-url (or ZEROCLEAR_BROKER_ADMIN_URL), or --rabbitmqctl")
    password = secrets.token_urlsafe(24)
    try:
        done = provision_agency(admin, vhost_of(operator.broker_url), name, password,
                                Topology(operator.topology_prefix))
    except ProvisionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({**done, "password": password}, indent=2))
