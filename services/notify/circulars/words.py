"""What a circular says in words, the same in its HTML and its PDF: the header of an official
bulletin, the summary in prose, what the ranking is, each region's progress per industry in its
own unit (never a sum across units), and what changed since the previous circular."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from services.notify.circulars.content import BEIJING, GRADES_ZH, issued_date_zh, period_zh, region_names

BULLETIN_ZH = "淘汰落后产能清零行动工作通报"


def issue_line_zh(content: Mapping[str, Any]) -> str:
    """``2016年第2期`` (the issue), then its document number if it has one."""
    number = content.get("number")
    issue = f"{content['year']}年第{number}期" if number else f"{content['year']}年度"
    return issue + (f"　{content['document_no']}" if content.get("document_no") else "")


def subtitle_zh(content: Mapping[str, Any]) -> str:
    return f"统计期：{period_zh(content)}　通报编号：{content['circular_id']}"


def summary_zh(content: Mapping[str, Any]) -> str:
    """The province at the circular's position, in the prose of a bulletin."""
    p = content["province"]
    items, tips = p["items"], p["tips"]
    awaiting = p["regions"] - p["reported"] - p["missing"]
    waiting = f"，尚未到报送期限{awaiting}个" if awaiting else ""
    return (f"截至{issued_date_zh(content)}（台账第{content['position']}条记录），全省{p['regions']}个地区中，"
            f"已报送{p['reported']}个（按时报送{p['on_time']}个、逾期报送{p['late']}个、零报告{p['zero_reports']}个），"
            f"逾期未报送{p['missing']}个{waiting}；已实现清零{p['cleared']}个。台账登记落后产能项目"
            f"{items['registered']}项，已淘汰{items['eliminated']}项，已验收{items['verified']}项，逾期未淘汰"
            f"{items['overdue']}项。收到群众举报{tips['received']}件，已办结{tips['resolved']}件，逾期办理{tips['late']}件。"
            f"部门名单核对差异{p['discrepancies']}处，死灰复燃{p['resurgences']}处。各行业产能按其计量单位分列，"
            f"不同单位不相加。")


def ranking_zh(content: Mapping[str, Any]) -> str:
    """What the ranking is: the SPEC §6 total as of the circular's own position."""
    ranking = content.get("ranking")
    if ranking is None:
        return "排名：本期无考核数据。"
    grades = [region["grade"] for region in content["regions"]]
    counts = "、".join(f"{grade}{grades.count(grade)}个" for grade in GRADES_ZH)
    cut_off = datetime.fromisoformat(ranking["cut_off"].replace("Z", "+00:00")).astimezone(BEIJING)
    text = (f"排名依据：考核总分（SPEC §6：目标完成、组织协调、政策支持、职工安置、报送制度五项加权），"
            f"取自考核服务截至台账第{ranking['position']}条记录的结果（考核截止{cut_off.year}年{cut_off.month}月"
            f"{cut_off.day}日，结果摘要{ranking['digest'][:16]}）；总分相同者名次并列。考核等次：{counts}。")
    if any(region["draft"] for region in content["regions"]):
        text += "标“草稿”的地区尚缺省办公室对组织协调或政策支持的评分，该项暂按0分计。"
    return text


def rank_zh(region: Mapping[str, Any]) -> str:
    return "—" if region["rank"] is None else str(region["rank"])


def score_zh(region: Mapping[str, Any]) -> str:
    if region.get("total") is None:
        return "—"
    return region["total"] + ("（草稿）" if region.get("draft") else "")


def progress_zh(region: Mapping[str, Any]) -> str:
    """Verified of registered, per industry in its unit: ``炼钢 12.5/25万吨；印染 0/800万米``."""
    if not region["industries"]:
        return "无登记产能"
    return "；".join(f"{row['industry']} {row['verified']}/{row['registered']}{row['unit']}"
                    for row in region["industries"])


def tips_zh(region: Mapping[str, Any]) -> str:
    tips = region["tips"]
    return f"{tips['received']}/{tips['resolved']}/{tips['late']}"


def changes_zh(content: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The sentence that opens the changes, and each change (``郑州市：…``)."""
    previous = content.get("previous")
    if previous is None and not content["changes"]:
        return f"本期为{content['year']}年度第一期通报，此前无通报可比。", []
    since = (f"与上期通报（第{previous['number']}期，台账第{previous['position']}条记录）相比"
             if previous else "与上期通报相比")
    if not content["changes"]:
        return f"{since}无变化。", []
    names = region_names(content)
    return f"{since}：", [f"{names.get(change['region'], change['region'])}：{change['what']}"
                          for change in content["changes"]]


def footer_zh(content: Mapping[str, Any]) -> str:
    return f"本通报依据台账第{content['position']}条记录　哈希 {content['head_hash']}"
