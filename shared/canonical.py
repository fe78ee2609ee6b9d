"""Canonical JSON (RFC 8785, JCS) for hashing.

The system's JSON never holds floats (quantities travel as decimal strings), and every object
key is an ASCII identifier. On that domain orjson's sorted compact output is byte-for-byte
RFC 8785 — a property test checks it against the reference ``rfc8785`` package — and it is
sixty times faster, which the ledger's hash chain needs.
"""
from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

_OPTIONS = orjson.OPT_SORT_KEYS


class NotCanonicalisable(ValueError):
    """A value outside the domain the system hashes (a float, a non-string key, ...)."""


def dumps(value: Any) -> bytes:
    """Canonical bytes of ``value`` (fast path, for trusted system data)."""
    return orjson.dumps(value, option=_OPTIONS)


def dumps_checked(value: Any) -> bytes:
    """Canonical bytes after checking ``value`` stays inside the hashable domain."""
    _check(value, "$")
    return dumps(value)


def reference_dumps(value: Any) -> bytes:
    """The reference RFC 8785 implementation, for tests and audits."""
    return rfc8785.dumps(value)


def tagged_sha256(tag: bytes, value: Any) -> str:
    """SHA-256 hex digest over ``tag`` + canonical(value); the tag separates hash domains."""
    return hashlib.sha256(tag + dumps(value)).hexdigest()


def _check(value: Any, path: str) -> None:
    if not _plain(value):
        _explain(value, path)


def _plain(value: Any) -> bool:
    """The fast walk (no recursion, no paths): is ``value`` inside the hashable domain?"""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -(2**53 - 1) <= item <= 2**53 - 1:
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


def _explain(value: Any, path: str) -> None:
    """The slow walk, only once something is wrong: raise naming where."""
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise NotCanonicalisable(f"{path}: integer outside the interoperable range")
        return
    if isinstance(value, float):
        raise NotCanonicalisable(f"{path}: floats are not allowed; send decimals as strings")
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _explain(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise NotCanonicalisable(f"{path}: object keys must be ASCII strings")
            _explain(item, f"{path}.{key}")
        return
    raise NotCanonicalisable(f"{path}: {type(value).__name__} is not JSON")
