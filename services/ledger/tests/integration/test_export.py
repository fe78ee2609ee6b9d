"""Export for auditors: ``zeroclear ledger export`` writes JSON Lines and a checkpoint; the
standalone verifier (``python -I -S verify_export.py``, standard library only) accepts it
intact and names the first bad seq of an edited, shortened, reordered or extended file."""
from __future__ import annotations

import json

import pytest

from shared.clock import SettableClock
from shared.db import make_engine
from shared.testing.plugin import CAMPAIGN_START

from services.ledger.adapters.repository import LedgerRepository
from services.ledger.export import export
from services.ledger.handlers import LedgerWriter

from .support import cli, cli_in_process, migrate, record_standard_log, standalone_verify


def test_an_export_verifies_offline_and_replays_to_the_live_digest(writer, repo, clock, cli_env, tmp_path):
    recorded = record_standard_log(writer, clock)
    export_file = tmp_path / "ledger.jsonl"

    made = cli(cli_env, "ledger", "export", str(export_file))
    assert made.returncode == 0, made.stderr
    checkpoint = json.loads(made.stdout)
    assert (checkpoint["count"], checkpoint["head"], checkpoint["format"]) == (8, recorded[-1].hash, "zeroclear-ledger-export/1")
    assert "verify_export.py" in made.stderr

    lines = export_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 9 and json.loads(lines[-1]) == {"checkpoint": checkpoint}
    assert [json.loads(line) for line in lines[:-1]] == [e.to_dict() for e in recorded]
    assert "河南省" in lines[1]  # Chinese kept readable

    status, verdict = standalone_verify(export_file)
    assert (status, verdict["ok"], verdict["count"], verdict["head"]) == (0, True, 8, recorded[-1].hash)
    assert verdict["root"] == checkpoint["root"]  # the Merkle tree of the file ends at the checkpoint's root
    replayed = cli_in_process(cli_env, "ledger", "replay", "--from-export", str(export_file), "--digest-only")
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["digest"] == repo.load_state().digest()


def test_the_verifier_printed_by_the_command_line_is_the_standalone_one(cli_env, tmp_path):
    printed = cli_in_process(cli_env, "ledger", "verifier")
    assert printed.exit_code == 0
    from services.ledger.verifier_bundle import standalone_verifier

    assert printed.stdout == standalone_verifier()  # verify_export.py with its standard-library modules written in
    allowed = ("__future__", "argparse", "base64", "binascii", "dataclasses", "hashlib", "json", "os", "sys", "typing")
    assert not [line for line in printed.stdout.splitlines()
                if line.startswith(("import ", "from ")) and line.split()[1] not in allowed]


@pytest.fixture
def exported(tmp_path, reference):
    """The standard log on SQLite, exported: (event lines, checkpoint line). The file's contents do
    not depend on the database it came from, so the tampered copies are made from this one."""
    url = f"sqlite:///{tmp_path / 'exported.db'}"
    migrate(url, tmp_path / "data")
    engine = make_engine(url)
    try:
        clock = SettableClock(CAMPAIGN_START)
        repo = LedgerRepository(engine)
        record_standard_log(LedgerWriter(repo, reference, clock), clock)
        path = tmp_path / "ledger.jsonl"
        with open(path, "wb") as out:
            export(repo, out, clock)
    finally:
        engine.dispose()
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[:-1], lines[-1]


def edit_payload(events, checkpoint):
    record = json.loads(events[3])
    record["payload"]["signed_by"] = "李四"
    events[3] = json.dumps(record, ensure_ascii=False)
    return events + [checkpoint]


def edit_field(events, checkpoint):
    record = json.loads(events[5])
    record["recorded_at"] = "2016-11-01T00:00:00.000000Z"
    events[5] = json.dumps(record, ensure_ascii=False)
    return events + [checkpoint]


def delete_line(events, checkpoint):
    del events[2]
    return events + [checkpoint]


def delete_last_event(events, checkpoint):
    return events[:-1] + [checkpoint]


def swap_lines(events, checkpoint):
    events[4], events[5] = events[5], events[4]
    return events + [checkpoint]


def remove_checkpoint(events, checkpoint):
    return events


def data_after_checkpoint(events, checkpoint):
    return events + [checkpoint, events[0]]


