"""The criteria's weights come from ZEROCLEAR_ASSESSMENT_WEIGHTS (SPEC §6: configurable, 0.2 each by default)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from shared.config import SettingsError

from services.assessment.bootstrap import WEIGHTS_VARIABLE, weights_from


def test_equal_weights_by_default():
    assert weights_from({}) == (Decimal("0.2"),) * 5


def test_weights_from_the_environment():
    assert weights_from({WEIGHTS_VARIABLE: "0.3, 0.1,0.1,0.2,0.3"}) == tuple(Decimal(w) for w in ("0.3", "0.1", "0.1", "0.2", "0.3"))


@pytest.mark.parametrize("text", ["0.2,0.2,0.2,0.2", "0.5,0.5,0.5,-0.5,0", "0.2,0.2,0.2,0.2,0.3", "a,b,c,d,e",
                                  "0.2,0.2,0.2,0.2,NaN"])
def test_weights_that_are_not_five_shares_of_one_are_refused_naming_the_variable(text):
    with pytest.raises(SettingsError, match=WEIGHTS_VARIABLE):
        weights_from({WEIGHTS_VARIABLE: text})
