"""Scoring every region of a year per SPEC §6, as of a cut-off, with the evidence for every lost point.

Pure and deterministic: the same folded log, year, cut-off and weights give the same result,
byte for byte (its ``digest`` is the SHA-256 of its canonical JSON). All arithmetic is Decimal;
every score is text with exactly two decimals, rounded half up; nothing is a float.

The criteria (each 0–100, before weighting):

1. target completion: the region's items due in the year (not withdrawn, planned date in the
   year) grouped by industry; per industry verified ÷ targeted capacity; 100 × their mean. No
   items due: 100 if the year's report (or zero report) is filed, else 0.
2. leadership and coordination, 3. policy support: the office's latest score; missing → 0 and
   the region's assessment is a draft.
4. worker resettlement: 100 × Σ resettled ÷ Σ affected over the items due in the year that are
   verified (at most 100); 100 when no worker is affected.
5. reporting compliance: 100 on time, 60 late, 0 missing; −10 per confirmed tip of the year
   (its resolution's year) that revealed capacity the region had not declared; −5 per tip filed
   in the year (its business year in the year's time zone) that was resolved after its due time
   or is still open past it at the cut-off; not below 0.

Evidence: each criterion's ``lost`` lists what took its points, each entry with the points it
took (before weighting) and the seqs of the events that caused it. The entries of a criterion
add up exactly to 100 − its score: shares of a proportional loss (C1, C4) are apportioned by
largest remainder; fixed deductions (C5) are applied in order — the report's status, then the
tips by filing — each taking at most what is left above 0 (a deduction the floor absorbed is
still listed, with its points "0.00").
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from shared.canonical import dumps_checked
from shared.clock import format_instant, parse_instant
from shared.reference import Calendar

from .campaign import OFFICE_CRITERIA, CampaignState
from .records import VERIFIED, ItemRecord, TipRecord

DEFAULT_WEIGHTS: tuple[Decimal, ...] = (Decimal("0.2"),) * 5
CRITERIA = ("1", "2", "3", "4", "5")
#: (lower bound, grade), highest first; below the last: 不合格.
GRADES = ((Decimal(90), "优秀"), (Decimal(75), "良好"), (Decimal(60), "合格"))
FAILED = "不合格"

ON_TIME_SCORE, LATE_SCORE = Decimal(100), Decimal(60)
REVEALED_TIP_DEDUCTION, LATE_TIP_DEDUCTION = Decimal(10), Decimal(5)

_HUNDRED, _ZERO, _CENTS, _ONE = Decimal(100), Decimal(0), Decimal("0.01"), Decimal(1)
# Wide enough that no intermediate quotient is rounded before the final rounding to cents.
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)
_NO_NAMES: Mapping[str, str] = MappingProxyType({})

_OFFICE_NAMES = {2: ("leadership and coordination", "组织领导与协调配合"), 3: ("policy support to enterprises", "企业政策支持")}


def assess(state: CampaignState, year: int, *, cut_off: str, weights: tuple[Decimal, ...] = DEFAULT_WEIGHTS,
           names: Mapping[str, str] = _NO_NAMES) -> dict[str, Any]:
    """Every expected region's scores for ``year`` as of ``cut_off`` (an ISO instant; only events
    that occurred by then count), ranked, with the evidence of every lost point and a digest."""
    cut = instant(cut_off)
    weights = checked_weights(weights)
    view = state.as_of(cut)
    expected, zone = year_frame(view, year, names)
    rows = [score_region(state, view, year, cut, region, weights, names.get(region, ""), zone) for region in expected]
    return ranked(rows, year=year, cut=cut, position=state.seq, weights=weights)


def instant(cut_off: str) -> str:
    """A cut-off in the log's fixed-width form (compared as text with occurrence times)."""
    return format_instant(parse_instant(cut_off))


def year_frame(view: CampaignState, year: int, names: Mapping[str, str] = _NO_NAMES) -> tuple[list[str], ZoneInfo]:
    """The regions a year expects (as its opening fixed them; a year not opened: every named one)
    and the time zone its business days are counted in."""
    opened = view.years.get(year)
    if opened is not None:
        return sorted(opened.regions), ZoneInfo(opened.time_zone)
    return sorted(names), _any_time_zone(view)