def another_head(events, checkpoint):
    record = json.loads(checkpoint)
    record["checkpoint"]["head"] = "0" * 64
    return events + [json.dumps(record)]


@pytest.mark.parametrize("tamper, first_bad_seq, reason", [
    (edit_payload, 4, "line 4: payload does not match its payload_hash"),
    (edit_field, 6, "line 6: event fields do not match its hash"),
    (delete_line, 3, "line 3: expected seq 3, found 4 (an event is missing or out of order)"),
    (delete_last_event, 8, "checkpoint says 8 events, the file holds 7"),
    (swap_lines, 5, "line 5: expected seq 5, found 6 (an event is missing or out of order)"),
    (remove_checkpoint, 9, "no checkpoint line: the export is truncated"),
    (data_after_checkpoint, 9, "line 10: data after the checkpoint"),
    (another_head, 8, "the chain does not end at the checkpoint's head hash"),
], ids=["edited payload", "edited field", "deleted line", "deleted last event", "swapped lines", "removed checkpoint",
        "data after the checkpoint", "checkpoint with another head"])
def test_the_standalone_verifier_names_the_first_bad_seq_of_a_tampered_export(exported, tmp_path, tamper, first_bad_seq, reason):
    events, checkpoint = exported
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(tamper(list(events), checkpoint)) + "\n", encoding="utf-8")

    status, verdict = standalone_verify(tampered)
    assert status == 1
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["reason"]) == (False, first_bad_seq, reason)


def test_the_standalone_verifier_accepts_the_untouched_export(exported, tmp_path):
    events, checkpoint = exported
    intact = tmp_path / "intact.jsonl"
    intact.write_text("\n".join(events + [checkpoint]) + "\n", encoding="utf-8")
    status, verdict = standalone_verify(intact)
    assert (status, verdict["ok"], verdict["count"]) == (0, True, 8)


def test_the_standalone_verifier_exits_2_when_the_file_cannot_be_read(tmp_path):
    status, answer = standalone_verify(tmp_path / "missing.jsonl")
    assert status == 2 and answer["ok"] is False and "missing.jsonl" in answer["error"]


@pytest.mark.parametrize("tamper, first_bad_seq, reason", [
    (None, None, None),
    (edit_payload, 4, "payload does not match its payload_hash"),
    (delete_line, 3, "expected seq 3, found 4 (an event is missing or out of order)"),
    (delete_last_event, 8, "checkpoint says 8 events, the log holds 7"),
    (remove_checkpoint, 9, "no checkpoint line: the export is truncated"),
    (data_after_checkpoint, 9, "line 10: data after the checkpoint"),
    (another_head, 8, "head hash differs from the checkpoint"),
], ids=["untouched", "edited payload", "deleted line", "deleted last event", "removed checkpoint",
        "data after the checkpoint", "checkpoint with another head"])
def test_a_whole_export_replays_only_if_it_ends_at_its_checkpoint(exported, cli_env, tmp_path, tamper, first_bad_seq,
                                                                   reason):
    """``zeroclear ledger replay --from-export`` without ``--as-of`` holds the end of the chain
    against the checkpoint line as the standalone verifier does (exit status 1 otherwise)."""
    events, checkpoint = exported
    lines = tamper(list(events), checkpoint) if tamper is not None else [*events, checkpoint]
    export_file = tmp_path / "replayed.jsonl"
    export_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    replayed = cli_in_process(cli_env, "ledger", "replay", "--from-export", str(export_file), "--digest-only")
    verdict = json.loads(replayed.stdout)["verified"]
    if tamper is None:
        assert (replayed.exit_code, verdict["ok"], verdict["count"]) == (0, True, 8)
    else:
        assert replayed.exit_code == 1
        assert (verdict["ok"], verdict["first_bad_seq"], verdict["reason"]) == (False, first_bad_seq, reason)


