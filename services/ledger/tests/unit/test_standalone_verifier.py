"""The standalone verifier (standard library only) computes the same canonical JSON as the
reference RFC 8785 implementation, and accepts exactly what the chain seals."""
from __future__ import annotations

import orjson
from hypothesis import given, settings, strategies as st

from shared import canonical

from services.ledger import verify_export
from services.ledger.domain.rules import NewEvent
from services.ledger.domain.sealing import seal
from services.ledger.domain.state import LedgerState

SAFE_INT = 2**53 - 1
scalars = st.none() | st.booleans() | st.integers(-SAFE_INT, SAFE_INT) | st.text()


def json_values(keys):
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                        max_leaves=20)


any_json = json_values(st.text())
ascii_keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)
payloads = st.dictionaries(ascii_keys, json_values(ascii_keys), max_size=5)


@settings(max_examples=300, deadline=None)
@given(any_json)
def test_the_verifiers_canonical_json_equals_the_rfc8785_reference(value):
    assert verify_export.canonical(value).encode("utf-8") == canonical.reference_dumps(value)


@settings(max_examples=150, deadline=None)
@given(json_values(ascii_keys))
def test_the_verifiers_canonical_json_equals_the_chains_on_ascii_keyed_json(value):
    assert verify_export.canonical(value).encode("utf-8") == canonical.dumps(value)


def test_keys_are_ordered_by_utf16_code_units_as_rfc8785_says():
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3, "é": 4}
    assert verify_export.canonical(value) == '{"a":3,"é":4,"\U0001f600":1,"ﬁ":2}'
    assert verify_export.canonical(value).encode() == canonical.reference_dumps(value)


def test_floats_and_unsafe_integers_are_refused_by_the_verifier():
    for value in (1.5, {"x": [2**53]}, {"x": object()}):
        try:
            verify_export.canonical(value)
        except verify_export.NotCanonical:
            continue
        raise AssertionError(f"{value!r} was accepted")


@settings(max_examples=50, deadline=None)
@given(st.lists(payloads, min_size=1, max_size=5))
def test_the_verifier_accepts_any_log_the_chain_seals_and_rejects_an_edited_payload(bodies):
    state, lines = LedgerState(), []
    for n, body in enumerate(bodies, start=1):
        new = NewEvent(id=f"e{n}", type="test.thing_happened.v1", stream="thing", occurred_at="2016-11-01T00:00:00.000000Z",
                       actor="office/k", causation_id=None, correlation_id=f"e{n}", region=None, payload=body)
        event = seal(new, state, "2016-11-01T00:00:00.000000Z").event
        state.apply(event)
        lines.append(orjson.dumps(event.to_dict()).decode())
    checkpoint = orjson.dumps({"checkpoint": {"count": state.seq, "head": state.head}}).decode()

    verdict = verify_export.verify(lines + [checkpoint])
    assert {k: verdict[k] for k in ("ok", "count", "head")} == {"ok": True, "count": state.seq, "head": state.head}

    edited = orjson.loads(lines[0])
    edited["payload"] = {**edited["payload"], "zz-added": "x"}
    verdict = verify_export.verify([orjson.dumps(edited).decode()] + lines[1:] + [checkpoint])
    assert (verdict["ok"], verdict["first_bad_seq"]) == (False, 1)
