"""For any event history, notify's stored announcement rows, written from folds in batches by
processes at different positions (one behind the other), stream the same bytes as the whole
announcement built from a fresh fold: JSON (canonical) and CSV, and pages that add up to it (issue 12)."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from services.notify.adapters.announcement import AnnouncementRows
from services.notify.announcement_render import as_csv, as_json, csv_stream, json_stream
from services.notify.bootstrap import MIGRATIONS, VERSION_TABLE
from services.notify.domain.announcement import announcement
from services.notify.domain.campaign import NotifyState
from shared.db import make_engine, migrate

from .test_assessment_replay import REFERENCE, histories

NAMES = {code: region.name for code, region in REFERENCE.regions.items()}
TODAY = "2017-01-10"


def folded(events) -> NotifyState:
    state = NotifyState()
    for event in events:
        state.apply(event.to_dict())
    return state


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(events=histories(), batch=st.integers(1, 4))
def test_stored_rows_stream_the_whole_announcement(tmp_path_factory, events, batch):
    folder = tmp_path_factory.mktemp("notify")
    url = f"sqlite:///{folder / 'notify.db'}"
    migrate(url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(url, pool_size=1)
    try:
        rows = AnnouncementRows(engine)
        ahead, behind = NotifyState(), NotifyState()
        for start in range(0, len(events), batch):  # as reads and the scheduler's ticks come
            for event in events[start:start + batch]:
                ahead.apply(event.to_dict())
            rows.catch_up(ahead)
        for event in events[:len(events) // 2]:  # a process still folding the first half writes last
            behind.apply(event.to_dict())
        rows.catch_up(behind)

        whole = announcement(folded(events), TODAY, NAMES)
        assert b"".join(json_stream(rows.stream(), TODAY, NAMES)) == as_json(whole)
        assert b"".join(csv_stream(rows.stream(tips=False), TODAY, NAMES)) == as_csv(whole)
        paged, after = [], None
        while True:
            stream = rows.stream(after=after, limit=2)
            _, position = next(stream)
            page = [row for _, row in stream]
            assert position == len(events)
            if not page:
                break
            paged.extend(page)
            after = page[-1]["item_id"]
        assert [row["enterprise"] for row in paged] == [e["enterprise"] for e in whole["enterprises"]]
        assert json.loads(as_json(whole))["position"] == len(events)
    finally:
        engine.dispose()


def test_a_row_is_never_replaced_by_one_from_an_earlier_position(tmp_path):
    from shared.db import write_tx
    from services.notify.adapters.announcement import _upsert
    from services.notify.adapters.tables import announced_items

    url = f"sqlite:///{tmp_path / 'notify.db'}"
    migrate(url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(url, pool_size=1)
    row = {"item_id": "410100-2016-2-1", "region": "410100", "county": "中原区", "enterprise": "郑州钢铁厂",
           "industry": "炼钢", "equipment": "转炉", "equipment_count": 1, "capacity": "30", "unit": "万吨",
           "planned_date": "2016-12-31", "status": "verified", "source": "report"}
    try:
        with write_tx(engine) as conn:
            _upsert(conn, announced_items, "item_id", [row], 9)
            _upsert(conn, announced_items, "item_id", [{**row, "status": "registered"}], 5)
        assert [r["status"] for _, r in AnnouncementRows(engine).stream(tips=False) if _ == "item"] == ["verified"]
        with write_tx(engine) as conn:
            _upsert(conn, announced_items, "item_id", [{**row, "status": "withdrawn"}], 12)
        assert [r for kind, r in AnnouncementRows(engine).stream() if kind == "item"] == []
    finally:
        engine.dispose()
