"""Marshmallow fields every service's schemas use for what people type.

Text as filed (trimmed, NFC), codes folded as one writes them, the same refusal of what no record
can hold (``shared/text.py``) on every write path of every service, and booleans that are booleans.
"""
from __future__ import annotations

from marshmallow import ValidationError, fields

from .text import as_filed, fold_code, fold_digits, unstorable


class StrictBoolean(fields.Boolean):
    """Only JSON true/false: "yes", 1 or "0" are mistakes worth naming."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean (true or false).")
        return value


class Text(fields.String):
    """Text as filed (trimmed, NFC) or, with ``code=True``, a code folded as one writes it (NFKC);
    text no record can hold (control characters, lone surrogates) is refused, naming the field.
    Empty after trimming counts as missing; ``multiline`` keeps line breaks and tabs."""

    def __init__(self, *, max_length: int = 200, allow_empty: bool = False, multiline: bool = False,
                 code: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.allow_empty = allow_empty
        self.multiline = multiline
        self.code = code

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        problem = unstorable(raw, multiline=self.multiline or self.code)
        if problem:
            raise ValidationError(problem)
        text = fold_code(raw) if self.code else as_filed(raw)
        if not text and not self.allow_empty:
            raise ValidationError("Must not be empty.")
        if len(text) > self.max_length:
            raise ValidationError(f"Longer than {self.max_length} characters.")
        return text


class Code(Text):
    """A code or a choice from a list (region, industry, unit, method…): folded, never free text."""

    def __init__(self, **kwargs):
        super().__init__(code=True, **kwargs)


class DocumentNumber(Text):
    """A 文号 as written, its full-width digits folded (〔２０１６〕 and 〔2016〕 are one number)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return fold_digits(super()._deserialize(value, attr, data, **kwargs))
