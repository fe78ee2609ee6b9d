"""``zeroclear ledger snapshots list|verify|take|drop`` and ``zeroclear ledger projections
rebuild`` (issue 12), as an operator runs them against a ledger database, on SQLite and
PostgreSQL: a snapshot taken of tampered rows is named by ``verify``; rebuilding the projections
from the log undoes the tampering (``verify --deep`` agrees) and the snapshots verify again."""
from __future__ import annotations

import json

import sqlalchemy as sa

from shared.db import write_tx

from services.ledger.adapters.tables import items

from ..builders import report_message
from .support import cli, record_standard_log, tampering


def _json(done) -> object:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_snapshots_are_listed_taken_verified_and_dropped_from_the_command_line(writer, repo, clock, cli_env):
    record_standard_log(writer, clock)
    head = repo.head()[0]
    assert _json(cli(cli_env, "ledger", "snapshots", "list")) == []
    taken = _json(cli(cli_env, "ledger", "snapshots", "take"))["taken"]
    assert taken["seq"] == head and len(taken["digest"]) == 64
    assert _json(cli(cli_env, "ledger", "snapshots", "take")) == {"taken": None}  # one stands there already
    assert _json(cli(cli_env, "ledger", "snapshots", "list")) == [taken]
    assert _json(cli(cli_env, "ledger", "snapshots", "verify")) == {"ok": True, "checked": 1, "first_bad": None}

    writer.record([report_message("410300", entries=1)])
    with write_tx(repo.engine) as conn:  # a live item marked verified behind the writer's back
        conn.execute(items.update().where(items.c.valid_to.is_(None), items.c.region == "410300").values(status="verified"))
    forged = _json(cli(cli_env, "ledger", "snapshots", "take"))["taken"]
    failed = cli(cli_env, "ledger", "snapshots", "verify")
    assert failed.returncode == 1 and f"at seq {forged['seq']}" in failed.stderr, failed.stderr
    assert json.loads(failed.stdout)["first_bad"]["seq"] == forged["seq"]
    assert cli(cli_env, "ledger", "verify", "--deep").returncode == 1

    rebuilt = _json(cli(cli_env, "ledger", "projections", "rebuild"))
    assert (rebuilt["ok"], rebuilt["count"]) == (True, repo.head()[0])
    assert cli(cli_env, "ledger", "verify", "--deep").returncode == 0
    with repo.engine.connect() as conn:
        assert set(conn.execute(sa.select(items.c.status).where(items.c.region == "410300")).scalars()) != {"verified"}

    refused = cli(cli_env, "ledger", "snapshots", "drop")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert _json(cli(cli_env, "ledger", "snapshots", "drop", "--yes")) == {"dropped": 2}
    assert _json(cli(cli_env, "ledger", "snapshots", "list")) == []
    retaken = _json(cli(cli_env, "ledger", "snapshots", "take"))["taken"]
    assert _json(cli(cli_env, "ledger", "snapshots", "verify"))["ok"] and retaken["seq"] == repo.head()[0]


def test_projections_are_not_rebuilt_from_a_log_that_does_not_verify(writer, repo, clock, cli_env):
    record_standard_log(writer, clock)
    with repo.engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one()
    with tampering(repo.engine) as conn:
        conn.exec_driver_sql("UPDATE events SET actor = 'office/forger' WHERE seq = 3")
    done = cli(cli_env, "ledger", "projections", "rebuild")
    assert done.returncode == 1 and "does not verify at seq 3" in done.stderr, done.stderr
    with repo.engine.connect() as conn:  # left as they were, not emptied
        assert conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one() == stored > 0
