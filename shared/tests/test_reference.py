"""Reference data (SPEC §3) as shipped: the 28 Henan reporting regions agree with the GB/T 2260
register as python-stdnum carries it, the 20 industries carry the seed's units, and the campaign
calendar puts each deadline at the end of its business day in Asia/Shanghai."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from stdnum import numdb

from shared.reference import default_reference, load_reference

CITIES = {
    "410100": "郑州", "410200": "开封", "410300": "洛阳", "410400": "平顶山", "410500": "安阳", "410600": "鹤壁",
    "410700": "新乡", "410800": "焦作", "410900": "濮阳", "411000": "许昌", "411100": "漯河", "411200": "三门峡",
    "411300": "南阳", "411400": "商丘", "411500": "信阳", "411600": "周口", "411700": "驻马店", "419001": "济源",
}
DIRECT_COUNTIES = {
    "410181": "巩义", "410225": "兰考", "410482": "汝州", "410526": "滑县", "410728": "长垣",
    "411381": "邓州", "411481": "永城", "411525": "固始", "411628": "鹿邑", "411729": "新蔡",
}
_VALIDITY = re.compile(r"^(?:\[(\d{4})?-(\d{4})?\])?(.+)$")


def gb2260_name(code: str, year: int) -> str | None:
    """The name stdnum's GB/T 2260 data gives ``code`` in ``year`` ("[1986-2019]长垣县" → 长垣县 in 2016)."""
    parts = numdb.get("cn/loc").info(code)
    if len(parts) != 2 or parts[0][0] != code[:2] or parts[1][0] != code[2:]:
        return None
    for alternative in parts[1][1]["county"].split(","):
        since, until, name = _VALIDITY.match(alternative).groups()
        if (since is None or int(since) <= year) and (until is None or year <= int(until)):
            return name
    return None


def test_the_validity_years_of_the_register_are_read_correctly():
    assert gb2260_name("410728", 2016) == "长垣县"
    assert gb2260_name("410728", 2020) is None
    assert gb2260_name("419001", 1987) == "义马市"
    assert gb2260_name("419001", 2016) == "济源市"
    assert gb2260_name("411600", 1999) is None


def test_there_are_28_regions_18_cities_and_10_directly_administered_counties_with_the_spec_codes():
    regions = default_reference().regions
    assert len(regions) == 28
    assert {c for c, r in regions.items() if r.kind == "city"} == set(CITIES)
    assert {c for c, r in regions.items() if r.kind == "direct_county"} == set(DIRECT_COUNTIES)
    for code, short in {**CITIES, **DIRECT_COUNTIES}.items():
        assert regions[code].name.startswith(short), code
        assert regions[code].code == code and regions[code].name_en


@pytest.mark.parametrize("code", sorted({**CITIES, **DIRECT_COUNTIES}))
def test_each_region_code_and_name_match_the_gb2260_register_as_valid_in_2016(code):
    assert default_reference().regions[code].name == gb2260_name(code, 2016)


def test_the_province_is_henan():
    province = default_reference().province
    assert (province.code, province.name) == ("410000", "河南省")
    assert numdb.get("cn/loc").info("410000")[0][1]["province"] == "河南省"


SEED_UNITS = {"平板玻璃": "万重量箱", "制革": "万标张", "印染": "万米", "电力": "万千瓦"}
INDUSTRIES = ["炼铁", "炼钢", "焦炭", "铁合金", "电石", "电解铝", "铜冶炼", "铅冶炼", "锌冶炼", "水泥", "平板玻璃", "造纸",
              "制革", "印染", "化纤", "酒精", "味精", "柠檬酸", "电力", "煤炭"]


def test_the_20_industries_of_the_seed_register_capacity_in_the_seeds_units():
    reference = default_reference()
    assert sorted(reference.industries) == sorted(INDUSTRIES)
    for name in INDUSTRIES:
        assert reference.industries[name].unit == SEED_UNITS.get(name, "万吨"), name
        assert reference.industries[name].unit in reference.units


def test_the_target_sources_and_elimination_methods_are_those_of_the_seed():
    reference = default_reference()
    assert reference.target_sources == ("国家\"十二五\"目标", "煤炭钢铁化解过剩产能", "蓝天工程", "碧水工程", "大气污染防治")
    assert reference.methods == ("拆除", "关停", "其他")


def test_the_2016_report_is_due_at_the_end_of_15_november_in_henan():
    calendar = default_reference().calendar
    assert str(calendar.time_zone) == "Asia/Shanghai" and calendar.first_year == 2016
    assert calendar.report_due_date(2016) == date(2016, 11, 15)
    deadline = calendar.report_deadline(2016)
    assert deadline == datetime(2016, 11, 15, 15, 59, 59, 999999, tzinfo=timezone.utc)
    assert deadline.isoformat().replace("+00:00", "Z") == "2016-11-15T15:59:59.999999Z"
    assert calendar.business_date(deadline) == date(2016, 11, 15)
    assert calendar.business_date(datetime(2016, 11, 15, 16, 0, tzinfo=timezone.utc)) == date(2016, 11, 16)


def test_the_2016_campaign_stages_are_as_printed():
    calendar = default_reference().calendar
    assert calendar.stage(2016, "mobilisation") == (date(2016, 10, 8), date(2016, 10, 15))
    assert calendar.stage(2016, "inspection") == (date(2016, 10, 16), date(2016, 11, 15))
    assert calendar.stage(2016, "push") == (date(2016, 11, 16), date(2016, 12, 15))
    assert calendar.stage(2016, "acceptance") == (date(2017, 1, 1), date(2017, 1, 3))


@pytest.mark.parametrize("year", [2017, 2018, 2024])
def test_from_2017_the_standing_rule_applies_inspection_in_autumn_report_due_15_december(year):
    calendar = default_reference().calendar
    assert calendar.report_due_date(year) == date(year, 12, 15)
    assert calendar.report_deadline(year) == datetime(year, 12, 15, 15, 59, 59, 999999, tzinfo=timezone.utc)
    assert calendar.stage(year, "inspection") == (date(year, 9, 1), date(year, 11, 30))
    assert calendar.stage(year, "acceptance") == (date(year + 1, 1, 1), date(year + 1, 1, 3))
    assert calendar.tip_resolution_days == 15


def test_another_folder_of_reference_data_can_replace_the_shipped_one(tmp_path):
    from shared.reference import DATA_DIR

    for name in ("regions.json", "industries.json", "target_sources.json"):
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "calendar.json").write_text(
        '{"time_zone": "Asia/Shanghai", "first_year": 2020, "tip_resolution_days": 10, '
        '"standing": {"report_due": "12-01"}}', encoding="utf-8")
    reference = load_reference(tmp_path)
    assert reference.calendar.report_due_date(2021) == date(2021, 12, 1)
    assert reference.calendar.tip_resolution_days == 10 and reference.calendar.stage(2021, "inspection") is None
