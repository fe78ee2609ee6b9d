"""Anonymous tips (举报) end to end: nothing anywhere — stored rows, log lines, events — holds the
tipster's address, the receipt in clear or the contact in clear; a retry gives the same receipt and
records once; tips are rate-limited per client.

Most tests share one system per backend (``shared_system``): each files its own tips, and each comes
from a loopback address of its own (``shared_api``), for tips are rate-limited per client address.
Three keep a system of their own: the retry test counts the tips on the whole log; the one behind
the portal runs on the embedded backend only; and the inclusion proof's test needs a ledger that
has signed no checkpoint yet, so that the lookup's proof is in the one it signs then (after another
test's lookup, the latest checkpoint would end before its tip). The rotation test starts its own
twice."""
from __future__ import annotations

import http.client
import itertools
import json
import logging
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter

from services.intake.tips import verify_ack
from shared.testing.client import Api

pytestmark = pytest.mark.e2e

#: The tipster's address: a loopback address of its own, so that finding it anywhere can only mean
#: the tipster's address was kept (the services themselves talk over 127.0.0.1).
CLIENT_ADDRESS = "127.0.0.77"
TIP = {"region": "410500", "enterprise": "安阳某铁合金厂", "location": "安阳县某镇", "contact": "tipster@example.org",
       "description": "已关停的矿热炉又偷偷生产"}
#: Each test on the shared system is a client of its own, from these loopback addresses.
_OWN_ADDRESSES = (f"127.0.0.{n}" for n in itertools.count(100))


class _FromAddress(HTTPAdapter):
    """Connects from the local ``address``."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


@pytest.fixture
def shared_api(shared_system) -> Api:
    """The test's client of the shared system, from a loopback address no other test uses: a
    test's tips (and lookups) never spend another's tokens of the per-client rate limit."""
    session = requests.Session()
    session.mount("http://", _FromAddress(next(_OWN_ADDRESSES)))
    return Api(shared_system.urls, session=session)


def every_stored_value(system) -> str:
    """Every row of every table of every service's database (and the keys), as one text."""
    urls = {service.settings.database_url for service in system.services.values()}
    urls.add(system.services["ledger"].settings.auth_database_url)
    texts = []
    for url in urls:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                for table in sa.inspect(conn).get_table_names():
                    for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                        texts.append(repr(tuple(row)))
        finally:
            engine.dispose()
    return "\n".join(texts)