def score_region(state: CampaignState, view: CampaignState, year: int, cut: str, region: str,
                 weights: tuple[Decimal, ...], name: str, zone: ZoneInfo) -> dict[str, Any]:
    """One region's row (its rank still 0). It reads the region's own report, items and tips as of
    the cut-off ``cut`` (``view``), the office's scores as they stand (``state``: the office judges
    after the campaign, the cut-off bounds what regions did) and the year's calendar, so the state
    need hold only this region's events and the calendar's (see ``CampaignState.folded_from``)."""
    items, tips = view.by_region((region,))
    with localcontext(_CONTEXT):
        return _assess_region(view, year, cut, region, items.get(region, []), tips.get(region, []), weights, name,
                              zone, state.inputs)


def ranked(rows: Iterable[Mapping[str, Any]], *, year: int, cut: str, position: int,
           weights: tuple[Decimal, ...]) -> dict[str, Any]:
    """The year's result from every expected region's row (in region order): ranked, with its digest."""
    rows = [dict(row) for row in rows]  # each gets its own rank below
    ranking = sorted(rows, key=lambda row: (-Decimal(row["total"]), row["region"]))
    previous, rank = None, 0
    for place, row in enumerate(ranking, start=1):
        if row["total"] != previous:  # equal totals share a rank (1, 1, 3)
            previous, rank = row["total"], place
        row["rank"] = rank
    result = {
        "year": year,
        "cut_off": cut,
        "position": position,
        "weights": [plain(w) for w in weights],
        "regions": rows,
        "ranking": [row["region"] for row in ranking],
        "draft": any(row["draft"] for row in rows),
    }
    result["digest"] = digest(result)
    return result


def digest(result: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``result`` without its ``digest``."""
    body = {key: value for key, value in result.items() if key != "digest"}
    return hashlib.sha256(dumps_checked(body)).hexdigest()


def grade(total: Decimal) -> str:
    for bound, name in GRADES:
        if total >= bound:
            return name
    return FAILED


def default_cut_off(calendar: Calendar, year: int) -> str:
    """The end of the last day of the year's acceptance stage (SPEC §6's default cut-off), or, for
    a year without one, the end of the report's due day one year later."""
    stage = calendar.stage(year, "acceptance")
    if stage is not None:
        return format_instant(calendar.end_of_day(stage[1]))
    due = calendar.report_due_date(year)
    try:
        later = due.replace(year=due.year + 1)
    except ValueError:  # 29 February
        later = due.replace(year=due.year + 1, day=28)
    return format_instant(calendar.end_of_day(later))


# -- one region -----------------------------------------------------------------------------------
def _assess_region(view: CampaignState, year: int, cut: str, region: str, items: list[ItemRecord],
                   tips: list[TipRecord], weights: tuple[Decimal, ...], name: str, zone: ZoneInfo,
                   inputs: Mapping[tuple[str, int, int], Any]) -> dict[str, Any]:
    opened = view.years.get(year)
    report = view.reports.get((region, year))
    in_year = f"{year:04d}"
    due = [item for item in items if item.planned_date[:4] == in_year]
    scores: dict[str, Decimal] = {}
    criteria: dict[str, dict] = {}
    missing = []

    scores["1"], lost = _target_completion(due, report is not None, opened.seq if opened is not None else None)
    criteria["1"] = _criterion(scores["1"], lost)
    for criterion in OFFICE_CRITERIA:
        key = str(criterion)
        entered = inputs.get((region, year, criterion))
        english, chinese = _OFFICE_NAMES[criterion]
        if entered is None:
            missing.append(criterion)
            scores[key] = _ZERO
            lost = [_lost(_HUNDRED, f"no office score for {english} yet (draft)", f"办公室尚未录入{chinese}评分（草稿）", [])]
        else:
            scores[key] = Decimal(entered.score)
            lost = [] if scores[key] >= _HUNDRED else [
                _lost(_HUNDRED - scores[key], f"office score for {english}: {entered.score}",
                      f"办公室评定{chinese}得分{entered.score}", [entered.seq])]
        criteria[key] = _criterion(scores[key], lost)
    scores["4"], lost = _resettlement(due)
    criteria["4"] = _criterion(scores["4"], lost)
    scores["5"], lost = _compliance(view, year, cut, report, opened, tips, zone)
    criteria["5"] = _criterion(scores["5"], lost)

    total = _cents(sum((w * scores[key] for w, key in zip(weights, CRITERIA)), _ZERO))
    cleared = report is not None and all(item.status == VERIFIED for item in items if item.year <= year)
    return {
        "region": region,
        "name": name,
        "criteria": criteria,
        "total": _text(total),
        "grade": grade(total),
        "cleared": cleared,
        "draft": bool(missing),
        "missing_inputs": missing,
        "rank": 0,  # set once every region is scored
    }


