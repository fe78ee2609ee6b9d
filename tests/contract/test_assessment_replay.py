"""For any event history the ledger records, the assessment's live read model (fed in batches, as
its follower feeds it, and asked along the way), a fresh replay of the same events and the offline
recomputation from a ledger export give identical results and digests (issue 4)."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from services.assessment.adapters.repository import AssessmentRepository
from services.assessment.adapters.tables import outbox
from services.assessment.bootstrap import MIGRATIONS, VERSION_TABLE
from services.assessment.domain.campaign import CampaignState
from services.assessment.domain.scoring import assess, default_cut_off
from services.ledger.domain.events import ASSESSMENT_INPUT_FILED
from services.ledger.tests.builders import (
    amendment_message, decision_message, elimination_message, message, record_in_memory, report_message,
    resolution_message, tip_message,
)
from shared.db import make_engine, migrate, write_tx
from shared.journal import FoldedView
from shared.outbox import Outbox
from shared.reference import default_reference
from shared.testing import data
from zeroclear.cli.assess import _checked_export_events

REFERENCE = default_reference()
REGIONS = ("410100", "410200", "410300")
START = datetime(2016, 10, 20, tzinfo=timezone.utc)
INDUSTRIES = (("炼钢", "万吨"), ("水泥", "万吨"), ("平板玻璃", "万重量箱"))


@st.composite
def entries(draw, region: str):
    count = draw(st.integers(0, 3))
    rows = []
    for n in range(count):
        industry, unit = draw(st.sampled_from(INDUSTRIES))
        rows.append(data.entry(draw(st.integers(1, 6)) * 10 + n, region=region, industry=industry, unit=unit,
                               equipment=f"线{n}", capacity=draw(st.sampled_from(["5", "12.5", "30", "0.25"])),
                               planned_date=draw(st.sampled_from(["2016-12-31", "2016-06-30", "2017-05-01"])),
                               workers_affected=draw(st.integers(0, 50))))
    return rows


@st.composite
def histories(draw):
    """A campaign of random steps at increasing times; the ledger judges each (some are rejected)."""
    state, sealed, now = None, [], START
    steps = ["report", "report"] + draw(st.lists(st.sampled_from(
        ["amend", "eliminate", "eliminate", "decide", "decide", "tip", "resolve", "input"]), min_size=1, max_size=25))
    tips: list[str] = []
    for step in steps:
        now += timedelta(days=draw(st.integers(0, 12)), hours=draw(st.integers(0, 23)))
        region = draw(st.sampled_from(REGIONS))
        items = sorted(state.items) if state is not None else []
        if step == "report":
            rows = draw(entries(region))
            proposed = report_message(region, entries=0, zero=not rows, at=now)
            proposed.payload["entries"] = rows
        elif step == "amend":
            proposed = amendment_message(region, entries=draw(entries(region)), at=now)
        elif step in ("eliminate", "decide") and items:
            item_id = draw(st.sampled_from(items))
            proposed = elimination_message(item_id, item_id[:6], at=now, workers_resettled=draw(st.integers(0, 50))) \
                if step == "eliminate" else decision_message(item_id, draw(st.sampled_from(["verified", "rejected"])),
                                                             reason="现场核查", at=now)
        elif step == "resolve" and tips:
            tip_id = draw(st.sampled_from(tips))
            confirmed = draw(st.booleans())
            found = data.entry(99, region=region, planned_date=draw(st.sampled_from(["2016-12-31", "2017-05-01"])))
            proposed = resolution_message(tip_id, "confirmed" if confirmed else "unfounded", at=now,
                                          entry=found if confirmed else None, actor="office/k")
        elif step == "input":
            proposed = message(ASSESSMENT_INPUT_FILED, {
                "submission_id": f"in-{len(sealed)}", "region": region, "year": 2016,
                "criterion": draw(st.sampled_from([2, 3])), "score": draw(st.sampled_from(["0", "59.5", "80", "100"])),
                "note": "评定"}, actor="office/k", at=now)
        else:
            proposed = tip_message(region, at=now, id=f"tip-{len(tips)}")
            tips.append(proposed.id)
        state, more = record_in_memory([proposed], REFERENCE, now=now, state=state)
        sealed.extend(more)
    return [s.event for s in sealed]


def scored(state: CampaignState) -> dict:
    return assess(state, 2016, cut_off=default_cut_off(REFERENCE.calendar, 2016),
                  names={code: r.name for code, r in REFERENCE.regions.items()})


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(events=histories(), batch=st.integers(1, 7))
def test_live_read_model_fresh_replay_and_export_agree(tmp_path_factory, events, batch):
    folder = tmp_path_factory.mktemp("assessment")
    url = f"sqlite:///{folder / 'assessment.db'}"
    migrate(url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(url, pool_size=1)
    try:
        repo = AssessmentRepository(engine, Outbox(outbox))
        # checkpoints every 2 events, few enough bytes that they thin out as the fold goes on
        model = FoldedView(repo.journal, CampaignState, checkpoint_every=2, checkpoint_bytes=20_000)
        for start in range(0, len(events), batch):  # as the follower feeds it, asked along the way
            with write_tx(engine) as conn:
                repo.apply_ledger_events(conn, events[start:start + batch])
            model.using(None, scored)
        live = model.using(None, scored)
        for position in range(0, events[-1].seq + 1):  # each from its nearest checkpoint
            assert model.using(position, scored) == scored(
                CampaignState().apply_all(e.to_dict() for e in events[:position])), position
    finally:
        engine.dispose()

    fresh = scored(CampaignState().apply_all(e.to_dict() for e in events))
    export = folder / "ledger.jsonl"
    with open(export, "w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        out.write(json.dumps({"checkpoint": {"count": events[-1].seq, "head": events[-1].hash}}) + "\n")
    offline = scored(CampaignState().apply_all(_checked_export_events(str(export), None)))
    assert live == fresh == offline
    assert live["position"] == events[-1].seq


def _export_lines(events) -> list[str]:
    lines = [json.dumps(event.to_dict(), ensure_ascii=False) for event in events]
    return [*lines, json.dumps({"checkpoint": {"count": events[-1].seq, "head": events[-1].hash}})]


def _assess_offline(folder, lines: list[str], *extra: str):
    from click.testing import CliRunner

    from zeroclear.cli import main

    export = folder / "ledger.jsonl"
    export.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    unset = {name: None for name in os.environ if name.startswith("ZEROCLEAR_")}
    return CliRunner().invoke(main, ["--data-dir", str(folder), "assess", "--year", "2016", "--from-export",
                                     str(export), *extra], env=unset)


def test_an_offline_assessment_checks_the_whole_export_first(tmp_path):
    """``zeroclear assess --from-export`` prints nothing and exits 1 when any part of the export
    fails, also beyond ``--as-of`` (it says which event); an intact export gives the numbers."""
    _, sealed = record_in_memory([report_message(region, at=START) for region in REGIONS], REFERENCE, now=START)
    events = [s.event for s in sealed]
    lines = _export_lines(events)

    intact = _assess_offline(tmp_path, lines, "--as-of", "2")
    assert intact.exit_code == 0, intact.output
    assert json.loads(intact.stdout)["position"] == 2

    tampered = json.loads(lines[-2])
    tampered["payload"]["document_no"] = "改过的文号"
    broken = {
        "no checkpoint line: the export is truncated": lines[:-1],
        f"first bad seq {len(events) + 1} (line {len(lines) + 1}: data after the checkpoint)": [*lines, lines[0]],
        f"first bad seq {len(events)} (payload does not match its payload_hash)":
            [*lines[:-2], json.dumps(tampered, ensure_ascii=False), lines[-1]],
        "first bad seq 2 (line 2: not JSON": [lines[0], "{not json", *lines[1:]],
        f"first bad seq {len(events)} (checkpoint says {len(events)} events, the log holds {len(events) - 1}":
            [*lines[:-2], lines[-1]],
    }
    for reason, variant in broken.items():
        result = _assess_offline(tmp_path, variant, "--as-of", "1")
        assert (result.exit_code, result.stdout) == (1, ""), (reason, result.output)
        assert reason in result.stderr, (reason, result.stderr)
