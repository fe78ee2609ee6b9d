"""Text as filed: what a record keeps of what a person typed, and what no record can hold.

A government record keeps what was filed: names, remarks and reasons stay as written, only
trimmed and in Unicode NFC (the same characters, one encoding of them). Codes and numbers are
another matter: ``fold_code`` folds full-width letters, digits and spaces (common in Chinese
office software) so that ``９１４１…`` is the code ``9141…``.

What every store of the system refuses, and what means nothing in a record, is refused at the
door by the same rule everywhere (intake's schemas, the ledger's judges, any producer): control
characters (a multi-line field keeps its line breaks and tabs), lone surrogates (not Unicode at
all; PostgreSQL and orjson refuse them) and Unicode noncharacters. The NUL character is the one
that once lost whole batches: PostgreSQL cannot store it in text.
"""
from __future__ import annotations

import unicodedata
from typing import Any, Iterator

#: What a multi-line field may hold besides printable text.
LINE_BREAKS = frozenset("\n\r\t")
_NONCHARACTERS = frozenset(range(0xFDD0, 0xFDF0)) | {plane + end for plane in range(0, 0x110000, 0x10000)
                                                      for end in (0xFFFE, 0xFFFF)}


def unstorable(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be a record's text (``messages_zh`` has its Chinese); None when it can."""
    if value.isprintable():  # the fast path: no control, format, surrogate or unassigned character
        return None
    for char in value:
        code = ord(char)
        category = unicodedata.category(char)
        if category == "Cs":
            return f"Contains an invalid character (lone surrogate U+{code:04X})."
        if category == "Cc" and not (multiline and char in LINE_BREAKS):
            if char in LINE_BREAKS:
                return "Must be a single line (no line breaks or tabs)."
            return f"Contains a control character (U+{code:04X})."
        if code in _NONCHARACTERS:
            return f"Contains a noncharacter (U+{code:04X})."
    return None


def as_filed(value: str) -> str:
    """The text a record keeps: trimmed, in NFC; nothing else is changed."""
    return unicodedata.normalize("NFC", value.strip())


def fold_code(value: str) -> str:
    """A code or a number as one writes it: NFKC (full-width → half-width), whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def fold_digits(value: str) -> str:
    """Only the digits folded (a 文号 keeps its 〔〕 brackets but its numbers are numbers)."""
    return value.translate(_FULL_WIDTH_DIGITS)


def unstorable_anywhere(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, reason) for every string inside a JSON-like value (keys too) that no record can hold.

    For a producer's payload, whose fields the caller may not know one by one: line breaks are
    allowed here (a judge of the field's meaning may be stricter). Every message the ledger takes
    passes here, so the walk is a loop that builds a path only for a string it refuses."""
    stack: list[tuple[Any, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        kind = type(item)
        if kind is str:
            if not item.isprintable() and (problem := unstorable(item, multiline=True)):
                yield _path(where) or "$", problem
        elif kind is dict:
            for key, child in item.items():
                if type(key) is str and not key.isprintable() and (problem := unstorable(key)):
                    yield _path((where, key)), problem
                if type(child) in (str, dict, list, tuple):
                    stack.append(((where, key), child))
        elif kind in (list, tuple):
            for index, child in enumerate(item):
                if type(child) in (str, dict, list, tuple):
                    stack.append(((where, index), child))


def _path(where: Any) -> str:
    """``entries[2].uscc`` from the nested (parent, key) pairs the walk keeps."""
    parts = []
    while isinstance(where, tuple):
        where, key = where
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    text = where + "".join(reversed(parts))
    return text[1:] if text.startswith(".") else text


def with_article(word: str) -> str:
    """``word`` with its English indefinite article, for messages naming a role or a department:
    "an auditor key", "an office key", "a region key"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