def _target_completion(due: list[ItemRecord], filed: bool, opened_seq: int | None) -> tuple[Decimal, list[dict]]:
    if not due:
        if filed:
            return _HUNDRED, []
        return _ZERO, [_lost(_HUNDRED, "no items due in the year and no report (or zero report) filed by the cut-off",
                             "本年度无到期淘汰任务，且截止时未报送排查登记表（或零报告）",
                             [opened_seq] if opened_seq is not None else [])]
    groups: dict[str, list] = {}
    for item in due:
        group = groups.setdefault(item.industry, [item.unit, _ZERO, _ZERO, []])
        capacity = Decimal(item.capacity)
        group[1] += capacity
        if item.status == VERIFIED:
            group[2] += capacity
        else:
            group[3].append(item)
    count = Decimal(len(groups))
    industries = sorted(groups)
    ratios = [groups[i][2] / groups[i][1] if groups[i][1] else _ONE for i in industries]
    score = _cents(_HUNDRED * sum(ratios, _ZERO) / count)
    shares = _apportion(_HUNDRED - score, [_HUNDRED * (_ONE - r) / count for r in ratios])
    lost = []
    for industry, ratio, points in zip(industries, ratios, shares):
        if ratio >= _ONE:
            continue
        unit, target, verified, unverified = groups[industry]
        percent = _text(_cents(_HUNDRED * ratio))
        seqs = sorted({seq for item in unverified for seq in item.event_seqs})
        lost.append(_lost(
            points,
            f"{industry}: {plain(verified)} of {plain(target)} {unit} due in the year verified ({percent}%); "
            f"{len(unverified)} item(s) not verified",
            f"{industry}：本年度目标产能{plain(target)}{unit}，已验收{plain(verified)}{unit}（{percent}%），"
            f"{len(unverified)}项未验收",
            seqs))
    return score, lost


def _resettlement(due: list[ItemRecord]) -> tuple[Decimal, list[dict]]:
    verified = [item for item in due if item.status == VERIFIED]
    affected = sum(item.workers_affected for item in verified)
    if affected == 0:
        return _HUNDRED, []
    resettled = sum(item.workers_resettled or 0 for item in verified)
    score = _cents(min(_HUNDRED, _HUNDRED * Decimal(resettled) / Decimal(affected)))
    short = [(item, item.workers_affected - (item.workers_resettled or 0)) for item in verified
             if (item.workers_resettled or 0) < item.workers_affected]
    shares = _apportion(_HUNDRED - score, [Decimal(gap) for _, gap in short])
    lost = []
    for (item, gap), points in zip(short, shares):
        if not points:
            continue  # others' resettlement made up for it: no point lost
        resettled_here = item.workers_resettled or 0
        lost.append(_lost(
            points,
            f"{item.enterprise} ({item.item_id}): {resettled_here} of {item.workers_affected} affected workers resettled",
            f"{item.enterprise}（{item.item_id}）：涉及职工{item.workers_affected}人，已安置{resettled_here}人",
            [seq for seq in (item.elimination_seq, item.verified_seq) if seq is not None]))
    return score, lost


