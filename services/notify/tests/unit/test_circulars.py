"""A circular (``services.notify.circulars``) rendered as JSON, HTML and PDF, without I/O.

The same content must give the same bytes in every format (a circular is pinned to a ledger
position and its hash is on the log); each format must carry the figures, the position and the
head hash, a chart, and the region names in Chinese; the PDF must embed its CJK font; and bad
content is refused naming the path of what is wrong.
"""
from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from services.notify import circulars
from services.notify.circulars import (
    PdfUnavailable, find_cjk_font, render_html, render_json, render_pdf, validate_content,
)
from services.notify.circulars import fonts
from services.notify.circulars.content import OVERDUE_COLOR, VERIFIED_COLOR
from shared.canonical import reference_dumps

ROOT = Path(__file__).resolve().parents[4]
HEAD = "3f1c0a9be2d4471f8a5c6e0d9b7a2c4e1f0d3b5a7c9e2f4a6b8d0c1e3f5a7b9d"
FONT = find_cjk_font()
needs_font = pytest.mark.skipif(FONT is None, reason="no CJK TrueType font (fonts-wqy-zenhei)")


def _region(code, name, report, industries, overdue=(), tips=(0, 0, 0), rank=None, total=None,
            cleared=False, discrepancies=0, resurgences=0, grade=None, draft=False):
    return {"region": code, "name": name, "report": report,
            "industries": [{"industry": i, "unit": u, "registered": r, "eliminated": e,
                            "verified": v} for i, u, r, e, v in industries],
            "overdue_items": [{"item_id": item, "enterprise": ent, "equipment": eq,
                               "planned_date": day, "days_late": late}
                              for item, ent, eq, day, late in overdue],
            "tips": dict(zip(("received", "resolved", "late"), tips)),
            "discrepancies": discrepancies, "resurgences": resurgences, "cleared": cleared,
            "rank": rank, "total": total, "grade": grade, "draft": draft}


@pytest.fixture
def content():
    return {
        "circular_id": "2016-11", "number": 2, "document_no": "豫淘汰办〔2016〕12号",
        "title": "河南省淘汰落后产能清零行动工作通报（2016年第2期）",
        "issued_at": "2016-11-30T02:00:00Z",
        "position": 4821, "head_hash": HEAD, "year": 2016, "period": "2016-11",
        "province": {"regions": 28, "reported": 20, "on_time": 15, "late": 5, "missing": 8,
                     "zero_reports": 3, "cleared": 2,
                     "items": {"registered": 64, "eliminated": 41, "verified": 27, "overdue": 6},
                     "tips": {"received": 19, "resolved": 14, "late": 2},
                     "discrepancies": 4, "resurgences": 1},
        "regions": [
            _region("410100", "郑州市", "on_time",
                    [("炼钢", "万吨", "150", "100", "50"), ("水泥", "万吨", "320", "320", "280"),
                     ("平板玻璃", "万重量箱", "600", "240", "120")],
                    overdue=[("ZZ-2016-007", "郑州某某钢铁有限公司", "30吨转炉", "2016-06-30", 153)],
                    tips=(6, 5, 0), rank=1, total="82.00", grade="良好", discrepancies=1),
            _region("410200", "开封市", "late",
                    [("炼钢", "万吨", "45.5", "20", "0"), ("造纸", "万吨", "12.5", "12.5", "12.5")],
                    overdue=[("KF-2016-002", "开封某某造纸厂", "1575mm造纸机", "2016-09-30", 61),
                             ("KF-2016-004", "开封某某铸造厂", "3吨冲天炉", "2016-10-31", 30)],
                    tips=(4, 2, 1), rank=2, total="60.00", grade="合格", resurgences=1),
            _region("410300", "洛阳市", "zero", [], rank=2, total="60.00", grade="合格", cleared=True),
            _region("419001", "济源市", "missing", [("制革", "万标张", "30", "0", "0")],
                    tips=(1, 0, 1), rank=4, total="36.00", grade="不合格", draft=True),
        ],
        "ranking": {"position": 4821, "cut_off": "2017-01-03T15:59:59.999999Z", "digest": "ab" * 32, "draft": True},
        "previous": {"circular_id": "2016-4000", "number": 1, "position": 4000},
        "changes": [{"region": "410100", "what": "报送排查登记表"},
                    {"region": "410200", "what": "开封某某造纸厂1575mm造纸机完成淘汰"},
                    {"region": "410300", "what": "报送零报告"}],
    }


