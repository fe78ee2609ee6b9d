"""The public verdict (services/ledger/verification.py) on SQLite and PostgreSQL: moved on over the
new events only, never making a request wait while another moves it on."""
from __future__ import annotations

from services.ledger.verification import Verification

from ..builders import report_message


def test_a_request_arriving_while_another_moves_the_verdict_on_gets_the_last_one_at_once(writer, repo, clock):
    writer.record([report_message("410100", entries=1)])
    verification = Verification(repo, clock)
    first = verification.public()
    assert (first.verdict.ok, first.verdict.count, first.scope) == (True, repo.head()[0], "incremental")

    writer.record([report_message("410200", zero=True)])
    with verification._lock:  # another request is moving it on
        assert verification.public() is first
    moved = verification.public()
    assert (moved.verdict.ok, moved.verdict.count, moved.verdict.head) == (True, *repo.head())


def test_the_verdict_is_moved_on_at_most_every_so_many_seconds(writer, repo, clock):
    writer.record([report_message("410100", entries=1)])
    verification = Verification(repo, clock, every_seconds=3600)
    first = verification.public()
    writer.record([report_message("410200", zero=True)])
    assert verification.public() is first
    full = verification.full()
    assert (full.scope, full.verdict.count) == ("full", repo.head()[0])
    assert verification.public() is full
