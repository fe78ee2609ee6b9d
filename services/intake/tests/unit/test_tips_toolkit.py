"""The tip toolkit without HTTP or database: receipts, signed acknowledgements, sealed contacts,
the secrets file and the forgetful rate limiter."""
from __future__ import annotations

import base64
import copy
import json
import math
import os
import re
import stat
import threading
from collections import Counter

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.intake.tips import (CONTACT_KEYS_VAR, PEPPER_VAR, SIGNING_KEY_VAR, STATEMENT, AckSigner, ContactBox,
                                  ContactUnreadable, MalformedReceipt, RateLimiter, TipSecrets, ack_fields,
                                  load_tip_secrets, new_receipt, normalise_receipt, receipt_hash, receipt_matches,
                                  verify_ack)
from services.intake.tips import receipts as receipts_module
from services.intake.tips.signing import _canonical
from shared.canonical import dumps, reference_dumps

PEPPER = b"p" * 32
RECEIPT_FORM = re.compile(r"TIP(-[0-9A-HJKMNP-TV-Z]{4}){8}")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --- receipts -------------------------------------------------------------------------------------

def test_receipt_form_and_length():
    receipt = new_receipt()
    assert RECEIPT_FORM.fullmatch(receipt), receipt
    assert len(receipt.replace("-", "")) == 3 + 32  # 32 base32 symbols x 5 bits = 160 bits


def test_receipts_are_random_and_use_all_160_bits():
    many = [new_receipt() for _ in range(2000)]
    assert len(set(many)) == len(many)
    bodies = [r.replace("-", "")[3:] for r in many]
    # every position, the first included (its 5 bits are all entropy), takes many symbols
    for position in range(32):
        assert len({body[position] for body in bodies}) > 25
    counts = Counter("".join(bodies))
    assert set(counts) == set(receipts_module.ALPHABET)
    expected = len(bodies) * 32 / 32
    assert all(abs(n - expected) < 6 * math.sqrt(expected) for n in counts.values())


def test_random_bits_come_from_secrets(monkeypatch):
    monkeypatch.setattr(receipts_module.secrets, "randbits", lambda bits: (1 << bits) - 1)
    assert new_receipt() == "TIP-" + "-".join(["ZZZZ"] * 8)
    monkeypatch.setattr(receipts_module.secrets, "randbits", lambda bits: 1)
    assert new_receipt() == "TIP-" + "-".join(["0000"] * 7 + ["0001"])


def test_normalisation_is_idempotent_on_fresh_receipts():
    receipt = new_receipt()
    assert normalise_receipt(receipt) == receipt


@pytest.mark.parametrize("typed", [
    "tip-abcd-efgh-jkmn-pqrs-tvwx-yz01-2345-6789",
    "TIPABCDEFGHJKMNPQRSTVWXYZ0123456789",
    "  TIP ABCD EFGH JKMN PQRS TVWX YZ01 2345 6789 \n",
    "TIP--ABCD-EFGH--JKMN-PQRS-TVWX-YZ01-2345-6789-",
    "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789",  # prefix left out
    "ＴＩＰ－ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ－ＰＱＲＳ－ＴＶＷＸ－ＹＺ０１－２３４５－６７８９",  # full-width (IME)
    "TIP—ABCD—EFGH—JKMN—PQRS—TVWX—YZ01—2345—6789",  # em dashes
    "T1P-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789",
])
def test_normalise_tolerates_case_dashes_spaces(typed):
    assert normalise_receipt(typed) == "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789"


def test_normalise_maps_confusable_letters():
    assert normalise_receipt("TIP-IiLl-OoAB-0000-0000-0000-0000-0000-0000") == \
        "TIP-1111-00AB-0000-0000-0000-0000-0000-0000"


