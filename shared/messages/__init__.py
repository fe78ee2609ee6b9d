"""The wire contract: every message type a service produces, in one published place.

Each producing service owns one module here — ``intake``, ``ledger``, ``assessment``, ``notify``
— with its type names and versions, the payload fields it promises (``Promise``), and the
upcasters that read an older version of a type as the current one. Consumers import that
module, never the producer's package.

Why a published module in ``shared/`` rather than each service keeping a copy checked by a
contract test: the services may import ``shared`` and not each other (``.importlinter``), and an
upcaster is code every consumer must run on read — the ledger's fold, notify's and assessment's —
so a copy of it could drift where a copy of a name could not. One module per producer keeps the
ownership visible: only the producing service changes its module, and a new version is one edit
there (a new type name, its upcaster) instead of one per fold table.

Versions: a type's name ends in its version (``intake.report_filed.v1``); a change that breaks a
reader is a new version, published beside the old one, and old events stay on the log as they
were recorded (their hashes cover them): readers upcast them (``with_upcasters``) rather than
rewrite them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar

#: An upcaster: an older version's payload read as the next version's.
Upcaster = Callable[[Mapping[str, Any]], Mapping[str, Any]]
_UPCASTERS: dict[str, tuple[str, Upcaster]] = {}

F = TypeVar("F", bound=Callable[..., Any])


def type_name(producer: str, name: str, version: int) -> str:
    """``producer.name.vN``: the routing key and ``type`` of a message."""
    return f"{producer}.{name}.v{version}"


def parse_type(type_: str) -> tuple[str, str, int]:
    """(producer, name, version) of a type name written by ``type_name``."""
    producer, name, version = type_.split(".")
    if not version.startswith("v") or not version[1:].isdigit():
        raise ValueError(f"{type_!r} does not end in its version (.vN)")
    return producer, name, int(version[1:])


@dataclass(frozen=True)
class Promise:
    """What a producer promises of a type's payload: the fields always present (a consumer may
    rely on them) and those that may be absent; a consumer still validates what it records."""

    type: str
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    description: str = ""


def promise(type_: str, required: str, optional: str = "", description: str = "") -> Promise:
    return Promise(type_, frozenset(required.split()), frozenset(optional.split()), description)


def register_upcaster(old: str, new: str, upcaster: Upcaster) -> None:
    """Read an event of type ``old`` as one of type ``new`` (the producer's module registers it
    when it publishes ``new``)."""
    if old in _UPCASTERS:
        raise ValueError(f"{old} already has an upcaster")
    _UPCASTERS[old] = (new, upcaster)


def upcast(type_: str, payload: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The current type and payload of an event recorded as ``type_`` (unchanged if current)."""
    while type_ in _UPCASTERS:
        type_, step = _UPCASTERS[type_][0], _UPCASTERS[type_][1]
        payload = step(payload)
    return type_, payload


def with_upcasters(folds: dict[str, F], *, payload_at: int = -1) -> dict[str, F]:
    """``folds`` (a fold table keyed by type) with an entry for every older type that upcasts to
    one of its types: that entry upcasts the payload (argument ``payload_at``) and calls the
    current type's fold. The current types keep their own functions: folding them costs nothing more."""
    table = dict(folds)
    for old, current in older_types().items():
        fold = folds.get(current)
        if fold is not None and old not in table:
            table[old] = _upcasting(old, fold, payload_at)
    return table


def older_types() -> dict[str, str]:
    """Every older type with an upcaster, and the current type it is read as."""
    found = {}
    for old in _UPCASTERS:
        current = old
        while current in _UPCASTERS:
            current = _UPCASTERS[current][0]
        found[old] = current
    return found


def _upcasting(old: str, fold: F, payload_at: int) -> F:
    def upcasting_fold(*args: Any) -> Any:
        args = list(args)
        args[payload_at] = upcast(old, args[payload_at])[1]
        return fold(*args)

    return upcasting_fold  # type: ignore[return-value]
