"""A circular as an A4 PDF in Chinese, with its charts and its CJK font embedded.

Deterministic: reportlab's ``invariant`` mode keeps the clock and random ids out, and two
things are then pinned to the content instead of reportlab's defaults — the creation date is
the circular's ``issued_at`` (in Beijing time) and the file identifier is derived from the
circular's canonical JSON — so the bytes do not depend on ``SOURCE_DATE_EPOCH`` or on the
moment of rendering either. The same content and the same font file give the same bytes.
"""
from __future__ import annotations

import hashlib
import os
import threading
from io import BytesIO
from typing import Any, Mapping

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.notify.circulars.content import (
    OFFICE_ZH, REPORT_STATUS_ZH, Chart, charts, industry_totals, issued_beijing, issued_date_zh,
    percent, percent_zh, period_zh, plain, provenance_zh, region_names, validate_content,
)
from services.notify.circulars.fonts import PdfUnavailable, find_cjk_font, no_font_message
from shared.canonical import dumps_checked

_LOCK = threading.Lock()  # reportlab's font registry and a TTFont's per-document state are global
_FONTS: dict[tuple[str, int, int], str] = {}
_MARGIN = 16 * mm
_WIDTH = A4[0] - 2 * _MARGIN


def render_pdf(content: Mapping[str, Any], font_path: str | None = None) -> bytes:
    """The circular as PDF bytes; ``PdfUnavailable`` when no usable CJK font is found."""
    validate_content(content)
    path = font_path or find_cjk_font()
    if path is None:
        raise PdfUnavailable(no_font_message())
    with _LOCK:
        font = _register(path)
        return _build(content, _Styles(font))


def _register(path: str) -> str:
    """Register the font file once (per path and version of the file) and return its name."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise PdfUnavailable(f"the CJK font {path} cannot be read ({exc}); "
                             + no_font_message({})) from exc
    key = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size)
    if key not in _FONTS:
        name = f"ZeroclearCJK{len(_FONTS)}"  # never written into the PDF
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        except (TTFError, OSError, ValueError, KeyError) as exc:
            raise PdfUnavailable(f"{path} is not an embeddable TrueType font ({exc}); "
                                 + no_font_message({})) from exc
        _FONTS[key] = name
    return _FONTS[key]


class _Styles:
    def __init__(self, font: str) -> None:
        self.font = font

        def style(name: str, size: float, **extra: Any) -> ParagraphStyle:
            return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.45,
                                  wordWrap="CJK", **extra)
        self.title = style("title", 16, alignment=1, spaceAfter=4)
        self.meta = style("meta", 9.5, alignment=1, textColor=colors.HexColor("#444444"))
        self.h2 = style("h2", 12.5, spaceBefore=10, spaceAfter=4, keepWithNext=1)
        self.h3 = style("h3", 11, spaceBefore=8, spaceAfter=2, keepWithNext=1)
        self.body = style("body", 9.5)
        self.cell = style("cell", 8.5)
        self.number = style("number", 8.5, alignment=2)
        self.caption = style("caption", 9, spaceBefore=2, keepWithNext=1)
        self.signature = style("signature", 10.5, alignment=2)


def _build(content: Mapping[str, Any], s: _Styles) -> bytes:
    out = BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN,
        bottomMargin=_MARGIN + 4 * mm, title=content["title"], author=OFFICE_ZH,
        subject=provenance_zh(content), creator="zeroclear notify", invariant=True,
        initialFontName=s.font, lang="zh-CN")
    story = [*_header(content, s), *_summary(content, s), Paragraph("二、淘汰进度图", s.h2)]
    for chart in charts(content):
        story.append(KeepTogether([Paragraph(_esc(chart.title), s.caption),
                                   chart_drawing(chart, s.font)]))
    story += [*_overview(content, s), *_details(content, s)]
    story.append(KeepTogether([*_changes(content, s), Spacer(1, 8 * mm),
                               Paragraph(OFFICE_ZH, s.signature),
                               Paragraph(issued_date_zh(content), s.signature)]))
    footer = _footer(content, s.font)
    doc.build(story, onFirstPage=footer, onLaterPages=footer,
              canvasmaker=lambda *args, **kw: _PinnedCanvas(content, *args, **kw))
    return out.getvalue()


class _PinnedCanvas(Canvas):
    """A canvas whose creation date and file identifier come from the content."""

    def __init__(self, content: Mapping[str, Any], *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        stamp, issued = TimeStamp(invariant=True), issued_beijing(content)
        stamp.YMDhms = (issued.year, issued.month, issued.day, issued.hour, issued.minute,
                        issued.second)
        stamp.dhh, stamp.dmm, stamp.tzname = 8, 0, "CST"
        stamp.t = issued.timestamp()
        self._doc._timeStamp = stamp
        # the /ID is the MD5 of this signature (plus title, author, subject, keywords)
        self._doc.signature = hashlib.md5(dumps_checked(content), usedforsecurity=False)


def _footer(content: Mapping[str, Any], font: str) -> Any:
    text = f"{content['title']}　台账第{content['position']}条　{content['head_hash'][:16]}…"

    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(_MARGIN, 9 * mm, text)
        canvas.drawRightString(A4[0] - _MARGIN, 9 * mm, f"第 {doc.page} 页")
        canvas.restoreState()
    return draw


def _esc(text: str) -> str:
    """Paragraphs read a little markup: escape what would be taken for it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(content: Mapping[str, Any], s: _Styles) -> list[Any]:
    return [Paragraph(_esc(content["title"]), s.title),
            Paragraph(f"{OFFICE_ZH}　{issued_date_zh(content)}", s.meta),
            Paragraph(f"通报编号：{_esc(content['circular_id'])}　统计期：{_esc(period_zh(content))}"
                      f"（{content['year']}年度）", s.meta),
            Paragraph(_esc(provenance_zh(content)), s.meta)]


