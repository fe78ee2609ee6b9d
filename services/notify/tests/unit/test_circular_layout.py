"""A circular reads as an official bulletin printed on A4: the office's masthead (第N期, 文号, date),
the summary, the 28 regions ranked by their SPEC §6 totals with what that ranking is, the charts,
and on every page a footer with the log position and the whole hash on one line; 2 to 4 pages for
28 regions and no page left mostly blank. The first circular of a year says that it is the first."""
from __future__ import annotations

import random
import re
from io import BytesIO

import pytest
from pypdf import PdfReader

from services.notify.circulars import find_cjk_font, render_html, render_pdf
from shared.reference import default_reference

HEAD = "9" * 16 + "0123456789abcdef" * 3
FONT = find_cjk_font()
needs_font = pytest.mark.skipif(FONT is None, reason="no CJK TrueType font (fonts-wqy-zenhei)")
UNITS = {"炼铁": "万吨", "炼钢": "万吨", "焦炭": "万吨", "水泥": "万吨", "平板玻璃": "万重量箱", "制革": "万标张",
         "印染": "万米", "造纸": "万吨", "铁合金": "万吨", "电石": "万吨"}


def province_of(regions: list[dict]) -> dict:
    count = {status: sum(r["report"] == status for r in regions) for status in ("on_time", "late", "missing", "zero")}
    return {"regions": len(regions), "reported": count["on_time"] + count["late"] + count["zero"],
            "on_time": count["on_time"], "late": count["late"], "missing": count["missing"],
            "zero_reports": count["zero"], "cleared": 0,
            "items": {"registered": 60, "eliminated": 40, "verified": 30, "overdue": 5},
            "tips": {"received": 3, "resolved": 2, "late": 1}, "discrepancies": 1, "resurgences": 0}


