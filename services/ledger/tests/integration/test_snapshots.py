"""Snapshots of the projections (services/ledger/snapshots.py): taken from the stored rows at
positions along the log, each holds what a replay of the log gives there; a snapshot of rows
that were tampered with is named by ``verify``, on SQLite and PostgreSQL."""
from __future__ import annotations


from shared.db import write_tx

from services.ledger import snapshots
from services.ledger.adapters.tables import items
from services.ledger.audit import AsOf, replay_database

from ..builders import decision_message, elimination_message, report_message


def test_snapshots_along_the_log_hold_the_replays_digest_and_a_tampered_one_is_named(writer, repo):
    taken = []
    for step in ([report_message("410100", entries=3)], [report_message("410200", zero=True)],
                 [elimination_message("410100-2016-2-1"), decision_message("410100-2016-2-1")]):
        writer.record(step)
        taken.append(snapshots.take(repo.engine))
    assert snapshots.take(repo.engine) is None  # nothing new since the last one
    assert [s.seq for s in snapshots.listed(repo.engine)] == [s.seq for s in taken] == [2, 3, 5]
    assert all(s.digest == replay_database(repo, AsOf(seq=s.seq)).state.digest() for s in taken)
    assert snapshots.verify(repo.engine) == {"ok": True, "checked": 3, "first_bad": None}

    writer.record([report_message("410300", entries=1)])
    with write_tx(repo.engine) as conn:  # an insider marks a live item verified behind the writer's back
        conn.execute(items.update().where(items.c.item_id == "410100-2016-2-2", items.c.valid_to.is_(None))
                     .values(status="verified"))
    forged = snapshots.take(repo.engine)
    verdict = snapshots.verify(repo.engine)
    assert (verdict["ok"], verdict["checked"], verdict["first_bad"]["seq"]) == (False, 3, forged.seq)
    assert verdict["first_bad"]["stored"] == forged.digest != verdict["first_bad"]["replayed"]
    assert snapshots.drop(repo.engine) == 4 and snapshots.listed(repo.engine) == []
