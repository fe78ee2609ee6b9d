"""The campaign's rules (SPEC §5, issue 3), table-driven: from one campaign state, each proposed
fact is recorded or becomes exactly one recorded rejection whose reasons name the rule."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import pytest

from shared.testing import data

from services.ledger.domain.events import ASSESSMENT_INPUT_FILED, ASSESSMENT_PUBLISHED, SUBMISSION_REJECTED
from services.ledger.domain.records import ELIMINATED, SCHEDULED, VERIFIED, WITHDRAWN
from services.ledger.domain.state import LedgerState

from ..builders import (
    message, amendment_message, decision_message, elimination_message, list_message, listing, record_in_memory,
    report_message, resolution_message, tip_message,
)

ZZ1, ZZ2, ZZ3 = "410100-2016-2-1", "410100-2016-2-2", "410100-2016-2-3"  # Zhengzhou's items (report at seq 2)
TIP = "tip-1"


@pytest.fixture
def campaign(reference) -> LedgerState:
    """Zhengzhou filed three lines: the first verified eliminated, the second reported eliminated,
    the third registered; Kaifeng filed a zero report; a tip about Kaifeng is open."""
    state, _ = record_in_memory([
        report_message("410100", entries=3),
        report_message("410200", zero=True),
        elimination_message(ZZ1), decision_message(ZZ1),
        elimination_message(ZZ2),
        tip_message("410200", id=TIP),
    ], reference)
    assert [state.items[i].status for i in (ZZ1, ZZ2, ZZ3)] == [VERIFIED, ELIMINATED, "registered"]
    return state


CASES: list[tuple[str, Callable, list[str] | None]] = [
    # eliminations
    ("eliminate a registered item", lambda: elimination_message(ZZ3), None),
    ("eliminate an item not in the ledger", lambda: elimination_message("410100-2016-99-1"), ["unknown_item"]),
    ("eliminate another region's item", lambda: elimination_message(ZZ3, "410200"), ["unknown_item"]),
    ("the office naming the wrong region", lambda: elimination_message(ZZ3, "410200", actor="office/k"),
     ["outside_territory"]),
    ("a region reporting for another region", lambda: elimination_message(ZZ3, actor="region/410200/k"),
     ["outside_territory"]),
    ("eliminate twice", lambda: elimination_message(ZZ2), ["already_reported"]),
    ("eliminate a verified item", lambda: elimination_message(ZZ1), ["already_verified"]),
    ("eliminate in the future", lambda: elimination_message(ZZ3, eliminated_on="2016-12-01"), ["future_date"]),
    ("resettle more workers than affected", lambda: elimination_message(ZZ3, workers_resettled=121), ["too_many_workers"]),
    ("an unknown method", lambda: elimination_message(ZZ3, method="爆破"), ["unknown_method"]),
    ("a department reporting an elimination", lambda: elimination_message(ZZ3, actor="department/safety/k"),
     ["not_allowed"]),
    ("a malformed elimination", lambda: elimination_message(ZZ3, workers_resettled="many"), ["malformed"]),
    # verification
    ("verify a reported elimination", lambda: decision_message(ZZ2), None),
    ("reject a reported elimination", lambda: decision_message(ZZ2, "rejected", reason="设备未拆除"), None),
    ("verify an unreported elimination", lambda: decision_message(ZZ3), ["no_elimination_reported"]),
    ("verify twice", lambda: decision_message(ZZ1), ["already_verified"]),
    ("verify an item not in the ledger", lambda: decision_message("410100-2016-99-1"), ["unknown_item"]),
    ("a region verifying", lambda: decision_message(ZZ2, actor="region/410100/k"), ["not_allowed"]),
    ("reject without a reason", lambda: decision_message(ZZ2, "rejected"), ["malformed"]),
    # reports and amendments
    ("a second report without amendment", lambda: report_message("410100"), ["duplicate_report"]),
    ("amend a report", lambda: amendment_message("410100", entries=[data.entry(1), data.entry(2), data.entry(9)]), None),
    ("amend a report never filed", lambda: amendment_message("410300"), ["nothing_to_amend"]),
    ("amend away eliminated capacity", lambda: amendment_message("410100", entries=[data.entry(3)]),
     ["drops_eliminated_item", "drops_eliminated_item"]),
    ("amend without a reason", lambda: amendment_message("410100", reason=" "), ["malformed"]),
    ("amend another region's report", lambda: amendment_message("410200", actor="region/410100/k"),
     ["outside_territory"]),
    ("a person of the region eliminating", lambda: elimination_message(ZZ3, actor="region/410100/k/user:zhang.san"), None),
    ("a person of another region eliminating", lambda: elimination_message(ZZ3, actor="region/410200/k/user:li.si"),
     ["outside_territory"]),
    ("a person of the office verifying", lambda: decision_message(ZZ2, actor="office/k/user:wang.wu"), None),
    # department lists
    ("a department list on its own basis", lambda: list_message([listing()]), None),
    ("a department list on another basis", lambda: list_message([listing(basis="safety")]), ["basis_not_allowed"]),
    ("the lead department on any basis", lambda: list_message([listing(basis="safety")], department="industry"), None),
    ("a list for another department", lambda: list_message([listing()], actor="department/safety/k"), ["not_allowed"]),
    ("a region filing a list", lambda: list_message([listing()], actor="region/410100/k"), ["not_allowed"]),
    ("a list naming an unknown region", lambda: list_message([listing(region="999999")]), ["unknown_region"]),
    ("an empty list", lambda: list_message([]), ["malformed"]),
    ("a USCC longer than any", lambda: list_message([listing(uscc="9" * 19)]), ["malformed"]),
    ("a count beyond any", lambda: elimination_message(ZZ3, workers_resettled=2**40), ["malformed"]),
    # tips
    ("a tip", lambda: tip_message("410300"), None),
    ("a tip about an unknown region", lambda: tip_message("999999"), ["unknown_region"]),
    ("the same tip twice", lambda: tip_message("410200", id=TIP), ["duplicate_tip"]),
    ("a tip whose id is not its message's", lambda: _renamed(tip_message("410300")), ["malformed"]),
    ("resolve a tip", lambda: resolution_message(TIP), None),
    ("resolve another region's tip", lambda: resolution_message(TIP, actor="region/410100/k"), ["unknown_tip"]),
    ("resolve an unknown tip", lambda: resolution_message("nope"), ["unknown_tip"]),
    ("a duplicate of nothing", lambda: resolution_message(TIP, "duplicate", duplicate_of="nope"), ["unknown_tip"]),
    ("confirm without an entry", lambda: resolution_message(TIP, "confirmed"), ["malformed"]),
    # assessment
    ("an office score", lambda: _input("85.5"), None),
    ("a score above 100", lambda: _input("100.5"), ["malformed"]),
    ("a score for criterion 4", lambda: _input("80", criterion=4), ["malformed"]),
    ("a region scoring itself", lambda: _input("100", actor="region/410100/k"), ["not_allowed"]),
    ("a publication", lambda: _published(position=3), None),
    ("a publication of a position not on the log", lambda: _published(position=10**6), ["position_out_of_range"]),
    ("a publication by a region", lambda: _published(position=3, actor="region/410100/k"), ["not_allowed"]),
    ("a publication with a float in it", lambda: _published(position=3, result={"total": 82.5}), ["malformed"]),
    # notify
    ("an alert from notify", lambda: _alert(), None),
    ("an alert from anyone else", lambda: _alert(actor="office/k"), ["not_allowed"]),
    ("an alert of an unknown rule", lambda: _alert(rule="nagging"), ["malformed"]),
    ("a circular from notify", lambda: _circular(position=3), None),
    ("a circular pinned past the head", lambda: _circular(position=10**6), ["position_out_of_range"]),
    ("confirm in the wrong unit", lambda: resolution_message(TIP, "confirmed", entry=data.entry(5, region="410200", unit="万千瓦")),
     ["wrong_unit"]),
]


def _input(score: str, criterion: int = 2, actor: str = "office/k"):
    payload = {"submission_id": "in-1", "region": "410100", "year": 2016, "criterion": criterion, "score": score,
               "note": "评定"}
    return message(ASSESSMENT_INPUT_FILED, payload, actor=actor, id="in-1")


def _published(position: int, actor: str = "office/k", result: dict | None = None):
    payload = {"submission_id": "pub-1", "year": 2016, "cut_off": "2017-01-03T15:59:59.999999Z", "position": position,
               "digest": "a" * 64, "result": result if result is not None else {"total": "82.50"}}
    return message(ASSESSMENT_PUBLISHED, payload, actor=actor, id="pub-1")


def _alert(actor: str = "system/notify", rule: str = "report_missing"):
    payload = {"submission_id": "al-1", "subject": "report/410300/2016", "rule": rule, "level": 1, "region": "410300",
               "recipient": "region:410300", "deadline": "2016-11-15T15:59:59.999999Z", "late_days": 1,
               "case": "洛阳市2016年度排查登记表逾期未报送", "case_en": "overdue", "reason": "未按期报送", "reason_en": "missing"}
    return message("notify.alert_issued.v1", payload, actor=actor, id="al-1")


def _circular(position: int):
    payload = {"submission_id": "ci-1", "circular_id": f"2016-{position}", "year": 2016, "number": 1,
               "period": "2016-11", "position": position, "json_sha256": "a" * 64, "html_sha256": "b" * 64,
               "pdf_sha256": None}
    return message("notify.circular_issued.v1", payload, actor="system/notify", id="ci-1")


def _renamed(envelope):
    envelope.payload["submission_id"] = "x" * 64
    return envelope


@pytest.mark.parametrize("name, build, codes", CASES, ids=[c[0] for c in CASES])
def test_each_rule(campaign, reference, name, build, codes):
    proposed = build()
    state, sealed = record_in_memory([proposed], reference, state=campaign)
    facts = [s.event for s in sealed if s.event.id == proposed.id]
    rejections = [s.event for s in sealed if s.event.type == SUBMISSION_REJECTED]
    if codes is None:
        assert (len(facts), rejections) == (1, []), [r.payload for r in rejections]
        assert facts[0].type == proposed.type
    else:
        assert facts == [] and len(rejections) == 1
        assert sorted(r["code"] for r in rejections[0].payload["reasons"]) == sorted(codes)
        assert rejections[0].causation_id == proposed.id
        assert rejections[0].payload["submission_id"] == proposed.payload.get("submission_id")


def test_a_rejected_verification_puts_the_item_back_on_the_plan_and_it_can_be_reported_again(campaign, reference):
    state, _ = record_in_memory([decision_message(ZZ2, "rejected", reason="设备未拆除")], reference, state=campaign)
    item = state.items[ZZ2]
    assert (item.status, item.rejection_reason, item.eliminated_on) == (SCHEDULED, "设备未拆除", None)
    state, sealed = record_in_memory([elimination_message(ZZ2), decision_message(ZZ2)], reference, state=state)
    assert state.items[ZZ2].status == VERIFIED and all(s.event.type != SUBMISSION_REJECTED for s in sealed)


def test_an_amendment_keeps_matching_items_and_withdraws_the_rest(campaign, reference):
    changed = {**data.entry(3), "capacity": "99"}
    entries = [data.entry(1), data.entry(2), changed, data.entry(9)]
    state, sealed = record_in_memory([amendment_message("410100", entries=entries[:2] + [data.entry(9)])], reference,
                                     state=campaign)
    assert state.items[ZZ3].status == WITHDRAWN
    report = state.reports[("410100", 2016)]
    assert report.item_ids[:2] == [ZZ1, ZZ2] and report.item_ids[2] == f"410100-2016-{sealed[-1].event.seq}-3"
    assert [v["kind"] for v in report.history] == ["filed", "amended"] and report.on_time
    state, _ = record_in_memory([amendment_message("410100", entries=entries)], reference, state=state)
    assert state.items[ZZ1].status == VERIFIED  # a matched item keeps its status
    assert len(state.reports[("410100", 2016)].item_ids) == 4


def test_a_confirmed_tip_after_a_zero_report_is_marked_and_enters_the_ledger(campaign, reference):
    hidden = data.entry(7, region="410200")
    late = datetime(2016, 11, 30, tzinfo=timezone.utc)  # the tip was filed 2016-11-01: due 11-16
    state, sealed = record_in_memory([resolution_message(TIP, "confirmed", entry=hidden, at=late)], reference,
                                     state=campaign, now=late)
    tip = state.tips[TIP]
    assert (tip.status, tip.revealed, tip.late) == ("confirmed", "zero_report", True)
    item = state.items[tip.item_id]
    assert (item.source, item.tip_id, item.region, item.uscc) == ("tip", TIP, "410200", hidden["uscc"])


def test_tips_and_lists_naming_verified_capacity_are_resurgences(campaign, reference):
    verified_uscc = campaign.items[ZZ1].uscc
    state, _ = record_in_memory([tip_message("410100", uscc=verified_uscc),
                                 list_message([listing(uscc=verified_uscc), listing(41)])], reference, state=campaign)
    assert sorted((r.source, r.item_ids) for r in state.resurgences.values()) == [("list", [ZZ1]), ("tip", [ZZ1])]


def test_every_recorded_fact_replays_to_the_same_state(reference):
    state, sealed = record_in_memory([
        report_message("410100", entries=3), report_message("410200", zero=True),
        elimination_message(ZZ1), decision_message(ZZ1), elimination_message(ZZ2),
        tip_message("410200", id=TIP), list_message([listing(), listing(7, region="410200")]),
        resolution_message(TIP, "confirmed", entry=data.entry(7, region="410200")),
        amendment_message("410100", entries=[data.entry(1), data.entry(2)]),
        decision_message(ZZ2, "rejected", reason="未拆除"),
    ], reference)
    assert not [s.event.payload for s in sealed if s.event.type == SUBMISSION_REJECTED]
    replayed = LedgerState().apply_all(s.event for s in sealed)
    assert replayed.snapshot() == state.snapshot() and replayed.digest() == state.digest()


def _correction(replaces, reason="C2 of 郑州 entered wrongly", id="pub-2"):
    envelope = _published(position=3)
    payload = {**envelope.payload, "submission_id": id, "digest": "b" * 64, "replaces": replaces, "reason": reason}
    return message(ASSESSMENT_PUBLISHED, payload, actor="office/k", id=id)


def test_a_year_is_published_once_and_then_only_corrected_naming_the_official_one_and_why(campaign, reference):
    state, sealed = record_in_memory([_published(position=3)], reference, state=campaign)
    official = sealed[-1].event.seq
    assert (state.years[2016].published_seq, state.years[2016].published_digest) == (official, "a" * 64)

    again = _published(position=3)
    again.payload["submission_id"] = "pub-again"
    refusals = {
        "a second publication": type(again)(**{**again.to_dict(), "id": "pub-again"}),
        "a correction of a publication that is not the official one": _correction(official - 1, id="pub-x"),
        "a correction without a reason": _correction(official, reason=" ", id="pub-y"),
    }
    for name, proposed in refusals.items():
        _, refused = record_in_memory([proposed], reference, state=state)
        assert [e.event.type for e in refused] == [SUBMISSION_REJECTED], name
    state, sealed = record_in_memory([_correction(official)], reference, state=state)
    assert sealed[-1].event.type == ASSESSMENT_PUBLISHED
    assert (state.years[2016].published_seq, state.years[2016].published_digest) == (sealed[-1].event.seq, "b" * 64)
    _, refused = record_in_memory([report_message("410100"), report_message("410200"), _correction(5, id="pub-z")],
                                  reference)  # a year never published
    assert [r["code"] for r in refused[-1].event.payload["reasons"]] == ["nothing_to_correct"]