# --- JSON -----------------------------------------------------------------------------------

def test_the_json_rendering_is_the_canonical_json_of_the_content(content):
    rendered = render_json(content)
    assert rendered == reference_dumps(content)
    assert json.loads(rendered) == content


def test_equal_content_gives_identical_json_whatever_the_key_order(content):
    reordered = dict(reversed(list(json.loads(json.dumps(content, sort_keys=True)).items())))
    assert list(reordered) != list(content)
    assert render_json(reordered) == render_json(copy.deepcopy(content))


# --- HTML -----------------------------------------------------------------------------------

def test_the_html_rendering_is_identical_bytes_for_identical_content(content):
    assert render_html(content) == render_html(copy.deepcopy(content))


def test_the_html_page_is_self_contained_chinese_and_carries_every_section(content):
    page = render_html(content).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    for text in ("郑州市", "开封市", "洛阳市", "济源市", "2016年11月30日",
                 f"本通报依据台账第4821条记录　哈希 {HEAD}", "按时报送", "逾期报送", "零报告",
                 "未报送", "已清零", "未清零", "82.00", "良好", "36.00（草稿）", "平板玻璃", "万重量箱", "万标张",
                 "ZZ-2016-007", "郑州某某钢铁有限公司", "153", "与上期通报相比的变化",
                 "报送排查登记表", "总体情况", "名单核对差异", "死灰复燃", "豫淘汰办〔2016〕12号",
                 "河南省淘汰落后产能工作领导小组办公室", "第2期", "排名依据：考核总分（SPEC §6",
                 "截至台账第4821条记录", "总分相同者名次并列", "炼钢 50/150万吨；水泥 280/320万吨；平板玻璃 120/600万重量箱"):
        assert text in page, text
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_the_html_page_shows_figures_in_their_table_cells(content):
    page = render_html(content).decode("utf-8")
    assert ('<td>水泥</td><td>万吨</td><td class="num">320</td><td class="num">320</td>'
            '<td class="num">280</td><td class="num">87.5%</td>') in page
    # the province totals add decimals exactly: 150 + 45.5 registered steel
    assert '<td>炼钢</td><td>万吨</td><td class="num">195.5</td>' in page


def test_the_html_page_draws_an_inline_svg_bar_chart(content):
    page = render_html(content).decode("utf-8")
    svgs = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(svgs) == 2
    industry_chart = svgs[0]
    assert "分行业淘汰进度" in industry_chart and "平板玻璃（万重量箱）" in industry_chart
    bars = re.findall(r'<rect class="bar" [^>]*width="([0-9.]+)"[^>]*fill="([^"]+)"',
                      industry_chart)
    assert len(bars) == 2 * 5  # eliminated and verified for five (industry, unit) pairs
    verified = [float(width) for width, color in bars if color == VERIFIED_COLOR]
    assert verified[0] == pytest.approx(380 * 0.256, abs=0.1)  # 25.6% on a 0–100% axis 380 wide
    assert "25.6%（50/195.5）" in industry_chart


def test_the_html_page_escapes_every_text(content):
    content["regions"][0]["overdue_items"][0]["enterprise"] = "<script>alert('x')</script>某厂"
    content["changes"][0]["what"] = 'a "quoted" & <b>bold</b>'
    content["regions"][1]["name"] = "开封<img src=x onerror=alert(1)>"
    page = render_html(content).decode("utf-8")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;某厂" in page
    assert "a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


# --- PDF ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pdf_of():
    cache = {}

    def render(content):
        key = render_json(content)
        if key not in cache:
            cache[key] = render_pdf(content, FONT)
        return cache[key]
    return render


@needs_font
def test_the_pdf_rendering_is_identical_bytes_for_identical_content(content, pdf_of):
    first = pdf_of(content)
    assert first.startswith(b"%PDF-") and render_pdf(copy.deepcopy(content), FONT) == first