def _table(rows: list[list[Any]], widths: list[float], s: _Styles, numeric: tuple[int, ...] = (),
           header: bool = True) -> Table:
    def cell(text: Any, row: int, col: int) -> Paragraph:
        numeric_cell = col in numeric and (row > 0 or not header)
        return Paragraph(_esc(str(text)), s.number if numeric_cell else s.cell)
    cells = [[cell(text, row, col) for col, text in enumerate(line)]
             for row, line in enumerate(rows)]
    scale = _WIDTH / sum(widths)
    table = Table(cells, colWidths=[w * scale for w in widths], repeatRows=1 if header else 0)
    commands = [("FONTNAME", (0, 0), (-1, -1), s.font),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    table.setStyle(TableStyle(commands))
    return table


def _summary(content: Mapping[str, Any], s: _Styles) -> list[Any]:
    p = content["province"]
    items, tips = p["items"], p["tips"]
    rows = [["地区总数", p["regions"], "已报送", p["reported"]],
            ["按时报送", p["on_time"], "逾期报送", p["late"]],
            ["未报送", p["missing"], "零报告", p["zero_reports"]],
            ["已清零地区", p["cleared"], "登记项目", items["registered"]],
            ["已淘汰项目", items["eliminated"], "已验收项目", items["verified"]],
            ["逾期未淘汰项目", items["overdue"], "收到举报", tips["received"]],
            ["办结举报", tips["resolved"], "逾期举报", tips["late"]],
            ["名单核对差异", p["discrepancies"], "死灰复燃", p["resurgences"]]]
    return [Paragraph("一、全省总体情况", s.h2), _table(rows, [3, 2, 3, 2], s, (1, 3), header=False),
            *_industries(industry_totals(content), "全省分行业产能", s)]


def _industries(rows: list[Mapping[str, Any]], caption: str, s: _Styles) -> list[Any]:
    if not rows:
        return [Paragraph("无登记的落后产能。", s.body)]
    lines = [["行业", "单位", "登记产能", "已淘汰", "已验收", "验收比例"]]
    for row in rows:
        lines.append([row["industry"], row["unit"], *(_quantity(row[field]) for field in
                      ("registered", "eliminated", "verified")),
                      percent_zh(percent(row["verified"], row["registered"]))])
    return [Paragraph(_esc(caption), s.caption), _table(lines, [4, 3, 3, 3, 3, 3], s, (2, 3, 4, 5))]


def _quantity(value: Any) -> str:
    return value if isinstance(value, str) else plain(value)


def _overview(content: Mapping[str, Any], s: _Styles) -> list[Any]:
    lines = [["排名", "地区", "报送情况", "逾期项目", "举报（收到/办结/逾期）", "名单核对差异",
              "死灰复燃", "清零", "得分"]]
    for region in content["regions"]:
        tips = region["tips"]
        lines.append([_rank(region), region["name"], REPORT_STATUS_ZH[region["report"]],
                      len(region["overdue_items"]),
                      f"{tips['received']}/{tips['resolved']}/{tips['late']}",
                      region["discrepancies"], region["resurgences"],
                      "已清零" if region["cleared"] else "未清零", _total(region)])
    return [Paragraph("三、各地区情况", s.h2),
            _table(lines, [38, 70, 56, 42, 72, 50, 46, 44, 50], s, (0, 3, 4, 5, 6, 8))]


def _rank(region: Mapping[str, Any]) -> str:
    return "—" if region["rank"] is None else f"第{region['rank']}名"


def _total(region: Mapping[str, Any]) -> str:
    return "—" if region["total"] is None else region["total"]


def _details(content: Mapping[str, Any], s: _Styles) -> list[Any]:
    story: list[Any] = []
    for region in content["regions"]:
        tips = region["tips"]
        facts = (f"报送情况：{REPORT_STATUS_ZH[region['report']]}；"
                 f"{'已清零' if region['cleared'] else '未清零'}；排名：{_rank(region)}；"
                 f"得分：{_total(region)}；举报：收到{tips['received']}件，办结{tips['resolved']}件，"
                 f"逾期{tips['late']}件；名单核对差异{region['discrepancies']}处；"
                 f"死灰复燃{region['resurgences']}处。")
        story.append(KeepTogether([
            Paragraph(_esc(f"{region['name']}（{region['region']}）"), s.h3),
            Paragraph(facts, s.body),
            *_industries(region["industries"], f"{region['name']}分行业产能", s)]))
        story += _overdue(region["overdue_items"], s)
    return story


def _overdue(items: list[Mapping[str, Any]], s: _Styles) -> list[Any]:
    if not items:
        return [Paragraph("无逾期未淘汰项目。", s.body)]
    lines = [["项目编号", "企业", "设备（生产线）", "计划淘汰日期", "逾期天数"]]
    lines += [[item["item_id"], item["enterprise"], item["equipment"], item["planned_date"],
               item["days_late"]] for item in items]
    return [Paragraph("逾期未淘汰项目", s.caption), _table(lines, [4, 6, 6, 3, 2], s, (4,))]


def _changes(content: Mapping[str, Any], s: _Styles) -> list[Any]:
    story: list[Any] = [Paragraph("四、与上期通报相比的变化", s.h2)]
    if not content["changes"]:
        return story + [Paragraph("与上期通报相比无变化。", s.body)]
    names = region_names(content)
    for number, change in enumerate(content["changes"], 1):
        name = names.get(change["region"], change["region"])
        story.append(Paragraph(_esc(f"{number}. {name}：{change['what']}"), s.body))
    return story


def chart_drawing(chart: Chart, font: str) -> Drawing:
    """The chart as a reportlab Drawing of horizontal grouped bars, with a legend."""
    group = 10 * len(chart.series) + 6
    plot_height = group * len(chart.categories)
    drawing = Drawing(_WIDTH, plot_height + 44, initialFontName=font, initialFontSize=8)
    bars = HorizontalBarChart()
    bars.x, bars.y, bars.width, bars.height = 100, 18, _WIDTH - 100 - 130, plot_height
    # a horizontal chart stacks a group's bars upwards: reversed, the first series is on top
    in_group = list(reversed(chart.series))
    bars.data = [[float(value) for value in series.values] for series in in_group]
    bars.barWidth, bars.groupSpacing, bars.barSpacing = 10, 6, 0
    bars.categoryAxis.categoryNames = list(chart.categories)
    bars.categoryAxis.reverseDirection = 1
    bars.categoryAxis.labels.fontName, bars.categoryAxis.labels.fontSize = font, 8
    bars.valueAxis.valueMin, bars.valueAxis.valueMax = 0, float(chart.axis_max)
    bars.valueAxis.valueStep = float(chart.step)
    bars.valueAxis.labels.fontName, bars.valueAxis.labels.fontSize = font, 7.5
    bars.valueAxis.labelTextFormat = lambda value: f"{round(value)}{chart.axis_label}"
    bars.barLabelFormat, bars.barLabelArray = "values", [list(s.labels) for s in in_group]
    bars.barLabels.fontName, bars.barLabels.fontSize = font, 7
    bars.barLabels.boxAnchor, bars.barLabels.dx = "w", 3
    for index, series in enumerate(in_group):
        bars.bars[index].fillColor = colors.HexColor(series.color)
        bars.bars[index].strokeColor = None
    drawing.add(bars)
    drawing.add(_legend(chart, font, plot_height + 36))
    return drawing


def _legend(chart: Chart, font: str, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y, legend.fontName, legend.fontSize = 100, y, font, 8
    legend.alignment, legend.columnMaximum, legend.deltax = "right", 1, 70
    legend.dx, legend.dy, legend.dxTextSpace = 8, 8, 4
    legend.colorNamePairs = [(colors.HexColor(s.color), s.name) for s in chart.series]
    return legend
