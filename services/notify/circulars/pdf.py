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
from reportlab.platypus import HRFlowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.notify.circulars.content import (
    OFFICE_ZH, REPORT_STATUS_ZH, Chart, charts, checkpoint_zh, industry_totals, issued_beijing, dated_zh,
    percent, percent_zh, plain, provenance_zh, validate_content,
)
from services.notify.circulars.words import (
    BULLETIN_ZH, changes_zh, footer_zh, issue_line_zh, progress_zh, rank_zh, ranking_zh, score_zh, subtitle_zh,
    summary_zh, tips_zh,
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


RED = colors.HexColor("#cc0000")


class _Styles:
    def __init__(self, font: str) -> None:
        self.font = font

        def style(name: str, size: float, **extra: Any) -> ParagraphStyle:
            return ParagraphStyle(name, **{"fontName": font, "fontSize": size, "leading": size * 1.45,
                                           "wordWrap": "CJK", **extra})
        self.bulletin = style("bulletin", 24, alignment=1, textColor=RED, leading=30, spaceAfter=2)
        self.issue = style("issue", 11, alignment=1)
        self.issuer = style("issuer", 10.5)
        self.dated = style("dated", 10.5, alignment=2)
        self.meta = style("meta", 8.5, alignment=1, textColor=colors.HexColor("#444444"))
        self.h2 = style("h2", 12.5, spaceBefore=8, spaceAfter=3, keepWithNext=1)
        self.body = style("body", 9.5, firstLineIndent=19, spaceAfter=3)
        self.note = style("note", 8, textColor=colors.HexColor("#333333"), spaceAfter=3)
        self.cell = style("cell", 7.5, leading=9.5)
        self.number = style("number", 7.5, leading=9.5, alignment=2)
        self.caption = style("caption", 9, spaceBefore=2, keepWithNext=1)
        self.signature = style("signature", 10.5, alignment=2)


def _build(content: Mapping[str, Any], s: _Styles) -> bytes:
    out = BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN - 2 * mm,
        bottomMargin=_MARGIN + 2 * mm, title=content["title"], author=OFFICE_ZH,
        subject=provenance_zh(content), creator="zeroclear notify", invariant=True,
        initialFontName=s.font, lang="zh-CN")
    story = [*_masthead(content, s),
             Paragraph("一、总体情况", s.h2), Paragraph(_esc(summary_zh(content)), s.body),
             *_industries(industry_totals(content), "全省分行业产能（各按其计量单位）", s),
             Paragraph("二、各地区情况及考核排名", s.h2), Paragraph(_esc(ranking_zh(content)), s.note),
             _regions(content, s), Paragraph("三、淘汰进度图", s.h2)]
    story += [KeepTogether([Paragraph(_esc(chart.title), s.caption), chart_drawing(chart, s.font)])
              for chart in charts(content)] or [Paragraph("无登记产能，暂无进度图。", s.body)]
    story += [Paragraph("四、逾期未淘汰项目", s.h2), *_overdue(content, s)]
    story.append(KeepTogether([*_changes(content, s), Spacer(1, 6 * mm), Paragraph(OFFICE_ZH, s.signature),
                               Paragraph(dated_zh(content), s.signature)]))
    if checkpoint_zh(content) is not None:  # the witness: the ledger's signed checkpoint, to keep
        note = "<br/>".join(_esc(line) for line in content["checkpoint"]["note"].splitlines())
        story.append(KeepTogether([Spacer(1, 4 * mm), Paragraph(_esc(checkpoint_zh(content)), s.note),
                                   Paragraph(note, s.note)]))
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
    """The log position and the full hash on one line at the foot of every page, with the page
    number: the type shrinks until the line fits the width (it never wraps)."""
    text = footer_zh(content)

    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        page = f"第 {doc.page} 页"
        room = _WIDTH - pdfmetrics.stringWidth(page, font, 7.5) - 4 * mm
        size = 7.5
        while size > 4 and pdfmetrics.stringWidth(text, font, size) > room:
            size -= 0.25
        canvas.saveState()
        canvas.setStrokeColor(colors.HexColor("#999999"))
        canvas.setLineWidth(0.5)
        canvas.line(_MARGIN, 13 * mm, A4[0] - _MARGIN, 13 * mm)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.setFont(font, size)
        canvas.drawString(_MARGIN, 9 * mm, text)
        canvas.setFont(font, 7.5)
        canvas.drawRightString(A4[0] - _MARGIN, 9 * mm, page)
        canvas.restoreState()
    return draw


