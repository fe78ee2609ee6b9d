"""Signed checkpoints and Merkle proofs through HTTP (issue 17), on SQLite and on PostgreSQL: a
checkpoint's note is a C2SP signed note that the published verifier key opens (with the offline
verifier's own Ed25519), an event's inclusion and a later checkpoint's consistency verify; and an
insider who rewrites a past event and re-chains the log, or truncates it, and rebuilds the tree,
cannot give a consistency proof from a checkpoint an auditor kept. The insider's test starts a system
of its own; the two honest ones share one per backend, each filing for regions of its own."""
from __future__ import annotations

import json

import sqlalchemy as sa

from services.ledger.adapters.merkle_store import leaf_of
from services.ledger.adapters.tables import checkpoints, events, log_head, merkle_nodes
from services.ledger.domain import ed25519
from services.ledger.domain.chain import event_hash, payload_hash
from services.ledger.domain.merkle import verify_consistency, verify_inclusion
from services.ledger.domain.note import VerifierKey, open_note
from shared import canonical
from shared.testing import data

from .helpers import recorded

ZZ, KF, LY, PDS = "410100", "410200", "410300", "410400"


def trusted(api) -> list[VerifierKey]:
    keys = api.get("ledger", "/v1/checkpoints/keys").json()
    return [VerifierKey.parse(text) for text in keys["verifier_keys"]]


def opened(api, found: dict):
    """The checkpoint as the auditor reads it: from the signed note alone."""
    checkpoint = open_note(found["note"], trusted(api), ed25519.verify_signature)
    assert (checkpoint.size, checkpoint.root.hex()) == (found["size"], found["root"])
    return checkpoint


def consistent(api, old) -> bool:
    answer = api.get("ledger", "/v1/proofs/consistency", params={"old": old.size})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    new = opened(api, body["checkpoint"])
    return verify_consistency(old.size, new.size, old.root, new.root, [bytes.fromhex(p) for p in body["proof"]])


def test_checkpoints_are_signed_notes_and_proofs_verify_from_them(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    office = api.as_key(keys("office"))
    zz = api.as_key(keys("region", region=ZZ))
    recorded(zz, zz.file_report(data.report(ZZ)))
    public = api.as_key(None)
    first = opened(public, office.post("ledger", "/v1/checkpoints").json())
    assert first.origin == "zeroclear.ledger" and first.extension("time")

    kf = api.as_key(keys("region", region=KF))
    recorded(kf, kf.file_report(data.report(KF, zero=True)))
    latest = opened(public, office.post("ledger", "/v1/checkpoints").json())
    assert latest.size > first.size and consistent(public, first)

    listed = [c["size"] for c in public.get("ledger", "/v1/checkpoints").json()["checkpoints"]]
    assert listed == sorted(listed) and {first.size, latest.size} <= set(listed)
    for event in office.get("ledger", "/v1/events", params={"after": 0, "limit": 100}).json()["events"]:
        proof = public.get("ledger", "/v1/proofs/inclusion", params={"seq": event["seq"]}).json()
        assert proof["leaf_hash"] == leaf_of(event).hex()  # the leaf is the event as the feed gives it
        assert verify_inclusion(event["seq"] - 1, latest.size, leaf_of(event),
                                [bytes.fromhex(p) for p in proof["proof"]], latest.root)
    refused = public.get("ledger", "/v1/proofs/inclusion", params={"seq": latest.size + 5, "size": latest.size})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "query:seq"
    assert public.get("ledger", "/v1/checkpoints/99999").status_code == 404
    assert public.post("ledger", "/v1/checkpoints").status_code == 401


def _rewrite(engine, seq: int, change) -> None:
    """The insider: change the payload of event ``seq``, re-chain every event after it, fix the
    head, rebuild the Merkle tree from the rewritten log — every stored hash consistent again."""
    from services.ledger.adapters.repository import LedgerRepository

    with engine.begin() as conn:  # the owner of the database drops what keeps the log append-only
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("DROP TRIGGER IF EXISTS events_append_only ON events"))
        else:
            conn.execute(sa.text("DROP TRIGGER IF EXISTS events_no_update"))
        rows = [dict(r) for r in conn.execute(sa.select(events).where(events.c.seq >= seq).order_by(events.c.seq)).mappings()]
        previous = conn.execute(sa.select(events.c.hash).where(events.c.seq == seq - 1)).scalar_one()
        for row in rows:
            if row["seq"] == seq:
                payload = change(json.loads(row["payload"]))
                row["payload"] = canonical.dumps(payload).decode()
                row["payload_hash"] = payload_hash(row["payload"].encode())
            row["prev_hash"] = previous
            row["hash"] = previous = event_hash(row)
            conn.execute(events.update().where(events.c.seq == row["seq"]).values(
                payload=row["payload"], payload_hash=row["payload_hash"], prev_hash=row["prev_hash"], hash=row["hash"]))
        conn.execute(log_head.update().values(hash=previous))
        conn.execute(merkle_nodes.delete())
        conn.execute(checkpoints.delete())
    repo = LedgerRepository(engine)
    repo.ensure_tree()
    assert repo.verify().ok  # the chain alone no longer tells


def test_a_rewritten_and_rechained_log_cannot_prove_it_extends_a_kept_checkpoint(system, api, keys):
    office = api.as_key(keys("office"))
    zz = api.as_key(keys("region", region=ZZ))
    filed = recorded(zz, zz.file_report(data.report(ZZ)))
    kept = opened(api, office.post("ledger", "/v1/checkpoints").json())  # the auditor keeps this note
    assert consistent(api, kept)

    def smaller(payload):
        payload["entries"][0]["capacity"] = "0.5"
        return payload

    ledger = system.services["ledger"]
    _rewrite(ledger.repo.engine, filed["seq"], smaller)
    ledger.writer._state = None  # as the insider restarts the ledger: it loads the rewritten head
    kf = api.as_key(keys("region", region=KF))
    recorded(kf, kf.file_report(data.report(KF, zero=True)))  # the writer goes on on top of it
    assert office.get("ledger", "/v1/verify").json()["ok"] is True
    rewritten = opened(api, office.post("ledger", "/v1/checkpoints").json())  # still signed by the ledger's key
    assert rewritten.size > kept.size
    assert not consistent(api, kept)


def test_a_circular_carries_the_signed_checkpoint_of_its_position(shared_api, shared_keys):
    from .helpers import notify_caught_up as caught_up

    api, keys = shared_api, shared_keys
    office, auditor = api.as_key(keys("office")), api.as_key(keys("auditor"))
    ly = api.as_key(keys("region", region=LY))
    recorded(ly, ly.file_report(data.report(LY, entries=2)))
    position = caught_up(api, office)
    issued = office.post("notify", "/v1/circulars", json={"year": 2016})
    assert issued.status_code == 201, issued.text
    circular_id = issued.json()["circular_id"]
    content = auditor.get("notify", f"/v1/circulars/{circular_id}.json").json()
    witness = opened(api, content["checkpoint"])  # the ledger's signature, read from the circular alone
    assert witness.size == position == content["position"]
    html = auditor.get("notify", f"/v1/circulars/{circular_id}.html").text
    assert content["checkpoint"]["root"] in html and witness.origin in html
    pds = api.as_key(keys("region", region=PDS))
    recorded(pds, pds.file_report(data.report(PDS, zero=True)))
    office.post("ledger", "/v1/checkpoints")
    assert consistent(api, witness)  # whoever kept the circular holds the log to it
