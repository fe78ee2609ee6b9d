"""``zeroclear ledger signing-key``: a new key file, its rotation keeping the retired verifier key,
and a ledger on that file whose checkpoints signed before the rotation still open with the keys it
publishes after."""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from services.ledger.checkpoints import load_key_file, new_key_file, rotate_key_file
from services.ledger.domain import ed25519
from services.ledger.domain.merkle import verify_consistency
from services.ledger.domain.note import VerifierKey, open_note
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import system_on
from zeroclear.cli import main

from .helpers import recorded


def run(*args):
    unset = {name: None for name in os.environ if name.startswith("ZEROCLEAR_")}
    return CliRunner().invoke(main, ["ledger", "signing-key", *args], env=unset)


def test_init_rotate_show(tmp_path):
    path = tmp_path / "ledger_signing.json"
    made = run("init", str(path), "--origin", "henan.zeroclear")
    assert made.exit_code == 0, made.output
    first = load_key_file(path)
    assert str(first.verifier) in made.output and oct(path.stat().st_mode & 0o777) == "0o600"
    again = run("init", str(path))
    assert again.exit_code != 0 and "rotate" in again.output
    rotated = run("rotate", str(path))
    assert rotated.exit_code == 0 and f"retired, still published: {first.verifier}" in rotated.output
    shown = run("show", str(path)).output.split()
    assert shown[1] == str(first.verifier) and shown[0] != shown[1] and "private" not in " ".join(shown)
    assert run("init", str(tmp_path / "x.json"), "--origin", "a b").exit_code != 0
    (tmp_path / "bad.json").write_text("{}")
    broken = run("show", str(tmp_path / "bad.json"))
    assert broken.exit_code != 0 and "not a ledger signing key file" in broken.output


@pytest.mark.parametrize("backend", ["embedded"])
def test_checkpoints_signed_before_a_rotation_still_verify_after(tmp_path, clock, reference, backend):
    path = tmp_path / "ledger_signing.json"
    new_key_file(path)
    env = {"ZEROCLEAR_LEDGER_SIGNING_KEY_FILE": str(path)}
    with system_on(backend, tmp_path / "one", clock=clock, reference=reference, env=env) as running:
        api = Api(running.urls)
        office, zz = api.as_key(running.keys.create("office")[0]), api.as_key(running.keys.create("region", region="410100")[0])
        recorded(zz, zz.file_report(data.report("410100")))
        old_note = office.post("ledger", "/v1/checkpoints").json()["note"]
    rotate_key_file(path)
    with system_on(backend, tmp_path / "one", clock=clock, reference=reference, env=env) as running:
        api = Api(running.urls)
        office, kf = api.as_key(running.keys.create("office")[0]), api.as_key(running.keys.create("region", region="410200")[0])
        recorded(kf, kf.file_report(data.report("410200", zero=True)))
        published = api.get("ledger", "/v1/checkpoints/keys").json()
        keys = [VerifierKey.parse(text) for text in published["verifier_keys"]]
        assert published["current"] != str(keys[1])
        old = open_note(old_note, keys, ed25519.verify_signature)
        fresh = office.post("ledger", "/v1/checkpoints").json()
        new = open_note(fresh["note"], keys, ed25519.verify_signature)
        assert new.size > old.size
        proof = api.get("ledger", "/v1/proofs/consistency", params={"old": old.size}).json()
        assert verify_consistency(old.size, new.size, old.root, new.root, [bytes.fromhex(p) for p in proof["proof"]])
        with pytest.raises(ValueError):
            open_note(fresh["note"], keys[1:], ed25519.verify_signature)  # the retired key alone does not open a new one