def _rehashed_from(events: list[str], checkpoint: str, index: int, change) -> list[str]:
    """A forgery an auditor's tools must still read without a traceback: event ``index`` changed,
    and every hash from it on (and the checkpoint's head) recomputed, so the chain verifies."""
    from shared import canonical

    from services.ledger.domain.chain import event_hash, payload_hash

    records = [json.loads(line) for line in events]
    change(records[index])
    for position in range(index, len(records)):
        record = records[position]
        record["payload_hash"] = payload_hash(canonical.dumps(record["payload"]))
        if position > index:
            record["prev_hash"] = records[position - 1]["hash"]
        record["hash"] = event_hash(record)
    trailer = json.loads(checkpoint)
    trailer["checkpoint"]["head"] = records[-1]["hash"]
    for signed in ("root", "note"):  # what the forger cannot make again without the ledger's key: left out
        trailer["checkpoint"].pop(signed, None)
    return [json.dumps(r, ensure_ascii=False) for r in records] + [json.dumps(trailer)]


def _report_filed(events: list[str]) -> int:
    return next(i for i, line in enumerate(events) if json.loads(line)["type"] == "intake.report_filed.v1")


#: (lines, whether the export verifies, the first bad seq if not) — one verdict for every reader.
FORMAT_CASES = {
    "leading blank line": (lambda e, c: ["", *e, c], True, None),
    "trailing blank lines": (lambda e, c: [*e, c, "", "  "], True, None),
    "blank line between events": (lambda e, c: [*e[:3], " \t", *e[3:], c], True, None),
    "checkpoint key inside an event": (
        lambda e, c: [*e[:2], json.dumps({**json.loads(e[2]), "checkpoint": json.loads(c)["checkpoint"]}), *e[3:], c],
        True, None),
    "event lacking a recorded field": (
        lambda e, c: [*e[:2], json.dumps({k: v for k, v in json.loads(e[2]).items() if k != "actor"}), *e[3:], c],
        False, 3),
    "a second checkpoint before the end": (lambda e, c: [*e[:4], c, *e[4:], c], False, 5),
    "a JSON array": (lambda e, c: [*e[:4], "[1, 2]", *e[4:], c], False, 5),
}


@pytest.mark.parametrize("case", FORMAT_CASES)
def test_the_verifier_replay_and_assess_read_an_export_alike(exported, cli_env, tmp_path, case):
    """One reading of the format (``verify_export.export_lines``): the same verdict from the
    standalone verifier, ``ledger replay --from-export`` and ``assess --from-export``, never a
    traceback; a broken file is one line and exit status 1."""
    make, ok, first_bad = FORMAT_CASES[case]
    events, checkpoint = exported
    path = tmp_path / "case.jsonl"
    path.write_text("\n".join(make(list(events), checkpoint)) + "\n", encoding="utf-8")

    status, verdict = standalone_verify(path)
    assert (status, verdict["ok"], verdict.get("first_bad_seq")) == (0 if ok else 1, ok, first_bad), verdict
    replayed = cli(cli_env, "ledger", "replay", "--from-export", str(path), "--digest-only")
    assert "Traceback" not in replayed.stderr and replayed.returncode == (0 if ok else 1), replayed.stderr
    summary = json.loads(replayed.stdout)["verified"]
    assert (summary["ok"], summary.get("first_bad_seq")) == (ok, first_bad)
    assessed = cli(cli_env, "assess", "--year", "2016", "--from-export", str(path))
    assert "Traceback" not in assessed.stderr and assessed.returncode == (0 if ok else 1), assessed.stderr
    if not ok:
        assert assessed.stdout == "" and len(assessed.stderr.strip().splitlines()) == 1
        assert f"first bad seq {first_bad} " in assessed.stderr


def test_a_rehashed_event_without_its_submission_id_is_one_line_from_every_reader(exported, cli_env, tmp_path):
    """Its chain verifies (the standalone verifier checks integrity, and says so); replay and
    assess cannot fold a payload the ledger never records, and say which event, in one line."""
    events, checkpoint = exported
    index = _report_filed(events)
    path = tmp_path / "forged.jsonl"
    lines = _rehashed_from(list(events), checkpoint, index, lambda r: r["payload"].pop("submission_id"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    status, verdict = standalone_verify(path)
    assert (status, verdict["ok"]) == (0, True)
    seq = json.loads(events[index])["seq"]
    for command in (("ledger", "replay", "--from-export", str(path), "--digest-only"),
                    ("assess", "--year", "2016", "--from-export", str(path))):
        done = cli(cli_env, *command)
        assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and f"seq {seq}:" in done.stderr, done.stderr