@pytest.mark.parametrize("bad", [
    "", "TIP", "TIP-ABCD", "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-678",  # too short
    "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-67890",  # too long
    "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-678U",  # U is not Crockford
    "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-678!",
    "TOP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789",  # wrong prefix
    "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-678é",
    "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-678ı",  # dotless i upper-cases to I: refused, not mapped
    "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-678\x00",
    "TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789" + " " * 500,
    None, 123, b"TIP-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789",
])
def test_malformed_receipts_are_refused(bad):
    with pytest.raises(ValueError):
        normalise_receipt(bad)
    with pytest.raises(MalformedReceipt):
        normalise_receipt(bad)


def test_receipt_hash_is_keyed_and_stable():
    receipt = new_receipt()
    digest = receipt_hash(receipt, PEPPER)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest != receipt and receipt not in digest
    assert receipt_hash(receipt.lower().replace("-", " "), PEPPER) == digest
    assert receipt_hash(receipt, b"q" * 32) != digest
    assert receipt_hash(new_receipt(), PEPPER) != digest
    with pytest.raises(ValueError):
        receipt_hash(receipt, b"")
    with pytest.raises(ValueError):
        receipt_hash("not a receipt", PEPPER)


def test_receipt_matches_compares():
    receipt = new_receipt()
    stored = receipt_hash(receipt, PEPPER)
    assert receipt_matches(receipt.lower(), stored, PEPPER)
    assert not receipt_matches(new_receipt(), stored, PEPPER)
    assert not receipt_matches(receipt, stored, b"other pepper....")
    assert not receipt_matches("garbage", stored, PEPPER)
    assert not receipt_matches(receipt, "é" * 64, PEPPER)


# --- signed acknowledgements ----------------------------------------------------------------------

def fields(**changes):
    value = ack_fields(tip_id="tip_01HXYZ", region="410100", seq=4217,
                       hash="ab" * 32, recorded_at="2016-11-01T08:00:00.000000+00:00")
    value.update(changes)
    return value


@pytest.fixture(scope="module")
def signer():
    return AckSigner(Ed25519PrivateKey.generate().private_bytes_raw())


