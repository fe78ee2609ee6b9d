"""Tampering with the stored log directly in the database — behind the append-only triggers —
is found by ``LedgerRepository.verify()`` and by ``zeroclear ledger verify`` (non-zero exit),
both naming the first bad seq; on SQLite and on PostgreSQL."""
from __future__ import annotations

import json

import orjson
import pytest
import sqlalchemy as sa

from shared import canonical

from services.ledger.adapters.tables import events, log_head

from .support import cli, cli_in_process, record_standard_log, tampering


def change_payload(conn, seq):
    stored = conn.execute(sa.select(events.c.payload).where(events.c.seq == seq)).scalar_one()
    payload = orjson.loads(stored)
    payload["signed_by"] = "李四"
    conn.execute(events.update().where(events.c.seq == seq).values(payload=canonical.dumps(payload).decode()))


def change_field(conn, seq):
    conn.execute(events.update().where(events.c.seq == seq).values(occurred_at="2016-11-01T00:00:00.000000Z"))


def delete_row(conn, seq):
    conn.execute(events.delete().where(events.c.seq == seq))


def swap_rows(conn, seq, other=None):
    """Swap the rows at ``seq`` and ``other``: each takes the other's place on the log."""
    other = other or seq + 1
    conn.execute(events.update().where(events.c.seq == seq).values(seq=-1))
    conn.execute(events.update().where(events.c.seq == other).values(seq=seq))
    conn.execute(events.update().where(events.c.seq == -1).values(seq=other))


def swap_distant_rows(conn, seq):
    swap_rows(conn, seq, seq + 3)


TAMPERINGS = [
    (change_payload, 4, "payload does not match its payload_hash"),
    (change_field, 6, "event fields do not match its hash"),
    (delete_row, 3, "expected seq 3, found 4 (an event is missing or out of order)"),
    (delete_row, 8, "checkpoint says 8 events, the log holds 7"),
    (swap_rows, 5, "prev_hash does not match the previous event's hash"),
    (swap_distant_rows, 2, "prev_hash does not match the previous event's hash"),
]


@pytest.mark.parametrize("tamper, seq, reason", TAMPERINGS,
                         ids=["changed payload", "changed field", "deleted row", "deleted last row", "swapped rows",
                              "swapped distant rows"])
def test_tampering_in_the_database_fails_verification_at_the_first_bad_seq(writer, repo, clock, cli_env, tamper, seq, reason):
    record_standard_log(writer, clock)
    assert repo.verify().ok

    with tampering(repo.engine) as conn:
        tamper(conn, seq)

    verdict = repo.verify()
    assert (verdict.ok, verdict.first_bad_seq, verdict.reason) == (False, seq, reason)

    result = cli_in_process(cli_env, "ledger", "verify")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_bad_seq"] == seq
    assert f"ledger verification FAILED at seq {seq}: {reason}" in result.stderr


def test_the_verify_command_run_by_an_operator_exits_non_zero_naming_the_first_bad_seq(writer, repo, clock, cli_env):
    recorded = record_standard_log(writer, clock)
    intact = cli(cli_env, "ledger", "verify")
    assert intact.returncode == 0, intact.stderr
    assert json.loads(intact.stdout) == {"ok": True, "count": 8, "head": recorded[-1].hash}

    with tampering(repo.engine) as conn:
        swap_rows(conn, 6)
    broken = cli(cli_env, "ledger", "verify")
    assert broken.returncode == 1
    assert json.loads(broken.stdout) == {"ok": False, "count": 5, "head": recorded[4].hash, "first_bad_seq": 6,
                                         "reason": "prev_hash does not match the previous event's hash"}
    assert "ledger verification FAILED at seq 6" in broken.stderr


def test_a_head_row_moved_back_to_hide_appended_events_is_caught(writer, repo, clock):
    recorded = record_standard_log(writer, clock)
    with tampering(repo.engine) as conn:
        conn.execute(log_head.update().values(seq=6, hash=recorded[5].hash))
    verdict = repo.verify()
    assert (verdict.ok, verdict.first_bad_seq) == (False, 7)
