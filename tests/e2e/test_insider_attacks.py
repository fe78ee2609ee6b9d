"""The insider attacks the hash chain alone let through (issue 17), each caught by the standalone
verifier (the file ``zeroclear ledger verifier`` prints, run alone, standard library only) from a
checkpoint an auditor kept earlier, on SQLite and PostgreSQL: a past event rewritten and the log
re-chained, the log truncated, a fork between two kept checkpoints; while the honest export
verifies against every checkpoint kept, and the export's own signed checkpoint holds."""
from __future__ import annotations

import json
import subprocess
import sys

import sqlalchemy as sa

from services.ledger.adapters.tables import events, log_head
from shared.testing import data

from .helpers import cli, recorded
from .test_checkpoints import _rewrite

ZZ, KF, LY = "410100", "410200", "410300"


def standalone(tmp_path, system) -> list[str]:
    """The verifier as an auditor gets it, in a folder of its own, run in isolated mode."""
    path = tmp_path / "auditor" / "verify_export.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(cli(system.env, "ledger", "verifier").stdout, encoding="utf-8")
    return [sys.executable, "-I", str(path)]


def verified(command, export, key: str, *trusted: str) -> tuple[int, dict]:
    args = [*command, str(export), "--ledger-key", key, *[arg for t in trusted for arg in ("--trusted", t)]]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=export.parent)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout or done.stderr)


def kept(tmp_path, office, name: str) -> str:
    """A checkpoint the auditor keeps: the signed note, in a file of its own."""
    note = office.post("ledger", "/v1/checkpoints").json()["note"]
    path = tmp_path / "auditor" / f"{name}.note"
    path.parent.mkdir(exist_ok=True)
    path.write_text(note, encoding="utf-8")
    return str(path)


def exported(system, tmp_path, name: str):
    path = tmp_path / "auditor" / f"{name}.jsonl"
    cli(system.env, "ledger", "export", str(path))
    return path


def restarted(system) -> None:
    system.services["ledger"].writer._state = None  # the insider restarts the ledger on the rewritten log


def test_rewrite_truncation_and_fork_fail_against_a_kept_checkpoint(system, api, keys, tmp_path):
    office = api.as_key(keys("office"))
    key = api.get("ledger", "/v1/checkpoints/keys").json()["current"]
    command = standalone(tmp_path, system)
    zz, kf, ly = (api.as_key(keys("region", region=r)) for r in (ZZ, KF, LY))
    first = recorded(zz, zz.file_report(data.report(ZZ)))
    early = kept(tmp_path, office, "early")
    middle = recorded(kf, kf.file_report(data.report(KF)))
    later = kept(tmp_path, office, "later")
    recorded(ly, ly.file_report(data.report(LY, zero=True)))

    status, verdict = verified(command, exported(system, tmp_path, "honest"), key, early, later)
    assert status == 0 and verdict["ok"] and verdict["signed"] == "checked" and len(verdict["trusted"]) == 2
    held = ("ledger", "verify", "--trusted", early, "--trusted", later, "--ledger-key", key)
    assert cli(system.env, *held).returncode == 0  # the stored log, held to the same checkpoints

    # One fact for a third party: an event, its inclusion proof and the signed checkpoint, checked offline.
    proof_file = tmp_path / "auditor" / "proof.json"
    proof_file.write_text(cli(system.env, "ledger", "prove", str(middle["seq"])).stdout, encoding="utf-8")
    done = subprocess.run([*command, "--proof", str(proof_file), "--ledger-key", key], capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)["seq"] == middle["seq"], done.stdout + done.stderr
    forged = json.loads(proof_file.read_text(encoding="utf-8"))
    forged["event"]["payload"]["entries"][0]["capacity"] = "0.5"
    proof_file.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([*command, "--proof", str(proof_file), "--ledger-key", key], capture_output=True, text=True)
    assert done.returncode == 1 and "payload" in json.loads(done.stdout)["reason"]

    # A fork between the two kept checkpoints: the event after `early` rewritten, everything re-chained
    # and the tree rebuilt; the ledger signs the new log as readily as the old.
    engine = system.services["ledger"].repo.engine

    def halved(payload):
        payload["entries"][0]["capacity"] = "0.5"
        return payload

    _rewrite(engine, middle["seq"], halved)
    restarted(system)
    status, verdict = verified(command, exported(system, tmp_path, "forked"), key, early, later)
    assert status == 1 and "later.note" in verdict["reason"] and "early.note" not in verdict["reason"], verdict
    refused = cli(system.env, *held, check=False)
    assert refused.returncode == 1 and "later.note" in refused.stderr, refused.stderr
    assert office.get("ledger", "/v1/verify").json()["ok"] is True  # the chain alone does not tell

    # A rewrite before both: the first checkpoint named.
    _rewrite(engine, first["seq"], halved)
    restarted(system)
    status, verdict = verified(command, exported(system, tmp_path, "rewritten"), key, early, later)
    assert status == 1 and "early.note" in verdict["reason"], verdict



