"""The report schema (``report_schema(reference, clock)``) without HTTP: every bad input is
refused naming exactly the right field paths, and good input comes out normalised."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from services.intake.domain.submissions import report_payload, report_submission
from services.intake.entrypoints.schemas import report_schema
from shared.clock import SettableClock
from shared.http import flatten_messages
from shared.reference import default_reference
from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START

from ..cases import BAD, BAD_IDS, REGION, by_field


def schema(now: datetime = CAMPAIGN_START):
    return report_schema(default_reference(), SettableClock(now))()


def refusal(body, now: datetime = CAMPAIGN_START) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        schema(now).load(body)
    return by_field(flatten_messages(refused.value.messages))


@pytest.mark.parametrize("case", BAD, ids=BAD_IDS)
def test_each_bad_input_is_refused_naming_exactly_the_bad_fields(case):
    named = refusal(case.body())
    assert set(named) == set(case.fields), named
    assert all(message for messages in named.values() for message in messages)


def test_a_body_that_is_not_an_object_is_refused_as_a_whole():
    assert set(refusal([data.report()])) == {"$"}  # the body itself


def test_several_bad_entries_are_all_named_with_their_indexes():
    body = data.report(REGION, entries=3)
    body["entries"][0]["unit"] = "万米"
    body["entries"][2]["capacity"] = "-1"
    body["entries"][2]["uscc"] = "123"
    assert set(refusal(body)) == {"entries[0].unit", "entries[2].capacity", "entries[2].uscc"}


def test_the_wrong_unit_message_names_the_industry_and_its_unit():
    body = data.report(REGION, entries=1)
    body["entries"][0].update(industry="印染", unit="万吨")
    assert refusal(body) == {"entries[0].unit": ["印染 capacity is registered in 万米, not 万吨."]}


def test_the_current_year_is_the_business_year_in_henan_not_in_utc():
    new_year_in_henan = datetime(2016, 12, 31, 16, 0, tzinfo=timezone.utc)  # 2017-01-01 00:00 in Asia/Shanghai
    assert schema(new_year_in_henan).load(data.report(year=2017))["year"] == 2017
    assert set(refusal(data.report(year=2017), datetime(2016, 12, 31, 15, 59, tzinfo=timezone.utc))) == {"year"}


def test_a_valid_form_and_a_valid_zero_report_are_accepted_as_given():
    form = schema().load(data.report(REGION, entries=2))
    assert (form["region"], form["year"], form["zero_report"], len(form["entries"])) == (REGION, 2016, False, 2)
    assert form["entries"][0]["planned_date"] == date(2016, 12, 31)
    zero = schema().load(data.report("419001", zero=True))
    assert zero["zero_report"] is True and zero["entries"] == []


def test_text_is_kept_as_filed_only_trimmed_while_codes_and_document_numbers_are_folded():
    body = data.report(REGION, entries=1)
    code = body["entries"][0]["uscc"]
    body.update(document_no="\u3000郑政文〔２０１６〕１００号 ", signed_by="张\u3000\u3000三")
    body["entries"][0].update(
        enterprise=" 洛阳某（集团）有限公司 ",
        uscc="".join(chr(ord(c) + 0xFEE0) for c in code.lower()),  # full-width and lower case
        county="中牟县\u3000",
        equipment="３０吨转炉",
        remarks="已停产，待拆除。\n设备已封存。",
        industry="炼钢",
    )
    loaded = schema().load(body)
    entry = loaded["entries"][0]
    assert loaded["document_no"] == "郑政文〔2016〕100号"
    assert loaded["signed_by"] == "张\u3000\u3000三"
    assert (entry["enterprise"], entry["uscc"], entry["county"], entry["equipment"], entry["remarks"]) == (
        "洛阳某（集团）有限公司", code, "中牟县", "３０吨转炉", "已停产，待拆除。\n设备已封存。")


def test_text_in_nfd_is_kept_in_nfc_the_same_characters():
    body = data.report(REGION, entries=1)
    body["entries"][0]["enterprise"] = "Cafe\u0301 某公司"
    assert schema().load(body)["entries"][0]["enterprise"] == "Caf\u00e9 某公司"


@pytest.mark.parametrize("where, value", [
    ("signed_by", "张\u0000三"), ("signed_by", "张\ud800三"), ("document_no", "郑政文\x1b〔2016〕1号"),
    ("signed_by", "张\n三"), ("signed_by", "张\ufffe三"),
])
def test_text_no_record_can_hold_is_refused_naming_the_field(where, value):
    body = data.report(REGION, entries=1)
    body[where] = value
    with pytest.raises(ValidationError) as refused:
        schema().load(body)
    assert list(refused.value.messages) == [where]


def test_a_multi_line_field_keeps_its_line_breaks_but_not_a_nul():
    body = data.report(REGION, entries=1)
    body["entries"][0]["remarks"] = "第一行\r\n第二行\t备注"
    assert schema().load(body)["entries"][0]["remarks"] == "第一行\r\n第二行\t备注"
    body["entries"][0]["remarks"] = "第一行\u0000"
    with pytest.raises(ValidationError) as refused:
        schema().load(body)
    assert refused.value.messages == {"entries": {0: {"remarks": ["Contains a control character (U+0000)."]}}}


def test_a_region_code_typed_with_full_width_digits_is_folded():
    body = data.report(REGION, entries=1)
    body["region"] = "４１０１００"
    assert schema().load(body)["region"] == REGION


@pytest.mark.parametrize("given, stored", [
    ("12.50", "12.5"), (Decimal("12.50"), "12.5"), (12.5, "12.5"), (12, "12"), ("100", "100"), ("100.00", "100"),
    ("0.0001", "0.0001"), ("1E+3", "1000"), (" 7.25 ", "7.25"), ("１２.５", "12.5"), ("999999999.9999", "999999999.9999"),
], ids=["12.50 as text", "12.50 as a JSON number", "a float", "an integer", "100 keeps its zeros", "100.00",
        "the smallest step", "exponent notation", "padded text", "full-width digits", "the largest"])
def test_capacity_given_as_a_number_or_a_string_is_stored_in_one_canonical_text_form(given, stored):
    body = data.report(REGION, entries=1)
    body["entries"][0]["capacity"] = given
    loaded = schema().load(body)
    assert loaded["entries"][0]["capacity"] == Decimal(stored)
    assert report_payload("s-1", loaded)["entries"][0]["capacity"] == stored


def test_remarks_are_optional():
    body = data.report(REGION, entries=1)
    del body["entries"][0]["remarks"]
    assert schema().load(body)["entries"][0]["remarks"] == ""


def test_the_proposed_message_carries_the_normalised_report_and_the_submission_id():
    loaded = schema().load(data.report(REGION, entries=1) | {"signed_by": " 李\u3000四 "})
    submission = report_submission("0b5e7a4e-8a3e-4d5e-9c1e-3c0a8b7d6f10", loaded, actor="region/410100/k1",
                                   key_id="k1", now=CAMPAIGN_START)
    message = submission.message
    assert (message.type, message.id, message.actor) == ("intake.report_filed.v1", submission.submission_id,
                                                         "region/410100/k1")
    assert message.occurred_at == "2016-11-01T00:00:00.000000Z"
    assert message.payload["submission_id"] == submission.submission_id
    assert message.payload["signed_by"] == "李\u3000四"
    assert message.payload["entries"][0] == {**data.entry(1, region=REGION), "capacity": "12.5"}
    assert (submission.region, submission.year, submission.kind) == (REGION, 2016, "report")
