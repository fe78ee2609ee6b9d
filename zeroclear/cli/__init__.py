"""``zeroclear``: run the system, manage keys, and audit the ledger from the command line.

The ``main`` group and its global options are here; each command group lives in a module of its
own (``system``: run, serve, worker, migrate, topology; ``keys``; ``clock``; ``circular``;
``ledger``; ``assess`` and ``assessment``; ``outbox``; ``ops``), and the portal's ``users`` in the portal.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import click

from . import assess, circular, clock, keys, ledger, ops, outbox, system
from .common import configure_logging


class _Group(click.Group):
    """Unusable settings end the command with one line naming the variable, not a traceback."""

    def invoke(self, ctx):
        from shared.config import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group)
@click.option("--data-dir", type=click.Path(file_okay=False), envvar="ZEROCLEAR_DATA_DIR",
              help="Folder of the embedded mode's SQLite files and keys (default ~/.local/share/zeroclear).")
@click.option("--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"]))
def main(data_dir, log_level):
    """zeroclear: the verifiable ledger of the zero-clearance campaign (清零行动)."""
    _use_data_dir(data_dir)
    configure_logging(log_level)


def _use_data_dir(data_dir) -> None:
    if data_dir:
        os.environ["ZEROCLEAR_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())


def _data_dir_option() -> click.Option:
    """``--data-dir`` after any command or group too (``zeroclear ledger verify --data-dir X``):
    the last one given wins, as its callback runs after the group's."""
    return click.Option(["--data-dir"], type=click.Path(file_okay=False), expose_value=False,
                        callback=lambda _ctx, _param, value: _use_data_dir(value),
                        help="Folder of the embedded mode's SQLite files and keys (as the global --data-dir).")


def _data_dir_everywhere(group: click.Group) -> None:
    for command in group.commands.values():
        if not any(param.name == "data_dir" for param in command.params):
            command.params.append(_data_dir_option())
        if isinstance(command, click.Group):
            _data_dir_everywhere(command)


def _register_commands() -> None:
    """Every command group under ``main`` (the portal's by name, like the runner: the command line
    may know every service, the services not each other)."""
    for command in (system.run, system.serve, system.worker, system.migrate, system.topology, keys.keys,
                    clock.clock, circular.circular, ledger.ledger, assess.assess, assess.assessment, outbox.outbox,
                    ops.tip_secrets, ops.broker, ops.agency):
        main.add_command(command)
    main.add_command(importlib.import_module("services.portal.entrypoints.cli").users)


_register_commands()
_data_dir_everywhere(main)