def _compliance(view: CampaignState, year: int, cut: str, report: Any, opened: Any, tips: list[TipRecord],
                zone: ZoneInfo) -> tuple[Decimal, list[dict]]:
    deductions: list[tuple[Decimal, str, str, list[int]]] = []
    if report is None:
        score = _ZERO
        lost = [_lost(_HUNDRED, "the year's report (or zero report) not filed by the cut-off",
                      "截止时未报送本年度排查登记表（或零报告）", [opened.seq] if opened is not None else [])]
    else:
        score, lost = ON_TIME_SCORE, []
        if not report.on_time:
            score = LATE_SCORE
            due_text = f", due {opened.report_due}" if opened is not None else ""
            lost.append(_lost(ON_TIME_SCORE - LATE_SCORE, f"report filed late ({report.filed_at}{due_text})",
                              "排查登记表（或零报告）逾期报送", [report.seq]))
    for tip in tips:  # in filing order
        if (tip.status == "confirmed" and tip.year == year and tip.revealed is not None
                and tip.resolved_seq is not None):
            what = "under a zero report" if tip.revealed == "zero_report" else "that the region had not reported"
            what_zh = "零报告后经举报查实存在落后产能" if tip.revealed == "zero_report" else "经举报查实存在未申报的落后产能"
            deductions.append((REVEALED_TIP_DEDUCTION, f"confirmed tip {tip.tip_id} revealed capacity {what}",
                               f"举报{tip.tip_id}：{what_zh}", [tip.seq, tip.resolved_seq]))
        if _business_year(tip.filed_at, zone) != year:
            continue
        if tip.resolved_at is not None:
            if tip.resolved_at > tip.due_at:
                deductions.append((LATE_TIP_DEDUCTION, f"tip {tip.tip_id} resolved late ({tip.resolved_at}, due {tip.due_at})",
                                   f"举报{tip.tip_id}逾期办结（期限{tip.due_at}）", [tip.seq, tip.resolved_seq]))
        elif tip.due_at < cut:
            deductions.append((LATE_TIP_DEDUCTION, f"tip {tip.tip_id} still open past its resolution period (due {tip.due_at})",
                               f"举报{tip.tip_id}超期未办结（期限{tip.due_at}）", [tip.seq]))
    for points, reason, reason_zh, seqs in deductions:
        taken = min(points, score)
        score -= taken
        lost.append(_lost(taken, reason, reason_zh, seqs))
    return score, lost


# -- helpers --------------------------------------------------------------------------------------
def _any_time_zone(view: CampaignState) -> ZoneInfo:
    """A year not opened has no time zone of its own: any opened year's, else Asia/Shanghai (SPEC §3)."""
    for record in view.years.values():
        return ZoneInfo(record.time_zone)
    return ZoneInfo("Asia/Shanghai")


def _business_year(instant: str, zone: ZoneInfo) -> int:
    return parse_instant(instant).astimezone(zone).year


def checked_weights(weights: Any) -> tuple[Decimal, ...]:
    values = tuple(weights)
    if len(values) != len(CRITERIA):
        raise ValueError(f"give {len(CRITERIA)} weights, one per criterion, not {len(values)}")
    checked = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
            raise ValueError(f"a weight is a Decimal, an int or decimal text, not {type(value).__name__}")
        try:
            number = Decimal(value)
        except ArithmeticError:
            raise ValueError(f"a weight is a decimal number, not {value!r}") from None
        if not number.is_finite() or number < 0:
            raise ValueError(f"a weight is a finite number ≥ 0, not {value!r}")
        checked.append(number)
    if sum(checked, _ZERO) != _ONE:
        raise ValueError(f"the weights add up to {plain(sum(checked, _ZERO))}, not 1")
    return tuple(checked)


def _apportion(total: Decimal, parts: list[Decimal]) -> list[Decimal]:
    """``total`` (in cents) split in proportion to ``parts`` into amounts in cents that add up to
    exactly ``total``: each share rounded down, the cents left over to the largest remainders
    (the earlier part on a tie)."""
    whole = sum(parts, _ZERO)
    cents = int((total / _CENTS).to_integral_value())
    if not parts or whole <= 0 or cents <= 0:
        return [_ZERO.quantize(_CENTS) for _ in parts]
    with localcontext(_CONTEXT):
        exact = [Decimal(cents) * part / whole for part in parts]
    floors = [int(share.to_integral_value(rounding=ROUND_DOWN)) for share in exact]
    order = sorted(range(len(parts)), key=lambda n: (-(exact[n] - floors[n]), n))
    for n in order[:cents - sum(floors)]:
        floors[n] += 1
    return [(Decimal(f) * _CENTS).quantize(_CENTS) for f in floors]


def _criterion(score: Decimal, lost: list[dict]) -> dict[str, Any]:
    return {"score": _text(_cents(score)), "lost": lost}


def _lost(points: Decimal, reason: str, reason_zh: str, seqs: list[int]) -> dict[str, Any]:
    return {"points": _text(_cents(points)), "reason": reason, "reason_zh": reason_zh, "seqs": list(seqs)}


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENTS, rounding=ROUND_HALF_UP)


def _text(value: Decimal) -> str:
    return format(value.quantize(_CENTS, rounding=ROUND_HALF_UP), "f")


def plain(value: Decimal) -> str:
    """A quantity as plain decimal text without trailing zeros or exponent ("12.5", "100", "0")."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


__all__ = ["DEFAULT_WEIGHTS", "GRADES", "FAILED", "assess", "checked_weights", "default_cut_off", "digest", "grade",
           "instant", "plain", "ranked", "score_region", "year_frame"]
