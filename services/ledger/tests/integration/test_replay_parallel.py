"""Replay on two cores (``replay_parallel``): a worker process reads and verifies the log — an
export file, or the database through its own connection — and streams the verified events in
batches to the process that folds them. Whatever the log holds, the answer is the reference
replay's: the same verdict (first bad seq, reason, last good count and head), the same state, or
the same error; tampering is found in the first batch, the last, and on both sides of a batch
boundary."""
from __future__ import annotations

import os

import orjson
import pytest
import sqlalchemy as sa

from shared.clock import SettableClock
from shared.testing.plugin import CAMPAIGN_START

from services.ledger import replay_parallel
from services.ledger.adapters.tables import events
from services.ledger.audit import AsOf, export_records, replay_database, replay_records
from services.ledger.export import export
from services.ledger.replay_parallel import replay_database_rows, replay_export_file

from ..reference_replay import outcome, reference_export_records, reference_replay
from ..unit.test_replay_fast import TAMPERINGS, export_lines, mixed_log
from .support import record_standard_log, tampering
from .test_tampering import TAMPERINGS as DATABASE_TAMPERINGS

BATCH = 7  # small batches: many batch boundaries in a small log


@pytest.fixture(scope="module")
def log():
    from shared.reference import default_reference

    return mixed_log(default_reference())


def write(path, lines: list[bytes]):
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def unpacked(replay) -> tuple:
    return replay.state, replay.verdict


