"""A circular as one self-contained, printable HTML page in Chinese.

No script, no external resource (the charts are inline SVG drawn here), every text escaped, and
nothing taken from the clock or a random source: identical content gives identical bytes.
"""
from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any, Mapping

from services.notify.circulars.content import (
    OFFICE_ZH, REPORT_STATUS_ZH, Chart, charts, checkpoint_zh, industry_totals, dated_zh, percent, percent_zh, plain,
    validate_content,
)
from services.notify.circulars.words import (
    BULLETIN_ZH, changes_zh, footer_zh, issue_line_zh, progress_zh, rank_zh, ranking_zh, score_zh, subtitle_zh,
    summary_zh, tips_zh,
)

NO_CHART_HTML = "<p>无登记产能，暂无进度图。</p>"
_STYLE = """
@page { size: A4; margin: 16mm 14mm 18mm; }
body { font-family: "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Microsoft YaHei", "SimSun",
       sans-serif; color: #222; max-width: 190mm; margin: 0 auto; font-size: 10.5pt;
       line-height: 1.5; }
.masthead { text-align: center; }
.bulletin { color: #c00; font-size: 24pt; font-weight: bold; letter-spacing: 0.1em; margin: 0.4em 0 0.1em; }
.issue { margin: 0; }
.issuer { display: flex; justify-content: space-between; margin-top: 0.6em; }
hr.red { border: 0; border-top: 2px solid #c00; margin: 0.2em 0 0.8em; }
.subtitle { text-align: center; color: #444; margin: 0; font-size: 9.5pt; }
h2 { font-size: 13pt; margin: 1.2em 0 0.4em; }
p.note { font-size: 9pt; color: #333; }
table { border-collapse: collapse; width: 100%; margin: 0.3em 0 0.6em; font-size: 8.5pt; }
th, td { border: 1px solid #888; padding: 1px 4px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr, figure { page-break-inside: avoid; break-inside: avoid; }
figure { margin: 0.6em 0; }
svg { max-width: 100%; height: auto; }
figcaption { font-weight: bold; margin-bottom: 0.3em; }
.signature { margin-top: 1.5em; text-align: right; }
.signature p { margin: 0; }
section.witness { margin-top: 1.2em; font-size: 7.5pt; color: #333; overflow-wrap: anywhere; }
section.witness pre { white-space: pre-wrap; word-break: break-all; font-size: 7pt; }
footer.provenance { margin-top: 1.5em; border-top: 1px solid #999; font-size: 7.5pt; color: #555;
                    white-space: nowrap; overflow-wrap: normal; }
""".strip()


def render_html(content: Mapping[str, Any]) -> bytes:
    """The circular as a complete UTF-8 HTML document, laid out as the printed bulletin."""
    validate_content(content)
    body = [
        _masthead(content),
        "<h2>一、总体情况</h2>", f"<p>{escape(summary_zh(content))}</p>",
        _industry_table(industry_totals(content), "全省分行业产能（各按其计量单位）"),
        "<h2>二、各地区情况及考核排名</h2>", f"<p class=\"note\">{escape(ranking_zh(content))}</p>",
        _regions(content),
        "<h2>三、淘汰进度图</h2>", *([svg_chart(chart) for chart in charts(content)] or [NO_CHART_HTML]),
        "<h2>四、逾期未淘汰项目</h2>", _overdue_table(content), _changes(content), _signature(content),
        _witness(content), f"<footer class=\"provenance\">{escape(footer_zh(content))}</footer>",
    ]
    page = ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(content['title'])}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n"
            "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")
    return page.encode("utf-8")


def _masthead(content: Mapping[str, Any]) -> str:
    return (f"<header class=\"masthead\">\n<h1 class=\"bulletin\">{BULLETIN_ZH}</h1>\n"
            f"<p class=\"issue\">{escape(issue_line_zh(content))}</p>\n"
            f"<div class=\"issuer\"><span>{escape(OFFICE_ZH)}</span>"
            f"<span>{escape(dated_zh(content))}</span></div>\n<hr class=\"red\">\n"
            f"<p class=\"subtitle\">{escape(subtitle_zh(content))}</p>\n</header>")


def _industry_table(rows: list[Mapping[str, Any]], caption: str) -> str:
    if not rows:
        return "<p>无登记的落后产能。</p>"
    body = "".join(
        f"<tr><td>{escape(row['industry'])}</td><td>{escape(row['unit'])}</td>"
        + "".join(f"<td class=\"num\">{escape(_quantity(row[field]))}</td>"
                  for field in ("registered", "eliminated", "verified"))
        + f"<td class=\"num\">{percent_zh(percent(row['verified'], row['registered']))}</td></tr>\n"
        for row in rows)
    return (f"<table class=\"industries\">\n<caption>{escape(caption)}</caption>\n"
            "<tr><th>行业</th><th>单位</th><th>登记产能</th><th>已淘汰</th><th>已验收</th>"
            f"<th>验收比例</th></tr>\n{body}</table>")


def _quantity(value: str | Decimal) -> str:
    return plain(value) if isinstance(value, Decimal) else value


