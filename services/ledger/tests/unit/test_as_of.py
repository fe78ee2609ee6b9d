"""``--as-of`` / ``?as_of=``: a log position or an ISO time; anything else is a clear error."""
from __future__ import annotations

import pytest

from services.ledger.audit import AsOf, AsOfError


def test_a_position_or_a_time():
    assert AsOf.parse("12") == AsOf(seq=12)
    assert AsOf.parse("2016-11-16T00:00:00+08:00") == AsOf(recorded_at="2016-11-15T16:00:00.000000Z")
    assert AsOf.parse(None) == AsOf.parse("") == AsOf()


@pytest.mark.parametrize("text", ["²", "١٢", "12a", "yesterday", "2016-11-16"])
def test_anything_else_is_refused_with_a_clear_message(text):
    with pytest.raises(AsOfError, match="sequence number or an ISO time"):
        AsOf.parse(text)