def test_ack_shape(signer):
    signed = signer.sign(fields())
    assert set(signed) == {"ack", "signature", "alg"}
    assert signed["alg"] == "Ed25519"
    assert signed["ack"] == {**fields(), "key_id": signer.key_id}
    assert signed["ack"]["statement"] == STATEMENT == "zeroclear tip acknowledgement"
    assert re.fullmatch(r"[0-9a-f]{16}", signer.key_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{86}", signed["signature"])
    info = signer.public_key_info()
    assert info == {"alg": "Ed25519", "key_id": signer.key_id, "public_key": info["public_key"]}
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", info["public_key"])
    assert json.loads(json.dumps(signed)) == signed


def test_sign_then_verify(signer):
    signed = signer.sign(fields())
    assert verify_ack(signed, signer.public_key_info()["public_key"]) is True
    assert verify_ack(json.loads(json.dumps(signed)), signer.public_key_info()["public_key"])
    # padded public key is accepted too
    assert verify_ack(signed, signer.public_key_info()["public_key"] + "=")


def test_signer_refuses_receipts_and_reserved_fields(signer):
    for name in ("receipt", "receipt_hash", "Receipt_Hash_Prefix", "key_id"):
        with pytest.raises(ValueError):
            signer.sign(fields(**{name: "x"}))
    with pytest.raises(ValueError):
        signer.sign(fields(seq=1.5))  # floats are outside the canonical domain


def test_canonical_bytes_of_verifier_are_rfc8785(signer):
    for value in (signer.sign(fields())["ack"],
                  signer.sign(fields(region="郑州市 \u2028 \x01\x7f \"q\" \\ 𝄞", seq=2**53 - 1))["ack"],
                  {"b": [1, None, True, {"z": "", "a": -5}], "a": {}}):
        assert _canonical(value) == dumps(value) == reference_dumps(value)


def test_non_ascii_fields_verify(signer):
    signed = signer.sign(fields(region="河南省郑州市"))
    assert verify_ack(signed, signer.public_key_info()["public_key"])


@pytest.mark.parametrize("name", ["tip_id", "region", "seq", "hash", "recorded_at", "statement", "key_id"])
def test_any_changed_field_fails(signer, name):
    signed = signer.sign(fields())
    public = signer.public_key_info()["public_key"]
    for new in ("changed", 4218, None, "", [signed["ack"][name]]):
        if new == signed["ack"][name]:
            continue
        tampered = copy.deepcopy(signed)
        tampered["ack"][name] = new
        assert verify_ack(tampered, public) is False
    removed = copy.deepcopy(signed)
    del removed["ack"][name]
    assert verify_ack(removed, public) is False
    added = copy.deepcopy(signed)
    added["ack"]["extra"] = "x"
    assert verify_ack(added, public) is False


def test_changed_signature_or_key_fails(signer):
    signed = signer.sign(fields())
    public = signer.public_key_info()["public_key"]
    signature = signed["signature"]
    for index in range(len(signature)):
        for replacement in "AQg_":
            if signature[index] == replacement:
                continue
            tampered = dict(signed, signature=signature[:index] + replacement + signature[index + 1:])
            assert verify_ack(tampered, public) is False
    other = AckSigner(Ed25519PrivateKey.generate().private_bytes_raw())
    assert verify_ack(signed, other.public_key_info()["public_key"]) is False
    # the other key's signature over the same fields, with our key id, is refused as well
    forged = other.sign(fields())
    forged["ack"]["key_id"] = signer.key_id
    assert verify_ack(forged, public) is False
    assert verify_ack(dict(signed, alg="EdDSA"), public) is False
    assert verify_ack(dict(signed, extra=1), public) is False


GARBAGE = [None, 1, 1.5, "x", b"x", [], {}, {"ack": None, "signature": None, "alg": None},
           {"ack": {}, "signature": "", "alg": "Ed25519"},
           {"ack": {"seq": float("nan")}, "signature": "A" * 86, "alg": "Ed25519"},
           {"ack": {1: 2}, "signature": "A" * 86, "alg": "Ed25519"},
           {"ack": {"x": object()}, "signature": "A" * 86, "alg": "Ed25519"},
           {"ack": {"x": "\ud800"}, "signature": "A" * 86, "alg": "Ed25519"},
           {"ack": {"x": 2**80}, "signature": "A" * 86, "alg": "Ed25519"},
           {"ack": {"x": 1}, "signature": "!!!", "alg": "Ed25519"},
           {"ack": {"x": 1}, "signature": "é" * 86, "alg": "Ed25519"},
           {"ack": {"x": 1}, "signature": 5, "alg": "Ed25519"}]


def deep(depth: int):
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("garbage", GARBAGE + [{"ack": deep(5000), "signature": "A" * 86, "alg": "Ed25519"}],
                         ids=range(len(GARBAGE) + 1))
def test_garbage_is_false_not_an_exception(signer, garbage):
    public = signer.public_key_info()["public_key"]
    assert verify_ack(garbage, public) is False


@pytest.mark.parametrize("public", [None, "", "x", "A" * 43 + "!", "A" * 44, b"A" * 43, 5, "é" * 43, "A" * 42])
def test_garbage_public_key_is_false(signer, public):
    assert verify_ack(signer.sign(fields()), public) is False


def test_signer_needs_a_32_byte_key():
    for bad in (b"", b"x" * 31, b"x" * 33, "x" * 32):
        with pytest.raises(ValueError):
            AckSigner(bad)


def test_signer_repr_hides_key(signer):
    assert "key_id" in repr(signer) and "private" not in repr(signer).lower()


# --- contacts -------------------------------------------------------------------------------------

def test_contact_round_trip_and_fresh_tokens():
    box = ContactBox([Fernet.generate_key()])
    contact = "微信 zhang_san / 138-0000-0000"
    first, second = box.seal(contact), box.seal(contact)
    assert first != second
    assert contact not in first and "138" not in first
    assert box.open(first) == box.open(second) == contact


def test_rotated_key_list_opens_old_tokens():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = ContactBox([old]).seal("phone 110")
    rotated = ContactBox([new, old])
    assert rotated.open(token) == "phone 110"
    resealed = rotated.rotate(token)
    assert ContactBox([new]).open(resealed) == "phone 110"
    with pytest.raises(ContactUnreadable):
        ContactBox([new]).open(token)


def test_contact_garbage():
    box = ContactBox([Fernet.generate_key()])
    for bad in ("", "garbage", "é", box.seal("x")[:-2]):
        with pytest.raises(ContactUnreadable):
            box.open(bad)
    with pytest.raises(ValueError):
        ContactBox([])
    with pytest.raises(ValueError):
        ContactBox([b"not a key"])
    assert repr(box) == "ContactBox(<keys hidden>)"


# --- secrets file and environment -----------------------------------------------------------------

def test_secrets_file_created_private_and_stable(tmp_path):
    path = tmp_path / "deep" / "er" / "tip-secrets.json"
    first = load_tip_secrets(path, {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.signing_key) == 32 and len(first.pepper) >= 16 and len(first.contact_keys) == 1
    second = load_tip_secrets(path, {})
    assert second == first
    assert [p.name for p in path.parent.iterdir()] == ["tip-secrets.json"]  # no temp file left behind
    AckSigner(first.signing_key).sign(fields())
    ContactBox(first.contact_keys).seal("x")
    assert load_tip_secrets(tmp_path / "other.json", {}) != first


def test_secrets_repr_hides_secrets(tmp_path):
    secrets_ = load_tip_secrets(tmp_path / "s.json", {})
    text = repr(secrets_)
    assert b64url(secrets_.pepper) not in text and str(secrets_.pepper) not in text
    assert secrets_.contact_keys[0].decode() not in text


def test_loose_permissions_are_tightened(tmp_path):
    path = tmp_path / "s.json"
    first = load_tip_secrets(path, {})
    os.chmod(path, 0o644)
    assert load_tip_secrets(path, {}) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_concurrent_first_loads_agree(tmp_path):
    path = tmp_path / "s.json"
    results, barrier = [], threading.Barrier(8)

    def load():
        barrier.wait()
        results.append(load_tip_secrets(path, {}))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(r == results[0] for r in results)
    assert load_tip_secrets(path, {}) == results[0]


def env_secrets():
    signing = Ed25519PrivateKey.generate().private_bytes_raw()
    keys = [Fernet.generate_key(), Fernet.generate_key()]
    return signing, {SIGNING_KEY_VAR: b64url(signing), PEPPER_VAR: b64url(b"z" * 32),
                     CONTACT_KEYS_VAR: ",".join(k.decode() for k in keys)}, keys


def test_env_wins_and_file_is_not_touched(tmp_path):
    signing, env, keys = env_secrets()
    path = tmp_path / "s.json"
    loaded = load_tip_secrets(path, env)
    assert loaded == TipSecrets(signing_keys=[signing], peppers=[b"z" * 32], contact_keys=keys)
    assert not path.exists()
    load_tip_secrets(path, {})
    assert load_tip_secrets(path, env) == loaded  # over an existing file too


@pytest.mark.parametrize("variable, value", [
    (SIGNING_KEY_VAR, ""), (SIGNING_KEY_VAR, "not base64!"), (SIGNING_KEY_VAR, b64url(b"k" * 31)),
    (SIGNING_KEY_VAR, b64url(b"k" * 64)),
    (PEPPER_VAR, ""), (PEPPER_VAR, "***"), (PEPPER_VAR, b64url(b"short")),
    (CONTACT_KEYS_VAR, ""), (CONTACT_KEYS_VAR, "nope"), (CONTACT_KEYS_VAR, base64.urlsafe_b64encode(b"f" * 32).decode() + ","),
    (CONTACT_KEYS_VAR, b64url(b"k" * 31)),
])
def test_malformed_env_names_the_variable(tmp_path, variable, value):
    _, env, _ = env_secrets()
    env[variable] = value
    with pytest.raises(ValueError, match=variable) as refused:
        load_tip_secrets(tmp_path / "s.json", env)
    if value:
        assert value not in str(refused.value)  # secrets are not echoed into logs


def test_partial_env_is_refused_naming_the_missing(tmp_path):
    _, env, _ = env_secrets()
    del env[PEPPER_VAR]
    with pytest.raises(ValueError, match=PEPPER_VAR):
        load_tip_secrets(tmp_path / "s.json", env)
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("content", [
    "", "not json", "[]", '{"version": 1}',
    '{"version": 2, "signing_key": "", "pepper": "", "contact_keys": []}',
    '{"version": 1, "signing_key": "AAAA", "pepper": "%s", "contact_keys": ["%s"]}'
    % (b64url(b"p" * 32), Fernet.generate_key().decode()),
    '{"version": 1, "signing_key": "%s", "pepper": "%s", "contact_keys": "%s"}'
    % (b64url(b"s" * 32), b64url(b"p" * 32), Fernet.generate_key().decode()),
    '{"version": 1, "signing_key": "%s", "pepper": "%s", "contact_keys": []}' % (b64url(b"s" * 32), b64url(b"p" * 32)),
])
def test_malformed_file_names_the_file(tmp_path, content):
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_tip_secrets(path, {})


# --- rate limiter ---------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refusal_with_retry_after():
    clock = FakeClock()
    limiter = RateLimiter(rate_per_minute=6, burst=3, clock=clock)
    assert [limiter.allow("203.0.113.7") for _ in range(3)] == [(True, 0.0)] * 3
    allowed, wait = limiter.allow("203.0.113.7")
    assert not allowed and wait == pytest.approx(10.0)
    clock.now += 4
    allowed, wait = limiter.allow("203.0.113.7")
    assert not allowed and wait == pytest.approx(6.0)


def test_refill_over_time():
    clock = FakeClock()
    limiter = RateLimiter(rate_per_minute=60, burst=2, clock=clock)
    assert limiter.allow("a")[0] and limiter.allow("a")[0] and not limiter.allow("a")[0]
    clock.now += 1.0
    assert limiter.allow("a") == (True, 0.0)
    assert not limiter.allow("a")[0]
    clock.now += 3600  # long idle: refills only up to the burst
    assert [limiter.allow("a")[0] for _ in range(3)] == [True, True, False]


def test_clients_are_independent():
    clock = FakeClock()
    limiter = RateLimiter(rate_per_minute=1, burst=1, clock=clock)
    assert limiter.allow("198.51.100.1")[0]
    assert not limiter.allow("198.51.100.1")[0]
    assert limiter.allow("198.51.100.2")[0]
    assert limiter.allow("2001:db8::1")[0]


def test_table_holds_no_client_string():
    limiter = RateLimiter(rate_per_minute=10, burst=5, clock=FakeClock())
    clients = ["203.0.113.7", "2001:db8::42", "10.0.0.1"]
    for client in clients:
        limiter.allow(client)
    assert len(limiter) == 3
    for key, bucket in limiter._buckets.items():
        assert isinstance(key, bytes) and len(key) == 16
        for client in clients:
            assert client.encode() not in key and client not in repr(key) and client not in repr(bucket)
    everything = repr(vars(limiter))
    assert not any(client in everything for client in clients)
    # a second limiter (another secret) keys the same client differently
    other = RateLimiter(rate_per_minute=10, burst=5, clock=FakeClock())
    other.allow(clients[0])
    assert not set(other._buckets) & set(limiter._buckets)


def test_idle_full_buckets_are_evicted():
    clock = FakeClock()
    limiter = RateLimiter(rate_per_minute=60, burst=5, clock=clock)
    for index in range(100):
        limiter.allow(f"10.0.0.{index}")
    assert len(limiter) == 100
    clock.now += 4.9
    limiter.allow("fresh")
    assert len(limiter) == 101  # not yet full again: kept
    clock.now += 0.2
    limiter.allow("fresh")
    assert len(limiter) == 1


def test_table_is_capped():
    clock = FakeClock()
    limiter = RateLimiter(rate_per_minute=1, burst=1, clock=clock, max_entries=50)
    for index in range(500):
        limiter.allow(f"client {index}")
        clock.now += 0.001
    assert len(limiter) == 50
    assert not limiter.allow("client 499")[0]  # the most recent survive the cap


def test_threads_share_the_bucket_safely():
    limiter = RateLimiter(rate_per_minute=1, burst=100, clock=FakeClock())
    allowed, barrier = [], threading.Barrier(8)

    def hammer():
        barrier.wait()
        allowed.extend(limiter.allow("same")[0] for _ in range(50))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 100


def test_limiter_validates_its_settings():
    for rate, burst in ((0, 1), (1, 0), (-1, 5)):
        with pytest.raises(ValueError):
            RateLimiter(rate, burst)


# -- the operator's secrets in production, and rotation (issue 16.1) ---------------------------

def test_production_refuses_to_start_without_the_operators_tip_secrets_naming_what_to_set(tmp_path):
    from services.intake.tips.secrets_file import SECRETS_FILE_VAR, TipSecretsMissing

    for path in (None, tmp_path / "absent.json"):
        with pytest.raises(TipSecretsMissing) as refused:
            load_tip_secrets(path, {}, production=True)
        assert SECRETS_FILE_VAR in str(refused.value) and SIGNING_KEY_VAR in str(refused.value)
    assert not (tmp_path / "absent.json").exists(), "production never makes secrets of its own"
    load_tip_secrets(tmp_path / "made.json", {})  # elsewhere the file is made on first use
    assert load_tip_secrets(tmp_path / "made.json", {}, production=True) == load_tip_secrets(tmp_path / "made.json", {})


def test_each_tip_secret_variable_may_be_a_file_and_hold_a_list_current_first(tmp_path):
    signing, env, keys = env_secrets()
    older = Ed25519PrivateKey.generate().private_bytes_raw()
    (tmp_path / "signing").write_text(f"{b64url(signing)},{b64url(older)}\n")
    env[f"{SIGNING_KEY_VAR}_FILE"] = str(tmp_path / "signing")
    del env[SIGNING_KEY_VAR]
    env[PEPPER_VAR] = f"{b64url(b'n' * 32)},{b64url(b'o' * 32)}"
    loaded = load_tip_secrets(None, env, production=True)
    assert loaded.signing_keys == [signing, older] and loaded.signing_key == signing
    assert loaded.peppers == [b"n" * 32, b"o" * 32] and loaded.pepper == b"n" * 32
    env[SIGNING_KEY_VAR] = b64url(signing)
    with pytest.raises(ValueError, match=f"both {SIGNING_KEY_VAR} and {SIGNING_KEY_VAR}_FILE"):
        load_tip_secrets(None, env)


def test_rotation_puts_a_fresh_secret_first_and_keeps_the_old_ones(tmp_path):
    from services.intake.tips.secrets_file import rotate

    path = tmp_path / "s.json"
    before = load_tip_secrets(path, {})
    sealed = ContactBox(before.contact_keys).seal("13800000000")
    receipt = new_receipt()
    stored = receipt_hash(receipt, before.pepper)
    assert rotate(path, ("peppers", "contact_keys")) == {"signing_keys": 1, "peppers": 2, "contact_keys": 2}
    after = load_tip_secrets(path, {})
    assert after.signing_keys == before.signing_keys
    assert after.peppers[1:] == before.peppers and after.pepper != before.pepper
    assert after.contact_keys[1:] == before.contact_keys
    assert ContactBox(after.contact_keys).open(sealed) == "13800000000"
    assert any(receipt_matches(receipt, stored, pepper) for pepper in after.peppers)
    rotate(path)
    assert len(load_tip_secrets(path, {}).signing_keys) == 2
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_version_1_file_is_still_read(tmp_path):
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({"version": 1, "signing_key": b64url(b"s" * 32), "pepper": b64url(b"p" * 32),
                                "contact_keys": [Fernet.generate_key().decode()]}))
    loaded = load_tip_secrets(path, {})
    assert (loaded.signing_keys, loaded.peppers) == ([b"s" * 32], [b"p" * 32])
