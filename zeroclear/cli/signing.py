"""``zeroclear ledger signing-key``: the key the ledger signs its checkpoints with (issue 17)."""
from __future__ import annotations

import importlib
from pathlib import Path

import click


def _checkpoints():
    # by name, like the rest of the command line: it may know every service, they not each other
    return importlib.import_module("services.ledger.checkpoints")


@click.group("signing-key")
def signing_key():
    """The ledger's checkpoint signing key file (ZEROCLEAR_LEDGER_SIGNING_KEY_FILE)."""


@signing_key.command("init")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--origin", default="zeroclear.ledger", show_default=True,
              help="The log's name: the first line of each checkpoint, and the key's name.")
def init(file, origin):
    """Write a new key FILE (readable by its owner only); refuses to overwrite one."""
    path = Path(file)
    if path.exists():
        raise click.ClickException(f"{path} exists: rotate it (`zeroclear ledger signing-key rotate`) instead")
    if not origin or any(c in origin for c in "+ \n") or not origin.isprintable():
        raise click.ClickException("--origin: a name without spaces or '+'")
    key = _checkpoints().new_key_file(path, origin)
    click.echo(f"written to {path}; its verifier key (publish it): {key.verifier}")


@signing_key.command("rotate")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
def rotate(file):
    """A new key in FILE; the old one's verifier key stays in it, retired, so the checkpoints it
    signed keep verifying. Restart the ledger's processes after."""
    module = _checkpoints()
    try:
        key = module.rotate_key_file(Path(file))
    except module.SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"the new verifier key (publish it): {key.verifier}")
    for retired in key.retired:
        click.echo(f"retired, still published: {retired}")


@signing_key.command("show")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
def show(file):
    """Print the verifier keys of FILE: the current one first (never the private key)."""
    module = _checkpoints()
    try:
        key = module.load_key_file(Path(file))
    except module.SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None
    for verifier in key.verifiers():
        click.echo(str(verifier))
