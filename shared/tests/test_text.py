"""Text as filed and what no record can hold (shared/text.py): the one rule of every write path."""
from __future__ import annotations

import pytest

from shared.messages_zh import zh
from shared.text import as_filed, fold_code, fold_digits, unstorable, unstorable_anywhere


@pytest.mark.parametrize("text, multiline, refused", [
    ("洛阳某（集团）有限公司", False, None),
    ("Café 某公司\u3000", False, None),
    ("第一行\n第二行\t备注", True, None),
    ("第一行\n第二行", False, "Must be a single line (no line breaks or tabs)."),
    ("毒\u0000厂", True, "Contains a control character (U+0000)."),
    ("\x1b[31m", True, "Contains a control character (U+001B)."),
    ("\x85", True, "Contains a control character (U+0085)."),
    ("\ud800", True, "Contains an invalid character (lone surrogate U+D800)."),
    ("\ufffe", True, "Contains a noncharacter (U+FFFE)."),
    ("\U0010ffff", True, "Contains a noncharacter (U+10FFFF)."),
    ("\ufdd0", True, "Contains a noncharacter (U+FDD0)."),
    ("😀 emoji, \u200d joined", True, None),
])
def test_what_no_record_can_hold_is_named_and_has_its_chinese(text, multiline, refused):
    assert unstorable(text, multiline=multiline) == refused
    if refused:
        assert zh(refused) != "格式错误"


def test_text_is_kept_as_filed_and_codes_are_folded():
    assert as_filed("  Cafe\u0301（集团）  ") == "Caf\u00e9（集团）"
    assert fold_code(" ９１４１\u3000０１ ") == "9141 01"
    assert fold_digits("郑政文〔２０１６〕８８号") == "郑政文〔2016〕88号"


def test_every_string_of_a_payload_is_judged_keys_included_and_named_by_its_path():
    payload = {"entries": [{"enterprise": "好"}, {"enterprise": "毒\u0000厂", "remarks": "a\nb"}],
               "bad\u0001key": 1, "nested": {"deeper": ("x", "\ud800")}}
    found = dict(unstorable_anywhere(payload))
    assert found == {"entries[1].enterprise": "Contains a control character (U+0000).",
                     "bad\u0001key": "Contains a control character (U+0001).",
                     "nested.deeper[1]": "Contains an invalid character (lone surrogate U+D800)."}
    assert list(unstorable_anywhere({"all": ["fine", {"and": "well"}], "n": 3})) == []
