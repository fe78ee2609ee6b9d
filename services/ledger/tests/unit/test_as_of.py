"""``--as-of`` / ``?as_of=``: a log position or an ISO time; anything else is a clear error."""
from __future__ import annotations

import pytest

from services.ledger.audit import AsOf, AsOfError


def test_a_position_or_a_time():
    assert AsOf.parse("12") == AsOf(seq=12)
    assert AsOf.parse("2016-11-16T00:00:00+08:00") == AsOf(recorded_at="2016-11-15T16:00:00.000000Z")
    assert AsOf.parse(None) == AsOf.parse("") == AsOf()


@pytest.mark.parametrize("text", ["²", "١٢", "12a", "yesterday", "2016-11-16", str(2**53), "9223372036854775808",
                                  "9999-01-01T00:00:00+00:00", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"])
def test_anything_else_is_refused_with_a_clear_message(text):
    with pytest.raises(AsOfError, match=r"not a log position \(a seq from 0 to 9007199254740991\) or an ISO 8601 time"):
        AsOf.parse(text)


def test_the_bounds_are_positions():
    assert AsOf.parse(str(2**53 - 1)) == AsOf(seq=2**53 - 1)
    assert AsOf.parse("2999-12-31T23:59:59Z").recorded_at == "2999-12-31T23:59:59.000000Z"