def post_from(address: str, url: str, body: dict) -> tuple[int, dict, dict]:
    """POST ``body`` as JSON to ``url`` from the local ``address`` (status, headers, JSON answer)."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30, source_address=(address, 0))
    try:
        conn.request("POST", where.path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        conn.close()


def test_no_trace_of_the_tipster_is_kept_anywhere(shared_system, shared_api, shared_keys, caplog):
    system, api, keys = shared_system, shared_api, shared_keys
    # An enterprise no other test's tip names: the scan must see this very tip (below).
    tip = {**TIP, "enterprise": "安阳某铁合金厂（二分厂）"}
    caplog.set_level(logging.DEBUG)
    status, headers, answer = post_from(CLIENT_ADDRESS, system.urls["intake"] + "/v1/tips", tip)
    assert status == 201, answer
    receipt, tip_id = answer["receipt"], answer["tip_id"]
    assert headers["Cache-Control"] == "no-store"
    assert len(receipt.replace("-", "")) >= 32 + 3  # TIP prefix + 160 bits in 32 base32 symbols

    # The tip is on the ledger (and verifiable), the tipster is nowhere.
    auditor = api.as_key(keys("auditor"))
    events = auditor.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
    tip_event = next(e for e in events if e["id"] == tip_id)
    assert tip_event["actor"] == "public" and tip_event["payload"]["enterprise"] == tip["enterprise"]
    assert "contact" not in tip_event["payload"]
    stored = every_stored_value(system)
    logged = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    for secret in (receipt, receipt.replace("-", ""), tip["contact"], CLIENT_ADDRESS):
        assert secret not in stored, f"{secret} is stored"
        assert secret not in logged, f"{secret} is logged"
        assert secret not in repr(events)
    assert tip["enterprise"] in stored  # the scan does see the tip itself
    assert api.get("ledger", "/v1/verify").json()["ok"] is True

    # The contact is kept sealed, and only the intake service can open it.
    with sa.create_engine(system.services["intake"].settings.database_url).connect() as conn:
        sealed = conn.execute(sa.text("SELECT contact FROM tips WHERE tip_id = :t"), {"t": tip_id}).scalar()
    assert sealed and system.services["intake"].tips.contacts.open(sealed) == tip["contact"]


def test_the_acknowledgement_proves_the_tips_place_on_the_log(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    answer = api.post("intake", "/v1/tips", json={**TIP, "contact": ""}).json()
    ack, key = answer["acknowledgement"], api.get("intake", "/v1/tips/signing-key").json()
    assert verify_ack(ack, key["public_key"]) and ack["ack"]["key_id"] == key["key_id"]
    event = api.as_key(keys("auditor")).get("ledger", "/v1/events", params={"after": ack["ack"]["seq"] - 1, "limit": 1}).json()
    assert (event["events"][0]["id"], event["events"][0]["hash"]) == (answer["tip_id"], ack["ack"]["hash"])
    forged = {**ack, "ack": {**ack["ack"], "seq": ack["ack"]["seq"] + 1}}
    assert not verify_ack(forged, key["public_key"])
    # Followed later with the receipt alone (in the body, never in a URL).
    followed = api.post("intake", "/v1/tips/lookup", json={"receipt": answer["receipt"]}).json()
    assert followed["status"] == "open" and followed["acknowledgement"] == ack
    assert api.post("intake", "/v1/tips/lookup", json={"receipt": "not a receipt"}).status_code == 404


def test_a_retried_tip_gives_the_same_receipt_and_is_recorded_once(system, api, keys):
    key = "my-tip-2016-11-01-" + "7f3c9a2e5b1d4c6f8a0e2b4d6f8a1c3e"
    headers = {"Idempotency-Key": key}
    first = api.post("intake", "/v1/tips", json=TIP, headers=headers)
    again = api.post("intake", "/v1/tips", json=TIP, headers=headers)
    assert first.status_code == 201 and again.status_code in (201, 202)
    assert (again.json()["tip_id"], again.json()["receipt"]) == (first.json()["tip_id"], first.json()["receipt"])
    events = api.as_key(keys("auditor")).get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
    assert [e["type"] for e in events].count("intake.tip_filed.v1") == 1
    assert key not in every_stored_value(system)


def test_someone_else_using_the_same_key_learns_nothing_and_gets_no_receipt(shared_api):
    """Another client that knows (or guesses) a citizen's key but not the tip: a tip of its own, a
    receipt of its own, never the first citizen's — and nothing says the key was used before."""
    api = shared_api
    headers = {"Idempotency-Key": "6d1f0c2a-9b8e-4f3a-a7c5-0e2d4b6f8a1c"}
    citizen = api.post("intake", "/v1/tips", json=TIP, headers=headers).json()
    other = api.post("intake", "/v1/tips", json={**TIP, "description": "另一件事"}, headers=headers)
    assert other.status_code == 201, other.text
    assert other.json()["tip_id"] != citizen["tip_id"] and other.json()["receipt"] != citizen["receipt"]


@pytest.mark.parametrize("key", ["my-tip", "a" * 31, "short key with spaces but long enough, 40"])
def test_an_anonymous_tips_key_must_be_long_and_random_looking(shared_api, key):
    api = shared_api
    answer = api.post("intake", "/v1/tips", json=TIP, headers={"Idempotency-Key": key})
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["header:Idempotency-Key"]


def test_tips_are_rate_limited_per_client(shared_api):
    api = shared_api
    answers = [api.post("intake", "/v1/tips", json={**TIP, "contact": ""}) for _ in range(8)]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [201] * 5 and 429 in codes
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("backend", ["embedded"])
def test_behind_the_portal_each_citizen_has_a_limit_of_their_own(system, api):
    """Intake trusts the portal's address (loopback, in the embedded mode) to name the citizen in
    X-Forwarded-For, for its limit only (shared/tests/test_forwarded.py: from anyone else the
    header does not count)."""
    def tip(citizen: str):
        return api.post("intake", "/v1/tips", json=TIP, headers={"X-Forwarded-For": citizen})

    codes = [tip("198.51.100.1").status_code for _ in range(6)]
    assert codes[:5] == [201] * 5 and codes[5] == 429
    assert tip("198.51.100.2").status_code == 201  # another citizen behind the same portal


def test_a_bad_tip_names_the_field(shared_api):
    api = shared_api
    answer = api.post("intake", "/v1/tips", json={**TIP, "uscc": "91410500MA000000X0", "region": "999999"})
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"uscc", "region"} <= fields


