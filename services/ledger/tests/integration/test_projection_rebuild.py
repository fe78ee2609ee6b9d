"""The projections are derived from the log: when their shape changes (``PROJECTION_VERSION``) or
they are lost, the ledger rebuilds them from the log, verified, and they equal a replay — on
SQLite and PostgreSQL."""
from __future__ import annotations

import sqlalchemy as sa

from shared.testing import data

from services.ledger.adapters.repository import PROJECTION_VERSION
from services.ledger.adapters.tables import items, projection_meta, tips
from services.ledger.audit import replay_database

from ..builders import (
    amendment_message, decision_message, elimination_message, list_message, listing, report_message,
    resolution_message, tip_message,
)


def test_projections_of_an_older_shape_are_rebuilt_from_the_log(repo, writer):
    writer.record([report_message("410100", entries=2), report_message("410200", zero=True)])
    item_id = next(iter(repo.load_state().items))
    writer.record([elimination_message(item_id), decision_message(item_id), tip_message("410200", id="t-1"),
                   list_message([listing(), listing(7, region="410200", uscc=data.entry(7, region="410200")["uscc"])])])
    writer.record([resolution_message("t-1", "confirmed", entry=data.entry(7, region="410200")),
                   amendment_message("410100", entries=[data.entry(1)])])
    live = repo.load_state().digest()
    assert repo.ensure_projections() is False  # already of the current shape

    with repo.engine.begin() as conn:  # an older shape, its rows partly gone
        conn.execute(items.delete())
        conn.execute(tips.delete())
        conn.execute(projection_meta.update().values(version=PROJECTION_VERSION - 1))
    assert repo.load_state().digest() != live

    assert repo.ensure_projections() is True
    assert repo.load_state().digest() == live == replay_database(repo).state.digest()
    with repo.engine.connect() as conn:
        assert conn.execute(sa.select(projection_meta.c.version)).scalar_one() == PROJECTION_VERSION
    assert repo.ensure_projections() is False