def boundaries(count: int) -> list[int]:
    """The first lines, both sides of the first batch boundaries, the middle and the last."""
    return sorted({1, 2, BATCH - 1, BATCH, BATCH + 1, 2 * BATCH, 2 * BATCH + 1, count // 2, count - 1, count})


def test_an_intact_export_replays_on_two_cores_to_the_live_state(log, tmp_path):
    live, sealed = log
    path = write(tmp_path / "log.jsonl", export_lines(sealed))
    expected = outcome(lambda: reference_replay(reference_export_records(open(path, "rb"))))
    assert expected[1] == live and expected[0]["ok"]
    for batch in (BATCH, 1, 1000):
        assert outcome(lambda: replay_export_file(str(path), parallel=True, batch=batch)) == expected


@pytest.mark.parametrize("tamper", TAMPERINGS)
def test_a_tampered_export_replays_on_two_cores_as_the_reference_does(log, tmp_path, tamper):
    _, sealed = log
    for k in boundaries(len(sealed)):
        path = write(tmp_path / f"{tamper.__name__}-{k}.jsonl", tamper(export_lines(sealed), k))
        expected = outcome(lambda: reference_replay(reference_export_records(open(path, "rb"))))
        got = outcome(lambda: replay_export_file(str(path), parallel=True, batch=BATCH))
        assert got == expected, (tamper.__name__, k)


def test_the_first_bad_event_is_named_in_every_batch_and_on_both_sides_of_each_boundary(log, tmp_path):
    _, sealed = log
    # each batch's first, second and last line (so both sides of every boundary) and the log's last
    positions = [k for k in range(1, len(sealed) + 1) if (k - 1) % BATCH in (0, 1, BATCH - 1) or k == len(sealed)]
    assert len(positions) > 3 * (len(sealed) // BATCH) - 1
    for k in positions:
        lines = export_lines(sealed)
        record = orjson.loads(lines[k - 1])
        record["payload"]["zz_added"] = k
        lines[k - 1] = orjson.dumps(record)
        state, verdict = replay_export_file(str(write(tmp_path / "one.jsonl", lines)), parallel=True, batch=BATCH)
        assert (verdict.ok, verdict.first_bad_seq, verdict.count, verdict.head) == (
            False, k, k - 1, sealed[k - 2].event.hash if k > 1 else "0" * 64)
        assert verdict.reason == "payload does not match its payload_hash"
        assert state.seq == k - 1


def test_as_of_cuts_the_replay_on_two_cores_where_the_reference_does(log, tmp_path):
    _, sealed = log
    path = write(tmp_path / "log.jsonl", export_lines(sealed))
    times = sorted({s.event.recorded_at for s in sealed})
    for as_of in [AsOf(seq=n) for n in (0, 1, BATCH, BATCH + 1, len(sealed))] + [AsOf(recorded_at=t) for t in times]:
        expected = outcome(lambda: reference_replay(reference_export_records(open(path, "rb")), as_of))
        assert outcome(lambda: replay_export_file(str(path), 0, as_of, parallel=True, batch=BATCH)) == expected


def test_replay_records_takes_an_export_file_to_the_worker_from_where_it_is_read(log, tmp_path, monkeypatch):
    _, sealed = log
    path = write(tmp_path / "log.jsonl", export_lines(sealed))
    monkeypatch.setattr(replay_parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(replay_parallel, "cpus", lambda: 2)
    used = []
    monkeypatch.setattr(replay_parallel, "_pipeline", lambda *a, _real=replay_parallel._pipeline: used.append(1) or _real(*a))
    with open(path, "rb") as handle:
        assert outcome(lambda: unpacked(replay_records(export_records(handle)))) == outcome(
            lambda: reference_replay(reference_export_records(open(path, "rb"))))
    with open(path, "rb") as handle:
        handle.readline()  # a reader that has taken the first line already: the rest is replayed
        rest = outcome(lambda: unpacked(replay_records(export_records(handle))))
    with open(path, "rb") as handle:
        handle.readline()
        assert rest == outcome(lambda: reference_replay(reference_export_records(handle)))
    assert rest[0]["first_bad_seq"] == 1 and used == [1, 1]


def test_a_spawned_worker_gives_the_same_answer(log, tmp_path, monkeypatch):
    """A process that runs other threads spawns its worker instead of forking it."""
    _, sealed = log
    monkeypatch.setattr(replay_parallel, "start_method", lambda: "spawn")
    for k in (BATCH + 1, len(sealed) + 1):
        lines = export_lines(sealed)
        if k <= len(sealed):
            lines = TAMPERINGS[0](lines, k)
        path = write(tmp_path / f"{k}.jsonl", lines)
        expected = outcome(lambda: reference_replay(reference_export_records(open(path, "rb"))))
        assert outcome(lambda: replay_export_file(str(path), parallel=True, batch=BATCH)) == expected


def test_without_a_worker_the_replay_is_done_in_this_process(log, tmp_path, monkeypatch):
    _, sealed = log
    path = write(tmp_path / "log.jsonl", export_lines(sealed))
    expected = outcome(lambda: reference_replay(reference_export_records(open(path, "rb"))))

    def no_process(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(replay_parallel.multiprocessing, "get_context", lambda method: type(
        "Context", (), {"Pipe": staticmethod(os_pipe), "Process": no_process})())
    assert outcome(lambda: replay_export_file(str(path), parallel=True, batch=BATCH)) == expected


def os_pipe(duplex=False):
    import multiprocessing

    return multiprocessing.Pipe(duplex)


def test_a_worker_that_dies_leaves_the_replay_to_this_process(log, tmp_path, monkeypatch):
    _, sealed = log
    path = write(tmp_path / "log.jsonl", export_lines(sealed))
    expected = outcome(lambda: reference_replay(reference_export_records(open(path, "rb"))))
    monkeypatch.setattr(replay_parallel, "start_method", lambda: "fork")

    def dies(sender, *args):
        sender.send_bytes(__import__("marshal").dumps([]))
        os._exit(3)

    monkeypatch.setattr(replay_parallel, "_export_worker", dies)
    assert outcome(lambda: replay_export_file(str(path), parallel=True, batch=BATCH)) == expected


# -- the database ----------------------------------------------------------------------------
def stored_pairs(repo) -> list[tuple[dict, bytes]]:
    """The stored records read as the first replay read them (SQLAlchemy rows, in seq order)."""
    with repo.engine.connect() as conn:
        rows = conn.execute(sa.select(events).order_by(events.c.seq)).mappings().all()
    return [({k: v for k, v in row.items() if k != "payload"}, row["payload"].encode("utf-8")) for row in rows]


@pytest.mark.parametrize("tamper, seq, reason", DATABASE_TAMPERINGS)
def test_a_tampered_database_replays_as_the_reference_does(writer, repo, clock, tamper, seq, reason):
    record_standard_log(writer, clock)
    with tampering(repo.engine) as conn:
        tamper(conn, seq)
    expected = outcome(lambda: reference_replay(stored_pairs(repo)))
    for parallel in (True, False):
        assert outcome(lambda: replay_database_rows(repo.engine, parallel=parallel, batch=2)) == expected, parallel
    assert outcome(lambda: unpacked(replay_database(repo))) == expected


def test_an_intact_database_replays_to_the_live_state_on_two_cores(writer, repo, clock):
    record_standard_log(writer, clock)
    live = repo.load_state()
    for as_of in (AsOf(), AsOf(seq=3), AsOf(seq=100)):
        expected = outcome(lambda: reference_replay(stored_pairs(repo), as_of))
        assert outcome(lambda: replay_database_rows(repo.engine, as_of, parallel=True, batch=2)) == expected
    state, verdict = replay_database_rows(repo.engine, parallel=True, batch=2)
    assert verdict.ok and state.digest() == live.digest() and (state.seq, state.head) == (live.seq, live.head)


def test_the_database_is_replayed_on_two_cores_only_with_enough_events_to_pay_for_the_worker(
        writer, repo, clock, monkeypatch):
    record_standard_log(writer, clock)
    head = repo.head()[0]
    monkeypatch.setattr(replay_parallel, "cpus", lambda: 2)
    used = []
    monkeypatch.setattr(replay_parallel, "_pipeline", lambda *a, _real=replay_parallel._pipeline: used.append(a) or _real(*a))
    live = repo.load_state().digest()
    on_two = repo.engine.dialect.name == "postgresql"
    for least, as_of, worker in ((head + 1, None, False), (head, None, on_two), (3, AsOf(seq=2), False),
                                 (3, AsOf(seq=3), on_two)):
        monkeypatch.setattr(replay_parallel, "MIN_PARALLEL_EVENTS", least)
        used.clear()
        state, verdict = replay_database_rows(repo.engine, as_of)
        assert bool(used) == worker, (least, as_of)
        assert verdict.ok and (state.digest() == live or as_of is not None)


def test_the_export_is_byte_for_byte_what_it_was(writer, repo, clock, tmp_path):
    """Lines written from the stored rows with the payload as a fragment of stored text are the
    lines ``orjson.dumps(event.to_dict())`` wrote."""
    record_standard_log(writer, clock)
    path = tmp_path / "log.jsonl"
    frozen = SettableClock(CAMPAIGN_START)
    with open(path, "wb") as out:
        checkpoint = export(repo, out, frozen)
    lines = path.read_bytes().split(b"\n")
    assert lines[:-2] == [orjson.dumps(event.to_dict()) for event in repo.iter_events()]
    assert orjson.loads(lines[-2]) == {"checkpoint": checkpoint} and lines[-1] == b""
