"""``zeroclear keys``: the API keys agencies and people act with."""
from __future__ import annotations

import click

from shared.config import Settings

from .common import echo_json, existing


@click.group()
def keys():
    """API keys: shown once, stored hashed."""


def _key_store(read_only: bool = False):
    from shared.keys import KeyStore, api_keys, migrate_keys

    settings = Settings.from_env("ledger")
    if read_only:
        return KeyStore(existing(settings.auth_database_url, api_keys.name, "key store"))
    migrate_keys(settings.auth_database_url)
    return KeyStore.from_url(settings.auth_database_url)


@keys.command("add")
@click.option("--role", required=True, type=click.Choice(["region", "department", "office", "auditor"]))
@click.option("--region", help="GB/T 2260 code, for a region key.")
@click.option("--department", type=click.Choice(["industry", "environment", "development", "quality", "safety"]),
              help="For a department key.")
@click.option("--label", default="", help="Who holds it, for the operator's records.")
@click.option("--person", default=None, help="Issue it to a person (a user name): what they file is recorded under them.")
def keys_add(role, region, department, label, person):
    """Create a key and print it once."""
    from shared.keys import KeyRequestError
    from shared.reference import default_reference

    try:
        key, principal = _key_store().create(role, region=region, department=department, label=label,
                                             valid_regions=set(default_reference().regions), person=person)
    except KeyRequestError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(key)
    click.echo(f"key id {principal.key_id}, acting as {principal.actor}. It is shown only this once.", err=True)


@keys.command("list")
def keys_list():
    """List keys (never the keys themselves)."""
    echo_json(_key_store(read_only=True).list())


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id):
    """Revoke a key by its id."""
    if not _key_store().revoke(key_id):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"revoked {key_id}")