def _regions(content: Mapping[str, Any]) -> str:
    body = "".join(
        f"<tr><td class=\"num\">{rank_zh(region)}</td><td>{escape(region['name'])}</td>"
        f"<td>{REPORT_STATUS_ZH[region['report']]}</td><td class=\"num\">{escape(score_zh(region))}</td>"
        f"<td>{escape(region['grade'] or '—')}</td><td>{'已清零' if region['cleared'] else '未清零'}</td>"
        f"<td>{escape(progress_zh(region))}</td><td class=\"num\">{len(region['overdue_items'])}</td>"
        f"<td class=\"num\">{tips_zh(region)}</td><td class=\"num\">{region['discrepancies']}</td>"
        f"<td class=\"num\">{region['resurgences']}</td></tr>\n" for region in content["regions"])
    return ("<table class=\"regions\">\n<tr><th>排名</th><th>地区</th><th>报送情况</th><th>考核总分</th>"
            "<th>等次</th><th>清零</th><th>淘汰进展（已验收/登记）</th><th>逾期项目</th>"
            f"<th>举报（收到/办结/逾期）</th><th>名单差异</th><th>死灰复燃</th></tr>\n{body}</table>")


def _overdue_table(content: Mapping[str, Any]) -> str:
    items = [(region["name"], item) for region in content["regions"] for item in region["overdue_items"]]
    if not items:
        return "<p>无逾期未淘汰项目。</p>"
    body = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(item['enterprise'])}</td><td>{escape(item['equipment'])}</td>"
        f"<td>{escape(item['planned_date'])}</td><td class=\"num\">{item['days_late']}</td>"
        f"<td>{escape(item['item_id'])}</td></tr>\n" for name, item in items)
    return ("<table class=\"overdue\">\n<tr><th>地区</th><th>企业</th><th>设备（生产线）</th><th>计划淘汰日期</th>"
            f"<th>逾期天数</th><th>项目编号</th></tr>\n{body}</table>")


def _changes(content: Mapping[str, Any]) -> str:
    intro, items = changes_zh(content)
    listed = "".join(f"<li>{escape(item)}</li>\n" for item in items)
    return (f"<h2>五、与上期通报相比的变化</h2>\n<p>{escape(intro)}</p>"
            + (f"\n<ol class=\"changes\">\n{listed}</ol>" if items else ""))


def _witness(content: Mapping[str, Any]) -> str:
    line = checkpoint_zh(content)
    if line is None:
        return ""
    return (f"<section class=\"witness\">\n<p>{escape(line)}</p>\n"
            f"<pre>{escape(content['checkpoint']['note'])}</pre>\n</section>")


def _signature(content: Mapping[str, Any]) -> str:
    return (f"<div class=\"signature\">\n<p>{escape(OFFICE_ZH)}</p>\n<p>{escape(dated_zh(content))}</p>\n"
            "</div>")


# --- the SVG chart ------------------------------------------------------------------------

_WIDTH, _LABEL_W, _PLOT_W, _BAR_H, _GAP, _TOP = 720, 150, 380, 14, 10, 44


def svg_chart(chart: Chart) -> str:
    """A horizontal grouped bar chart as inline SVG (no script, no external reference)."""
    group = _BAR_H * len(chart.series) + _GAP
    height = _TOP + group * len(chart.categories) + 28
    parts = [f"<figure>\n<figcaption>{escape(chart.title)}</figcaption>\n"
             f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{_WIDTH}\" height=\"{height}\" "
             f"viewBox=\"0 0 {_WIDTH} {height}\" role=\"img\" aria-label=\"{escape(chart.title)}\" "
             "font-size=\"11\">", f"<title>{escape(chart.title)}</title>",
             *_legend(chart), *_grid(chart, height - 28)]
    for index, category in enumerate(chart.categories):
        top = _TOP + index * group
        middle = top + _BAR_H * len(chart.series) // 2
        parts.append(f"<text x=\"{_LABEL_W - 6}\" y=\"{middle}\" text-anchor=\"end\" "
                     f"dominant-baseline=\"middle\">{escape(category)}</text>")
        for offset, series in enumerate(chart.series):
            y = top + offset * _BAR_H
            width = _scale(series.values[index], chart.axis_max)
            parts.append(f"<rect class=\"bar\" x=\"{_LABEL_W}\" y=\"{y + 1}\" width=\"{width}\" "
                         f"height=\"{_BAR_H - 2}\" fill=\"{series.color}\"/>")
            parts.append(f"<text x=\"{_LABEL_W + Decimal(width) + 4}\" y=\"{y + _BAR_H // 2}\" "
                         f"dominant-baseline=\"middle\" font-size=\"9\">"
                         f"{escape(series.labels[index])}</text>")
    parts.append("</svg>\n</figure>")
    return "\n".join(parts)


def _scale(value: Decimal, axis_max: Decimal) -> str:
    """The length in SVG units of a bar for ``value``, written with one decimal."""
    length = min(value, axis_max) * _PLOT_W / axis_max
    return plain(length.quantize(Decimal("0.1")))


def _legend(chart: Chart) -> list[str]:
    parts, x = [], _LABEL_W
    for series in chart.series:
        parts.append(f"<rect x=\"{x}\" y=\"10\" width=\"12\" height=\"12\" "
                     f"fill=\"{series.color}\"/>")
        parts.append(f"<text x=\"{x + 16}\" y=\"20\">{escape(series.name)}</text>")
        x += 90
    return parts


def _grid(chart: Chart, bottom: int) -> list[str]:
    parts, tick = [], Decimal(0)
    while tick <= chart.axis_max:
        x = _LABEL_W + Decimal(_scale(tick, chart.axis_max))
        parts.append(f"<line x1=\"{x}\" y1=\"{_TOP - 4}\" x2=\"{x}\" y2=\"{bottom}\" "
                     "stroke=\"#ccc\" stroke-width=\"1\"/>")
        parts.append(f"<text x=\"{x}\" y=\"{bottom + 14}\" text-anchor=\"middle\" font-size=\"9\">"
                     f"{plain(tick)}{escape(chart.axis_label)}</text>")
        tick += chart.step
    return parts