def test_rotating_the_tip_secrets_keeps_old_receipts_acknowledgements_and_contacts_readable(tmp_path, clock, reference):
    """issue 16.1: `zeroclear tip-secrets rotate` on the operator's file, then a restart."""
    from shared.testing.plugin import system_on

    from .helpers import cli

    secrets_file = tmp_path / "operator" / "tip-secrets.json"
    env = {"ZEROCLEAR_INTAKE_TIP_SECRETS_FILE": str(secrets_file)}
    cli({}, "tip-secrets", "init", str(secrets_file))
    with system_on("embedded", tmp_path, clock=clock, reference=reference, env=env) as system:
        from shared.testing.client import Api

        api = Api(system.urls)
        answer = api.post("intake", "/v1/tips", json=TIP).json()
        old_key = api.get("intake", "/v1/tips/signing-key").json()
        tip_id, receipt, ack = answer["tip_id"], answer["receipt"], answer["acknowledgement"]
        assert ack is not None and verify_ack(ack, old_key["public_key"])
    rotated = json.loads(cli({}, "tip-secrets", "rotate", str(secrets_file)).stdout)
    assert rotated["held"] == {"signing_keys": 2, "peppers": 2, "contact_keys": 2}
    with system_on("embedded", tmp_path, clock=clock, reference=reference, env=env) as system:
        api = Api(system.urls)
        keys = api.get("intake", "/v1/tips/signing-key").json()
        assert keys["key_id"] != old_key["key_id"]
        assert [k["public_key"] for k in keys["previous"]] == [old_key["public_key"]]
        followed = api.post("intake", "/v1/tips/lookup", json={"receipt": receipt})
        assert followed.status_code == 200 and followed.json()["tip_id"] == tip_id  # the old receipt answers
        assert followed.json()["acknowledgement"]["ack"]["key_id"] == keys["key_id"]  # signed anew, with the new key
        previous = {k["key_id"]: k["public_key"] for k in keys["previous"]}
        assert verify_ack(ack, previous[ack["ack"]["key_id"]])  # the tipster's old one still checks
        engine = sa.create_engine(system.services["intake"].settings.database_url)
        with engine.connect() as conn:
            sealed = conn.execute(sa.text("SELECT contact FROM tips WHERE tip_id = :t"), {"t": tip_id}).scalar()
        engine.dispose()
        assert system.services["intake"].tips.contacts.open(sealed) == TIP["contact"]
        fresh = api.post("intake", "/v1/tips", json={**TIP, "contact": ""}).json()
        assert fresh["acknowledgement"]["ack"]["key_id"] == keys["key_id"]
        assert api.post("intake", "/v1/tips/lookup", json={"receipt": fresh["receipt"]}).status_code == 200


def test_a_tipster_can_check_their_tip_is_on_the_log_without_trusting_intake(system, api, keys):
    from services.ledger.domain import ed25519
    from services.ledger.domain.chain import event_hash, header_text
    from services.ledger.domain.merkle import leaf_hash, verify_inclusion
    from services.ledger.domain.note import VerifierKey, open_note

    answer = api.post("intake", "/v1/tips", json={**TIP, "contact": ""}).json()
    followed = api.post("intake", "/v1/tips/lookup", json={"receipt": answer["receipt"]}).json()
    ack, inclusion = followed["acknowledgement"]["ack"], followed["inclusion"]
    header = inclusion["event"]
    assert header["actor"] == ack_actor(header) and "payload" not in header  # nothing of the tip's content
    assert event_hash(header) == header["hash"] == ack["hash"] and header["seq"] == ack["seq"]
    leaf = leaf_hash(header_text(header))
    assert leaf.hex() == inclusion["leaf_hash"]
    keys_published = [VerifierKey.parse(k) for k in api.get("ledger", "/v1/checkpoints/keys").json()["verifier_keys"]]
    checkpoint = open_note(inclusion["checkpoint"]["note"], keys_published, ed25519.verify_signature)
    assert verify_inclusion(header["seq"] - 1, checkpoint.size, leaf, [bytes.fromhex(p) for p in inclusion["proof"]],
                            checkpoint.root)
    forged = {**header, "region": "410200"}
    assert leaf_hash(header_text(forged)) != leaf


def ack_actor(header: dict) -> str:
    """A tip's event is filed by the public, never by a person."""
    assert "/" not in header["actor"] or header["actor"].startswith("public"), header["actor"]
    return header["actor"]
