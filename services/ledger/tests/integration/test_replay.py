"""Replay (SPEC §5): ``zeroclear ledger replay --as-of <seq | ISO time>`` rebuilds the
projections from the log and gives exactly the digest the live state had at that point."""
from __future__ import annotations

import json
from datetime import timedelta, timezone

import pytest

from shared.clock import format_instant

from services.ledger.audit import AsOf, replay_database
from services.ledger.domain.state import LedgerState

from ..builders import AFTER_DEADLINE, report_message
from .support import cli, cli_in_process

HENAN = timezone(timedelta(hours=8))


@pytest.fixture
def history(writer, repo, clock):
    """Append in steps, moving the clock, and note after each step the live position, the time
    and the digest of ``repo.load_state()`` — what replay must reproduce."""
    steps = [
        lambda: writer.record([report_message("410100", entries=2), report_message("410200", zero=True)]),
        lambda: writer.record([report_message("410100", zero=True)]),  # a rejection: same projection
        lambda: writer.record([report_message("410300", entries=2), report_message("419001", zero=True)]),
        lambda: writer.open_year(2018),
        lambda: writer.record([report_message("410400", entries=3, at=AFTER_DEADLINE)]),
    ]
    seen = []
    for number, step in enumerate(steps):
        if number == len(steps) - 1:
            clock.set(AFTER_DEADLINE)
        step()
        live = repo.load_state()
        seen.append((live.seq, clock.now(), live.digest()))
        clock.advance(timedelta(hours=1))
    assert [seq for seq, _, _ in seen] == [3, 4, 6, 7, 8]
    assert seen[0][2] == seen[1][2] and len({digest for _, _, digest in seen}) == 4
    return seen


def replayed(cli_env, *args) -> dict:
    result = cli_in_process(cli_env, "ledger", "replay", "--digest-only", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_replay_as_of_each_seq_gives_the_live_digest_of_that_moment(history, repo, cli_env):
    for seq, _, digest in history:
        assert replay_database(repo, AsOf(seq=seq)).state.digest() == digest
        output = replayed(cli_env, "--as-of", str(seq))
        assert (output["seq"], output["digest"], output["verified"]["ok"]) == (seq, digest, True)


def test_replay_as_of_a_time_gives_the_live_digest_of_that_moment(history, cli_env):
    for seq, instant, digest in history:
        between_steps = (instant + timedelta(minutes=30)).astimezone(HENAN).isoformat()
        output = replayed(cli_env, "--as-of", between_steps)
        assert (output["seq"], output["digest"]) == (seq, digest), between_steps
        exactly_then = replayed(cli_env, "--as-of", format_instant(instant))
        assert (exactly_then["seq"], exactly_then["digest"]) == (seq, digest)


def test_replay_before_the_first_event_is_the_empty_state(history, cli_env):
    output = replayed(cli_env, "--as-of", "2016-10-01T00:00:00+08:00")
    assert (output["seq"], output["digest"]) == (0, LedgerState().digest())


def test_replay_without_as_of_prints_the_live_projection_and_digest(history, repo, cli_env):
    result = cli_in_process(cli_env, "ledger", "replay")
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    live = repo.load_state()
    assert (output["seq"], output["head"], output["digest"]) == (live.seq, live.head, live.digest())
    assert output["projection"] == live.snapshot()


def test_the_replay_command_run_by_an_operator_matches_the_live_digest(history, cli_env):
    seq, instant, digest = history[2]
    by_seq = cli(cli_env, "ledger", "replay", "--as-of", str(seq), "--digest-only")
    by_time = cli(cli_env, "ledger", "replay", "--as-of", instant.astimezone(HENAN).isoformat(), "--digest-only")
    assert by_seq.returncode == by_time.returncode == 0, by_seq.stderr + by_time.stderr
    assert json.loads(by_seq.stdout)["digest"] == json.loads(by_time.stdout)["digest"] == digest


def test_an_as_of_that_is_neither_a_seq_nor_a_time_with_an_offset_is_refused(history, cli_env):
    for bad in ("yesterday", "2016-11-16T00:00:00"):
        result = cli_in_process(cli_env, "ledger", "replay", "--as-of", bad)
        assert result.exit_code == 2
        assert "--as-of" in result.output