@needs_font
def test_the_pdf_is_identical_across_processes_and_ignores_source_date_epoch(content, pdf_of):
    script = ("import json, sys; from services.notify.circulars import render_pdf; "
              "sys.stdout.buffer.write(render_pdf(json.loads(sys.stdin.read()), sys.argv[1]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "SOURCE_DATE_EPOCH": "1234567890",
           "TZ": "America/New_York"}
    other = subprocess.run([sys.executable, "-c", script, FONT], input=json.dumps(content).encode(),
                           capture_output=True, check=True, cwd=ROOT, env=env, timeout=120).stdout
    assert other == pdf_of(content)


@needs_font
def test_the_pdf_is_a4_dated_by_the_circular_and_identified_by_its_content(content, pdf_of):
    reader = PdfReader(BytesIO(pdf_of(content)))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert reader.metadata["/CreationDate"] == "D:20161130100000+08'00'"  # 02:00Z in Beijing
    assert reader.metadata.title == content["title"]
    changed = copy.deepcopy(content)
    changed["position"] += 1
    assert PdfReader(BytesIO(pdf_of(changed))).trailer["/ID"] != reader.trailer["/ID"]


@needs_font
def test_the_pdf_text_carries_the_region_names_figures_position_and_hash(content, pdf_of):
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf_of(content))).pages)
    text = re.sub(r"\s+", "", text)
    for expected in ("郑州市", "开封市", "洛阳市", "济源市", "150", "195.5", "平板玻璃", "万重量箱",
                     "2016年11月30日", "本通报依据台账第4821条记录", HEAD, "按时报送", "逾期报送",
                     "零报告", "未报送", "已清零", "82.00", "良好", "郑州某某钢铁有限公司", "153",
                     "与上期通报相比的变化", "报送排查登记表", "分行业淘汰进度", "豫淘汰办〔2016〕12号",
                     "排名依据：考核总分（SPEC§6", "炼钢50/150万吨；水泥280/320万吨"):
        assert expected in text, expected


@needs_font
def test_the_pdf_embeds_a_subset_of_its_cjk_font(content, pdf_of):
    reader = PdfReader(BytesIO(pdf_of(content)))
    fonts_used = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts_used[font["/BaseFont"]] = font
    assert fonts_used, "no font on any page"
    for name, font in fonts_used.items():
        assert re.fullmatch(r"/[A-Z]{6}\+\S+", name), f"{name} is not an embedded subset"
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{name} is not embedded"
        assert len(descriptor["/FontFile2"].get_object().get_data()) > 1000
    assert not any("Helvetica" in name or "Times" in name for name in fonts_used)


def _filled_rectangles(page, color: str) -> int:
    """How many rectangles the page fills in ``color`` ("#rrggbb")."""
    wanted = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    fill, count, pending = None, 0, 0
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"rg":
            fill = [float(x) for x in operands]
        elif operator == b"re":
            pending += 1
        elif operator in (b"f", b"F", b"f*", b"B", b"b", b"B*", b"b*"):
            if fill and all(abs(a - b) < 0.005 for a, b in zip(fill, wanted)):
                count += pending
            pending = 0
        elif operator in (b"S", b"n"):
            pending = 0
    return count


@needs_font
def test_the_pdf_draws_its_bar_charts(content, pdf_of):
    reader = PdfReader(BytesIO(pdf_of(content)))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "分行业淘汰进度" in text and "各地区逾期未淘汰项目数" in text
    verified = sum(_filled_rectangles(page, VERIFIED_COLOR) for page in reader.pages)
    overdue = sum(_filled_rectangles(page, OVERDUE_COLOR) for page in reader.pages)
    # a bar per (industry, unit) with something verified (制革 has none) and the legend's swatch
    assert verified == 4 + 1
    assert overdue == 2 + 1  # Zhengzhou's and Kaifeng's bars (zero draws none) and the swatch