def _esc(text: str) -> str:
    """Paragraphs read a little markup: escape what would be taken for it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _masthead(content: Mapping[str, Any], s: _Styles) -> list[Any]:
    """The head of an official bulletin: its name in red, the issue (and 文号), the issuing office
    and the date, a red rule."""
    issuer = Table([[Paragraph(OFFICE_ZH, s.issuer), Paragraph(dated_zh(content), s.dated)]],
                   colWidths=[_WIDTH * 0.7, _WIDTH * 0.3])
    issuer.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), s.font), ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    return [Paragraph(BULLETIN_ZH, s.bulletin), Paragraph(_esc(issue_line_zh(content)), s.issue), Spacer(1, 4 * mm),
            issuer, HRFlowable(width="100%", thickness=1.5, color=RED, spaceBefore=1, spaceAfter=3),
            Paragraph(_esc(subtitle_zh(content)), s.meta)]


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
                ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5), ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2.5)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    table.setStyle(TableStyle(commands))
    return table


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


def _regions(content: Mapping[str, Any], s: _Styles) -> Table:
    """The 28 regions in rank order, one row each."""
    lines = [["排名", "地区", "报送情况", "考核总分", "等次", "清零", "淘汰进展（已验收/登记）", "逾期项目",
              "举报（收/结/逾）", "名单差异", "死灰复燃"]]
    for region in content["regions"]:
        lines.append([rank_zh(region), region["name"], REPORT_STATUS_ZH[region["report"]], score_zh(region),
                      region["grade"] or "—", "已清零" if region["cleared"] else "未清零", progress_zh(region),
                      len(region["overdue_items"]), tips_zh(region), region["discrepancies"],
                      region["resurgences"]])
    return _table(lines, [9, 18, 15, 21, 12, 12, 49, 10, 15, 10, 10], s, (0, 3, 7, 8, 9, 10))


def _overdue(content: Mapping[str, Any], s: _Styles) -> list[Any]:
    items = [(region["name"], item) for region in content["regions"] for item in region["overdue_items"]]
    if not items:
        return [Paragraph("无逾期未淘汰项目。", s.body)]
    lines = [["地区", "企业", "设备（生产线）", "计划淘汰日期", "逾期天数", "项目编号"]]
    lines += [[name, item["enterprise"], item["equipment"], item["planned_date"], item["days_late"],
               item["item_id"]] for name, item in items]
    return [_table(lines, [3, 6, 5, 3, 2, 5], s, (4,))]


def _changes(content: Mapping[str, Any], s: _Styles) -> list[Any]:
    intro, items = changes_zh(content)
    return [Paragraph("五、与上期通报相比的变化", s.h2), Paragraph(_esc(intro), s.body),
            *(Paragraph(_esc(f"{number}. {item}"), s.body) for number, item in enumerate(items, 1))]


def chart_drawing(chart: Chart, font: str) -> Drawing:
    """The chart as a reportlab Drawing of horizontal grouped bars, with a legend, as wide as the
    page's text and as tall as its categories need (thinner bars when there are many)."""
    bars_drawn = len(chart.categories) * len(chart.series)
    bar = 10 if bars_drawn <= 12 else 7 if bars_drawn <= 24 else 5.5
    group = bar * len(chart.series) + (5 if bar > 7 else 3)
    plot_height = group * len(chart.categories)
    drawing = Drawing(_WIDTH, plot_height + 40, initialFontName=font, initialFontSize=8)
    bars = HorizontalBarChart()
    bars.x, bars.y, bars.width, bars.height = 90, 16, _WIDTH - 90 - 120, plot_height
    # a horizontal chart stacks a group's bars upwards: reversed, the first series is on top
    in_group = list(reversed(chart.series))
    bars.data = [[float(value) for value in series.values] for series in in_group]
    bars.barWidth, bars.groupSpacing, bars.barSpacing = bar, group - bar * len(chart.series), 0
    bars.categoryAxis.categoryNames = list(chart.categories)
    bars.categoryAxis.reverseDirection = 1
    bars.categoryAxis.labels.fontName, bars.categoryAxis.labels.fontSize = font, 7.5 if bar > 7 else 6.5
    bars.valueAxis.valueMin, bars.valueAxis.valueMax = 0, float(chart.axis_max)
    bars.valueAxis.valueStep = float(chart.step)
    bars.valueAxis.labels.fontName, bars.valueAxis.labels.fontSize = font, 7
    bars.valueAxis.labelTextFormat = lambda value: f"{round(value)}{chart.axis_label}"
    bars.barLabelFormat, bars.barLabelArray = "values", [list(s.labels) for s in in_group]
    bars.barLabels.fontName, bars.barLabels.fontSize = font, 6.5
    bars.barLabels.boxAnchor, bars.barLabels.dx = "w", 3
    for index, series in enumerate(in_group):
        bars.bars[index].fillColor = colors.HexColor(series.color)
        bars.bars[index].strokeColor = None
    drawing.add(bars)
    drawing.add(_legend(chart, font, plot_height + 32))
    return drawing


def _legend(chart: Chart, font: str, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y, legend.fontName, legend.fontSize = 90, y, font, 8
    legend.alignment, legend.columnMaximum, legend.deltax = "right", 1, 70
    legend.dx, legend.dy, legend.dxTextSpace = 8, 8, 4
    legend.colorNamePairs = [(colors.HexColor(s.color), s.name) for s in chart.series]
    return legend