def test_a_truncated_log_fails_against_a_kept_checkpoint(system, api, keys, tmp_path):
    office = api.as_key(keys("office"))
    key = api.get("ledger", "/v1/checkpoints/keys").json()["current"]
    command = standalone(tmp_path, system)
    zz, kf = (api.as_key(keys("region", region=r)) for r in (ZZ, KF))
    first = recorded(zz, zz.file_report(data.report(ZZ)))
    recorded(kf, kf.file_report(data.report(KF)))
    kept_note = kept(tmp_path, office, "kept")
    engine = system.services["ledger"].repo.engine
    # The events after the first report deleted, the head and the tree put back.
    with engine.begin() as conn:
        trigger = "DROP TRIGGER IF EXISTS events_no_delete" if conn.dialect.name == "sqlite" else \
            "DROP TRIGGER IF EXISTS events_append_only ON events"
        conn.execute(sa.text(trigger))
        conn.execute(events.delete().where(events.c.seq > first["seq"]))
        last = conn.execute(sa.select(events.c.hash).where(events.c.seq == first["seq"])).scalar_one()
        conn.execute(log_head.update().values(seq=first["seq"], hash=last))
    from services.ledger.adapters.repository import LedgerRepository

    LedgerRepository(engine).ensure_tree()
    restarted(system)
    status, verdict = verified(command, exported(system, tmp_path, "truncated"), key, kept_note)
    assert status == 1 and "truncated" in verdict["reason"] and "kept.note" in verdict["reason"], verdict


def test_an_unsigned_or_resigned_checkpoint_line_fails_with_the_ledgers_key(system, api, keys, tmp_path):
    office = api.as_key(keys("office"))
    key = api.get("ledger", "/v1/checkpoints/keys").json()["current"]
    command = standalone(tmp_path, system)
    zz = api.as_key(keys("region", region=ZZ))
    recorded(zz, zz.file_report(data.report(ZZ)))
    office.post("ledger", "/v1/checkpoints")
    path = exported(system, tmp_path, "honest")
    lines = path.read_text(encoding="utf-8").splitlines()
    trailer = json.loads(lines[-1])

    unsigned = dict(trailer["checkpoint"])
    unsigned.pop("note")
    (tmp_path / "auditor" / "unsigned.jsonl").write_text("\n".join(lines[:-1] + [json.dumps({"checkpoint": unsigned})]))
    status, verdict = verified(command, tmp_path / "auditor" / "unsigned.jsonl", key)
    assert status == 1 and "not signed" in verdict["reason"]

    from services.ledger.checkpoints import SigningKey
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from services.ledger.domain.note import parse_body

    body = parse_body(trailer["checkpoint"]["note"].split("\n\n")[0] + "\n")
    impostor = SigningKey("zeroclear.ledger", Ed25519PrivateKey.generate()).sign(body)  # the right name, another key
    resigned = {**trailer["checkpoint"], "note": impostor}
    (tmp_path / "auditor" / "resigned.jsonl").write_text("\n".join(lines[:-1] + [json.dumps({"checkpoint": resigned})]))
    status, verdict = verified(command, tmp_path / "auditor" / "resigned.jsonl", key)
    assert status == 1 and "does not hold" in verdict["reason"]