def test_no_font_found_makes_the_pdf_unavailable_and_says_what_to_install(content, monkeypatch):
    monkeypatch.setenv("ZEROCLEAR_NOTIFY_FONT", "/nowhere/font.ttc")
    monkeypatch.setattr(fonts, "KNOWN_FONTS", ())
    assert find_cjk_font() is None
    with pytest.raises(PdfUnavailable) as raised:
        render_pdf(content)
    assert "fonts-wqy-zenhei" in str(raised.value) and "ZEROCLEAR_NOTIFY_FONT" in str(raised.value)
    assert "/nowhere/font.ttc" in str(raised.value)
    # the other renderings need no font
    assert render_html(content) and render_json(content)


def test_a_file_that_is_not_a_font_makes_the_pdf_unavailable(content, tmp_path):
    bogus = tmp_path / "bogus.ttc"
    bogus.write_bytes(b"not a font at all" * 10)
    with pytest.raises(PdfUnavailable, match="fonts-wqy-zenhei"):
        render_pdf(content, str(bogus))


def test_the_font_variable_wins_over_the_known_fonts(tmp_path):
    chosen = tmp_path / "chosen.ttf"
    chosen.write_bytes(b"x")
    assert find_cjk_font({"ZEROCLEAR_NOTIFY_FONT": str(chosen)}) == str(chosen)
    assert find_cjk_font({}) in (*fonts.KNOWN_FONTS, None)


# --- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize("path, mutate", [
    ("$.head_hash", lambda c: c.pop("head_hash")),
    ("$.province.items.verified", lambda c: c["province"]["items"].pop("verified")),
    ("$.regions[1].industries[0].unit", lambda c: c["regions"][1]["industries"][0].pop("unit")),
    ("$.regions[0].overdue_items[0].planned_date",
     lambda c: c["regions"][0]["overdue_items"][0].pop("planned_date")),
])
def test_a_missing_field_is_named_by_its_path(content, path, mutate):
    mutate(content)
    with pytest.raises(ValueError, match=re.escape(f"{path}: missing")):
        validate_content(content)


@pytest.mark.parametrize("path, mutate", [
    ("$.position", lambda c: c.update(position="4821")),
    ("$.head_hash", lambda c: c.update(head_hash="ABC")),
    ("$.issued_at", lambda c: c.update(issued_at="2016-11-30T10:00:00")),  # no offset
    ("$.regions[0].report", lambda c: c["regions"][0].update(report="ontime")),
    ("$.regions[0].cleared", lambda c: c["regions"][0].update(cleared=1)),
    ("$.regions[2].rank", lambda c: c["regions"][2].update(rank=True)),
    ("$.regions[1].industries[0].registered",
     lambda c: c["regions"][1]["industries"][0].update(registered="1e3")),
    ("$.regions[0].overdue_items[0].days_late",
     lambda c: c["regions"][0]["overdue_items"][0].update(days_late=-1)),
    ("$.regions[0].verifed", lambda c: c["regions"][0].update(verifed="1")),
    ("$.changes[0].region", lambda c: c["changes"][0].update(region="Zhengzhou")),
    ("$.regions[1].region", lambda c: c["regions"][1].update(region="410100")),
])
def test_a_mistyped_or_unexpected_field_is_named_by_its_path(content, path, mutate):
    mutate(content)
    with pytest.raises(ValueError, match=re.escape(path)):
        validate_content(content)


def test_the_issue_number_is_optional_and_checked_when_given(content):
    content["number"] = 2
    validate_content(content)
    assert b'"number":2' in render_json(content)
    content["number"] = 0
    with pytest.raises(ValueError, match=re.escape("$.number")):
        validate_content(content)


@pytest.mark.parametrize("render", [render_json, render_html, validate_content])
def test_a_float_anywhere_is_refused(content, render):
    content["regions"][0]["industries"][2]["verified"] = 120.0
    with pytest.raises(ValueError, match=re.escape("$.regions[0].industries[2].verified")):
        render(content)
    content["regions"][0]["industries"][2]["verified"] = "120"
    content["province"]["tips"]["late"] = 2.0
    with pytest.raises(ValueError, match="float"):
        render(content)


def test_the_package_exports_its_api():
    assert set(circulars.__all__) == {"validate_content", "render_json", "render_html",
                                      "render_pdf", "find_cjk_font", "PdfUnavailable"}
