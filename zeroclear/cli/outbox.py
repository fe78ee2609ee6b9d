"""``zeroclear outbox``: what each producing service still owes the ledger, and re-driving what stalled.

A message the ledger never answered is sent again a few times, then left *stalled* (see
``shared/outbox.py``): visible here and in its submission's status, never dropped. Once the
cause is mended (a ledger that refused it is fixed, a dead letter inspected), ``redrive`` sends
it again from its first attempt. Each service's outbox has the same shape, so this reads them
by their databases, as an operator's tool, without starting the services.
"""
from __future__ import annotations

import json
import os

import click
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from shared.config import Settings
from shared.db import make_engine, write_tx
from shared.outbox import Outbox, outbox_table

PRODUCERS = ("intake", "assessment", "notify")


def _outbox_of(service: str) -> tuple[Outbox, sa.engine.Engine] | None:
    """The service's outbox, or None where its database does not exist yet (nothing is created)."""
    settings = Settings.from_env(service)
    url = settings.database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and os.path.exists(parsed.database)):
        return None
    engine = make_engine(url, pool_size=1)
    if not sa.inspect(engine).has_table("outbox"):
        engine.dispose()
        return None
    return Outbox(outbox_table(sa.MetaData()), max_attempts=settings.outbox_attempts), engine


@click.group()
def outbox():
    """The producing services' outboxes: counts, stalled messages, re-drive."""


@outbox.command("status")
@click.option("--service", "services", multiple=True, type=click.Choice(PRODUCERS), help="Only these (default: all).")
def outbox_status(services):
    """Per service: messages not yet sent, not yet answered, and stalled (with their ids)."""
    report = {}
    for name in services or PRODUCERS:
        found = _outbox_of(name)
        if found is None:
            report[name] = {"error": "no database yet"}
            continue
        box, engine = found
        with engine.connect() as conn:
            report[name] = {**box.counts(conn), "stalled_messages": box.stalled(conn)}
        engine.dispose()
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


@outbox.command("redrive")
@click.option("--service", "services", multiple=True, type=click.Choice(PRODUCERS), help="Only these (default: all).")
@click.option("--id", "message_ids", multiple=True, help="Only these message (submission) ids.")
def outbox_redrive(services, message_ids):
    """Send stalled messages again from their first attempt (a running relay picks them up)."""
    report = {}
    for name in services or PRODUCERS:
        found = _outbox_of(name)
        if found is None:
            continue
        box, engine = found
        with write_tx(engine) as conn:
            report[name] = box.redrive(conn, message_ids or None)
        engine.dispose()
    click.echo(json.dumps({"redriven": report}, ensure_ascii=False))
