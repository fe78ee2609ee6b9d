"""A circular as one self-contained, printable HTML page in Chinese.

No script, no external resource (the charts are inline SVG drawn here), every text escaped, and
nothing taken from the clock or a random source: identical content gives identical bytes.
"""
from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any, Mapping

from services.notify.circulars.content import (
    OFFICE_ZH, REPORT_STATUS_ZH, Chart, charts, industry_totals, issued_date_zh, percent,
    percent_zh, period_zh, plain, provenance_zh, region_names, validate_content,
)

_STYLE = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Microsoft YaHei", "SimSun",
       sans-serif; color: #222; max-width: 190mm; margin: 0 auto; font-size: 10.5pt;
       line-height: 1.5; }
h1 { font-size: 17pt; text-align: center; margin: 0.6em 0 0.3em; }
h2 { font-size: 13pt; border-bottom: 1px solid #999; margin-top: 1.4em; }
h3 { font-size: 11.5pt; margin: 1.1em 0 0.3em; }
.meta { text-align: center; color: #444; margin: 0; }
.provenance { font-size: 9pt; color: #444; word-break: break-all; text-align: center; }
table { border-collapse: collapse; width: 100%; margin: 0.3em 0 0.6em; font-size: 9.5pt; }
th, td { border: 1px solid #888; padding: 2px 5px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
section.region, figure { page-break-inside: avoid; break-inside: avoid; }
figure { margin: 0.8em 0; }
svg { max-width: 100%; height: auto; }
figcaption { font-weight: bold; margin-bottom: 0.3em; }
footer { margin-top: 2em; text-align: right; }
""".strip()


def render_html(content: Mapping[str, Any]) -> bytes:
    """The circular as a complete UTF-8 HTML document."""
    validate_content(content)
    body = [
        _header(content), _summary(content),
        "<h2>二、淘汰进度图</h2>", *(svg_chart(chart) for chart in charts(content)),
        _overview(content), _details(content), _changes(content), _footer(content),
    ]
    page = ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(content['title'])}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n"
            "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")
    return page.encode("utf-8")


def _header(content: Mapping[str, Any]) -> str:
    return (f"<header>\n<h1>{escape(content['title'])}</h1>\n"
            f"<p class=\"meta\">{escape(OFFICE_ZH)}　{escape(issued_date_zh(content))}</p>\n"
            f"<p class=\"meta\">通报编号：{escape(content['circular_id'])}　"
            f"统计期：{escape(period_zh(content))}（{content['year']}年度）</p>\n"
            f"<p class=\"provenance\">{escape(provenance_zh(content))}</p>\n</header>")


def _summary(content: Mapping[str, Any]) -> str:
    p = content["province"]
    items, tips = p["items"], p["tips"]
    rows = [
        ("地区总数", p["regions"], "已报送", p["reported"]),
        ("按时报送", p["on_time"], "逾期报送", p["late"]),
        ("未报送", p["missing"], "零报告", p["zero_reports"]),
        ("已清零地区", p["cleared"], "登记项目", items["registered"]),
        ("已淘汰项目", items["eliminated"], "已验收项目", items["verified"]),
        ("逾期未淘汰项目", items["overdue"], "收到举报", tips["received"]),
        ("办结举报", tips["resolved"], "逾期举报", tips["late"]),
        ("名单核对差异", p["discrepancies"], "死灰复燃", p["resurgences"]),
    ]
    body = "".join(f"<tr><th>{a}</th><td class=\"num\">{b}</td><th>{c}</th>"
                   f"<td class=\"num\">{d}</td></tr>\n" for a, b, c, d in rows)
    return (f"<h2>一、全省总体情况</h2>\n<table class=\"summary\">\n{body}</table>\n"
            + _industry_table(industry_totals(content), "全省分行业产能"))


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


def _overview(content: Mapping[str, Any]) -> str:
    body = "".join(
        f"<tr><td class=\"num\">{_rank(region)}</td><td>{escape(region['name'])}</td>"
        f"<td>{REPORT_STATUS_ZH[region['report']]}</td>"
        f"<td class=\"num\">{len(region['overdue_items'])}</td>"
        f"<td class=\"num\">{region['tips']['received']}/{region['tips']['resolved']}"
        f"/{region['tips']['late']}</td>"
        f"<td class=\"num\">{region['discrepancies']}</td>"
        f"<td class=\"num\">{region['resurgences']}</td>"
        f"<td>{'已清零' if region['cleared'] else '未清零'}</td>"
        f"<td class=\"num\">{_total(region)}</td></tr>\n" for region in content["regions"])
    return ("<h2>三、各地区情况</h2>\n<table class=\"overview\">\n"
            "<tr><th>排名</th><th>地区</th><th>报送情况</th><th>逾期项目</th>"
            "<th>举报（收到/办结/逾期）</th><th>名单核对差异</th><th>死灰复燃</th>"
            f"<th>清零</th><th>得分</th></tr>\n{body}</table>")


def _rank(region: Mapping[str, Any]) -> str:
    return "—" if region["rank"] is None else f"第{region['rank']}名"


def _total(region: Mapping[str, Any]) -> str:
    return "—" if region["total"] is None else escape(region["total"])


def _details(content: Mapping[str, Any]) -> str:
    return "\n".join(_region(region) for region in content["regions"])


def _region(region: Mapping[str, Any]) -> str:
    tips = region["tips"]
    facts = (f"报送情况：{REPORT_STATUS_ZH[region['report']]}；"
             f"{'已清零' if region['cleared'] else '未清零'}；排名：{_rank(region)}；"
             f"得分：{_total(region)}；举报：收到{tips['received']}件，办结{tips['resolved']}件，"
             f"逾期{tips['late']}件；名单核对差异{region['discrepancies']}处；"
             f"死灰复燃{region['resurgences']}处。")
    return (f"<section class=\"region\" id=\"region-{escape(region['region'])}\">\n"
            f"<h3>{escape(region['name'])}（{escape(region['region'])}）</h3>\n<p>{facts}</p>\n"
            + _industry_table(region["industries"], f"{region['name']}分行业产能") + "\n"
            + _overdue_table(region["overdue_items"]) + "\n</section>")


def _overdue_table(items: list[Mapping[str, Any]]) -> str:
    if not items:
        return "<p>无逾期未淘汰项目。</p>"
    body = "".join(
        f"<tr><td>{escape(item['item_id'])}</td><td>{escape(item['enterprise'])}</td>"
        f"<td>{escape(item['equipment'])}</td><td>{escape(item['planned_date'])}</td>"
        f"<td class=\"num\">{item['days_late']}</td></tr>\n" for item in items)
    return ("<table class=\"overdue\">\n<caption>逾期未淘汰项目</caption>\n"
            "<tr><th>项目编号</th><th>企业</th><th>设备（生产线）</th><th>计划淘汰日期</th>"
            f"<th>逾期天数</th></tr>\n{body}</table>")


def _changes(content: Mapping[str, Any]) -> str:
    names = region_names(content)
    if not content["changes"]:
        return "<h2>四、与上期通报相比的变化</h2>\n<p>与上期通报相比无变化。</p>"
    items = "".join(f"<li>{escape(names.get(change['region'], change['region']))}："
                    f"{escape(change['what'])}</li>\n" for change in content["changes"])
    return f"<h2>四、与上期通报相比的变化</h2>\n<ol class=\"changes\">\n{items}</ol>"


def _footer(content: Mapping[str, Any]) -> str:
    return (f"<footer>\n<p>{escape(OFFICE_ZH)}</p>\n<p>{escape(issued_date_zh(content))}</p>\n"
            "</footer>")


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