def campaign(seed: int = 7, previous: dict | None = None, changes: tuple = ()) -> dict:
    """A circular of the 28 regions of Henan, with figures a campaign could have."""
    rnd = random.Random(seed)
    regions = []
    for code, region in sorted(default_reference().regions.items()):
        industries = []
        for industry in sorted(rnd.sample(sorted(UNITS), rnd.randint(0, 4))):
            registered = rnd.randint(5, 900)
            industries.append({"industry": industry, "unit": UNITS[industry], "registered": str(registered),
                               "eliminated": str(registered // 2), "verified": str(registered // 3)})
        overdue = [{"item_id": f"{code}-2016-40-{n}", "enterprise": f"{region.name[:2]}某某实业有限公司",
                    "equipment": "Φ3米立窑1号", "planned_date": "2016-11-30", "days_late": 16}
                   for n in range(rnd.choice((0, 0, 0, 1, 2)))]
        total = rnd.randint(3000, 9800)
        regions.append({"region": code, "name": region.name, "report": rnd.choice(("on_time", "late", "zero", "missing")),
                        "industries": industries, "overdue_items": overdue,
                        "tips": {"received": 1, "resolved": 1, "late": 0}, "discrepancies": 0, "resurgences": 0,
                        "cleared": False, "rank": None, "total": f"{total // 100}.{total % 100:02d}",
                        "grade": "优秀" if total >= 9000 else "良好" if total >= 7500 else "合格" if total >= 6000 else "不合格",
                        "draft": rnd.random() < 0.2})
    regions.sort(key=lambda r: -float(r["total"]))
    for index, row in enumerate(regions, start=1):
        row["rank"] = index
    regions[2]["total"], regions[2]["rank"] = regions[1]["total"], 2  # a tie: 1, 2, 2, 4
    return {"circular_id": "2016-480", "number": 2 if previous else 1, "document_no": "豫淘汰办〔2016〕12号",
            "title": f"河南省淘汰落后产能清零行动工作通报（2016年第{2 if previous else 1}期）",
            "issued_at": "2016-11-15T02:00:00.000000Z", "position": 480, "head_hash": HEAD, "year": 2016,
            "period": "2016-11", "province": province_of(regions), "regions": regions,
            "ranking": {"position": 480, "cut_off": "2017-01-03T15:59:59.999999Z", "digest": "cd" * 32, "draft": True},
            "previous": previous, "changes": list(changes)}


@pytest.fixture(scope="module")
def pdf():
    return PdfReader(BytesIO(render_pdf(campaign(), FONT))) if FONT else None


@needs_font
def test_28_regions_print_on_two_to_four_a4_pages_with_no_page_left_mostly_blank(pdf):
    assert 2 <= len(pdf.pages) <= 4
    for page in pdf.pages[:-1]:
        lowest = []
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: lowest.append(tm[5]) if text.strip() else None)
        body = [y for y in lowest if y > 45]  # above the footer
        assert min(body) < 842 * 0.4, "a page before the last ends in its upper part"


@needs_font
def test_every_page_carries_the_position_and_the_whole_hash_on_one_line(pdf):
    for number, page in enumerate(pdf.pages, start=1):
        lines = page.extract_text().splitlines()
        assert any("本通报依据台账第480条记录" in line and HEAD in line.replace(" ", "") for line in lines), lines[-3:]
        assert any(f"第 {number} 页" in line for line in lines)


@needs_font
def test_the_first_page_is_the_bulletin_head_the_summary_and_the_ranked_regions(pdf):
    first = re.sub(r"\s+", "", pdf.pages[0].extract_text())
    for text in ("淘汰落后产能清零行动工作通报", "2016年第1期豫淘汰办〔2016〕12号", "河南省淘汰落后产能工作领导小组办公室",
                 "2016年11月15日", "一、总体情况", "截至2016年11月15日（台账第480条记录），全省28个地区中",
                 "二、各地区情况及考核排名", "排名依据：考核总分（SPEC§6", "取自考核服务截至台账第480条记录的结果",
                 "总分相同者名次并列"):
        assert text in first, text
    assert first.index("淘汰落后产能清零行动工作通报") < first.index("一、总体情况") < first.index("二、各地区情况")
    whole = re.sub(r"\s+", "", "".join(page.extract_text() for page in pdf.pages))
    assert all(region in whole for region in ("郑州市", "新蔡县", "济源市", "巩义市"))


def test_ties_share_a_rank_and_progress_is_per_industry_in_its_own_unit():
    page = render_html(campaign()).decode("utf-8")
    ranks = re.findall(r'<tr><td class="num">(\d+)</td><td>', page)
    assert ranks[:4] == ["1", "2", "2", "4"] and len(ranks) == 28
    assert re.search(r"<td>(\S+ \d+/\d+(万吨|万重量箱|万标张|万米|万千瓦)；?)+</td>", page)
    assert "（草稿）" in page and "暂按0分计" in page


@pytest.mark.parametrize("render", [render_html, render_pdf])
def test_the_first_circular_of_a_year_says_it_is_the_first(render):
    if render is render_pdf and FONT is None:
        pytest.skip("no CJK TrueType font")
    first = _text(render(campaign()))
    assert "本期为2016年度第一期通报，此前无通报可比。" in first and "无变化" not in first
    later = _text(render(campaign(previous={"circular_id": "2016-300", "number": 1, "position": 300})))
    assert "与上期通报（第1期，台账第300条记录）相比无变化。" in later and "第一期" not in later
    changed = _text(render(campaign(previous={"circular_id": "2016-300", "number": 1, "position": 300},
                                    changes=[{"region": "410100", "what": "炼钢已验收：0→12.5万吨"}])))
    assert "与上期通报（第1期，台账第300条记录）相比：" in changed and "郑州市：炼钢已验收：0→12.5万吨" in changed


def _text(document: bytes) -> str:
    if document.startswith(b"%PDF"):
        return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(BytesIO(document)).pages))
    return re.sub(r"<[^>]+>", "", document.decode("utf-8"))


@pytest.mark.parametrize("render", [render_html, render_pdf])
def test_a_circular_with_nothing_registered_says_there_is_no_chart(render):
    if render is render_pdf and FONT is None:
        pytest.skip("no CJK TrueType font")
    empty = campaign()
    for region in empty["regions"]:
        region["industries"], region["overdue_items"] = [], []
    assert "无登记产能，暂无进度图。" in _text(render(empty)) and "无登记的落后产能" in _text(render(empty))
