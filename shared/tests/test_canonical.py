"""Canonical JSON: the fast path equals RFC 8785 on the system's domain, and the checked path
refuses what lies outside it."""
from __future__ import annotations

import string

import pytest
from hypothesis import given, settings, strategies as st

from shared.canonical import NotCanonicalisable, dumps, dumps_checked, reference_dumps, tagged_sha256

MAX_SAFE = 2**53 - 1

ascii_keys = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=12)
texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)
scalars = st.none() | st.booleans() | st.integers(min_value=-MAX_SAFE, max_value=MAX_SAFE) | texts
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(ascii_keys, children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=250, deadline=None)
@given(json_values)
def test_the_fast_canonical_form_equals_the_rfc8785_reference_on_json_without_floats(value):
    assert dumps(value) == reference_dumps(value)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_the_checked_canonical_form_accepts_the_domain_and_agrees_with_the_reference(value):
    assert dumps_checked(value) == reference_dumps(value)


@given(st.dictionaries(st.text(alphabet=string.ascii_letters, min_size=1, max_size=5), scalars, min_size=2))
def test_key_order_never_changes_the_canonical_bytes_or_the_hash(mapping):
    reordered = dict(reversed(list(mapping.items())))
    assert dumps(mapping) == dumps(reordered)
    assert tagged_sha256(b"t\x00", mapping) == tagged_sha256(b"t\x00", reordered)


def test_control_characters_and_chinese_text_are_escaped_as_rfc8785_says():
    value = {"a": "\u0000\b\f\n\r\t\u001f\u007f\"\\/ 河南 \u2028 😀"}
    assert dumps(value) == reference_dumps(value)
    assert "河南".encode() in dumps(value)


def test_a_hash_tag_separates_domains():
    assert tagged_sha256(b"event\x00", {"a": 1}) != tagged_sha256(b"payload\x00", {"a": 1})


@pytest.mark.parametrize(
    "value, where",
    [
        (1.5, "$"),
        ({"capacity": 12.5}, "$.capacity"),
        ([1, [2, 0.0]], "$[1][1]"),
        (2**53, "$"),
        (-(2**53), "$"),
        ({"n": [10**20]}, "$.n[0]"),
        ({"名称": 1}, "$"),
        ({"ok": {"é": 1}}, "$.ok"),
        ({1: "x"}, "$"),
        ({"s": {1, 2}}, "$.s"),
        (b"bytes", "$"),
    ],
    ids=["float", "nested float", "float in a list", "2**53", "-2**53", "huge int", "chinese key",
         "accented key", "integer key", "a set", "bytes"],
)
def test_the_checked_form_refuses_floats_huge_integers_non_ascii_keys_and_non_json(value, where):
    with pytest.raises(NotCanonicalisable) as refused:
        dumps_checked(value)
    assert str(refused.value).startswith(where + ":")


def test_the_largest_interoperable_integers_are_accepted():
    assert dumps_checked([MAX_SAFE, -MAX_SAFE]) == reference_dumps([MAX_SAFE, -MAX_SAFE])
