"""The ledger's grouped counts over HTTP (``/v1/items/counts``, ``/v1/tips/counts``), on a SQLite
ledger: for every filter and grouping, the counts are what paging through the list with the same
filters and counting its rows gives — now and as of an earlier position — a region key counts only
its own region, and a bad query is a 4xx naming the field."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from shared.clock import SettableClock
from shared.config import Settings
from shared.testing.plugin import CAMPAIGN_START
from shared.testing import data

from services.ledger.bootstrap import bootstrap
from services.ledger.entrypoints.http import create_app

from services.ledger.domain.events import REPORT_FILED

from ..builders import (
    decision_message, elimination_message, message, report_message, report_payload, resolution_message, tip_message,
)

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def service(tmp_path_factory, reference):
    """Three regions' 2016 reports (one zero), tips; after the deadline one item eliminated and
    verified, one tip resolved, another industry reported by a region; then months later, when
    the planned dates and the tips' periods have passed. ``service.before``: the position after
    the first batch. One for the module: its tests only read (and make keys)."""
    clock = SettableClock(CAMPAIGN_START)
    settings = Settings.from_env("ledger", env={"ZEROCLEAR_DATA_DIR": str(tmp_path_factory.mktemp("counts") / "data")})
    service = bootstrap(settings, clock=clock, reference=reference)
    first = service.writer.record([report_message("410100", entries=3), report_message("410200", entries=2),
                                   report_message("410300", zero=True), tip_message("410200", id="tip-a"),
                                   tip_message("410200", id="tip-b"), tip_message("410100", id="tip-c")])
    service.before = first[-1].seq
    clock.advance(timedelta(days=20))  # past the 2016 report deadline: the plans are fixed
    item = "410100-2016-2-1"  # the first line of the report at seq 2 (seq 1 opened the year)
    cement = report_payload("410400", submission_id="s-410400", entries=0)
    cement["entries"] = [data.entry(1, region="410400", industry="水泥"), data.entry(2, region="410400")]
    service.writer.record([elimination_message(item), decision_message(item), resolution_message("tip-a"),
                           message(REPORT_FILED, cement, actor="region/410400/ktest", id="s-410400")])
    clock.advance(timedelta(days=120))  # the planned dates and the open tips' periods have passed
    yield service
    service.close()
    service.keys.engine.dispose()


@pytest.fixture(scope="module")
def client(service):
    return create_app(service).test_client()


def listed(client, headers, path: str, rows: str, **filters) -> tuple[list[dict], int]:
    """Every row of a list with these filters (its pages joined), and the list's own ``total``."""
    found, cursor, total = [], None, None
    while True:
        page = client.get(path, query_string={**filters, "limit": 2, "count": "true",
                                              **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert page.status_code == 200, page.get_data(as_text=True)
        body = page.get_json()
        found += body[rows]
        total = body["total"] if total is None else total
        cursor = body["next"]
        if cursor is None:
            return found, total


def counted(rows: list[dict], group_by: str) -> list[dict]:
    """What a counts answer should say of these rows."""
    count, overdue = Counter(str(r[group_by]) for r in rows), Counter(str(r[group_by]) for r in rows if r["overdue"])
    return [{"key": k, "count": count[k], "overdue": overdue[k]} for k in sorted(count)]


ITEM_FILTERS = [{}, {"status": "overdue"}, {"status": "scheduled"}, {"status": "verified"}, {"year": 2016},
                {"region": "410100"}, {"industry": "水泥"}, {"source": "report", "status": "registered"},
                {"year": 2017}]


@pytest.mark.parametrize("filters", ITEM_FILTERS, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items()) or "all")
@pytest.mark.parametrize("group_by", ["region", "industry", "year", "status"])
@pytest.mark.parametrize("when", ["now", "before"])
def test_item_counts_are_the_lists_rows_counted(client, key, service, filters, group_by, when):
    office = key("office")
    as_of = {"as_of": service.before} if when == "before" else {}
    rows, total = listed(client, office, "/v1/items", "items", **filters, **as_of)
    answer = client.get("/v1/items/counts", query_string={"group_by": group_by, **filters, **as_of}, headers=office)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["counts"] == counted(rows, group_by)
    assert (body["group_by"], body["total"], body["overdue"]) == (group_by, total, sum(r["overdue"] for r in rows))
    assert body["seq"] == (service.before if when == "before" else service.repo.head()[0])


def test_item_counts_say_the_province_at_a_glance_now_and_as_of_a_position(client, key, service):
    """The figures themselves, so that the comparison with the list above cannot pass on two
    empty answers: now one item verified, the rest overdue; before, every item registered."""
    office = key("office")
    now = client.get("/v1/items/counts?group_by=status", headers=office).get_json()
    assert [(c["key"], c["count"], c["overdue"]) for c in now["counts"]] == [("scheduled", 6, 6), ("verified", 1, 0)]
    by_region = client.get("/v1/items/counts?group_by=region&status=overdue", headers=office).get_json()
    assert [(c["key"], c["count"]) for c in by_region["counts"]] == [("410100", 2), ("410200", 2), ("410400", 2)]
    before = client.get("/v1/items/counts", query_string={"group_by": "status", "as_of": service.before},
                        headers=office).get_json()
    assert [(c["key"], c["count"], c["overdue"]) for c in before["counts"]] == [("registered", 5, 0)]
    industries = client.get("/v1/items/counts?group_by=industry", headers=office).get_json()
    assert [(c["key"], c["count"]) for c in industries["counts"]] == [("水泥", 1), ("炼钢", 6)]


@pytest.mark.parametrize("filters", [{}, {"status": "open"}, {"status": "late"}, {"status": "unfounded"},
                                     {"region": "410200"}], ids=lambda f: f.get("status") or f.get("region") or "all")
@pytest.mark.parametrize("group_by", ["region", "status"])
@pytest.mark.parametrize("when", ["now", "before"])
def test_tip_counts_are_the_lists_rows_counted(client, key, service, filters, group_by, when):
    office = key("office")
    as_of = {"as_of": service.before} if when == "before" else {}
    rows, total = listed(client, office, "/v1/tips", "tips", **filters, **as_of)
    body = client.get("/v1/tips/counts", query_string={"group_by": group_by, **filters, **as_of},
                      headers=office).get_json()
    assert body["counts"] == counted(rows, group_by)
    assert (body["total"], body["overdue"]) == (total, sum(r["overdue"] for r in rows))


def test_tip_counts_say_how_many_are_open_and_past_their_period(client, key):
    body = client.get("/v1/tips/counts?group_by=region&status=open", headers=key("auditor")).get_json()
    assert [(c["key"], c["count"], c["overdue"]) for c in body["counts"]] == [("410100", 1, 1), ("410200", 1, 1)]
    assert (body["total"], body["overdue"]) == (2, 2)
    statuses = client.get("/v1/tips/counts?group_by=status", headers=key("auditor")).get_json()
    assert [(c["key"], c["count"]) for c in statuses["counts"]] == [("open", 2), ("unfounded", 1)]


@pytest.mark.parametrize("path", ["/v1/items/counts", "/v1/tips/counts"])
def test_a_region_key_counts_its_own_region_only(client, key, path):
    zz = key("region", region="410200")
    own = client.get(path, query_string={"group_by": "region"}, headers=zz).get_json()
    assert [c["key"] for c in own["counts"]] == ["410200"] and own["total"] == 2
    other = client.get(path, query_string={"group_by": "region", "region": "410100"}, headers=zz).get_json()
    assert (other["counts"], other["total"], other["overdue"]) == ([], 0, 0)  # another's: as if none


@pytest.mark.parametrize("path, query, field, status", [
    ("/v1/items/counts", "", "group_by", 422),
    ("/v1/items/counts", "group_by=county", "group_by", 422),
    ("/v1/items/counts", "group_by=region&status=lost", "status", 422),
    ("/v1/items/counts", "group_by=region&year=20x6", "year", 422),
    ("/v1/items/counts", "group_by=region&region=41", "region", 422),
    ("/v1/items/counts", "group_by=region&as_of=yesterday", "as_of", 400),
    ("/v1/items/counts", "group_by=region&as_of=99999", "as_of", 409),
    ("/v1/tips/counts", "group_by=industry", "group_by", 422),
    ("/v1/tips/counts", "group_by=status&status=overdue", "status", 422),
    ("/v1/tips/counts", "group_by=region&as_of=99999", "as_of", 409),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_bad_query_is_refused_naming_the_field(client, key, path, query, field, status):
    answer = client.get(f"{path}?{query}", headers=key("office"))
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM
    assert [e["field"] for e in answer.get_json()["errors"]] == [f"query:{field}"]


@pytest.mark.parametrize("path", ["/v1/items/counts?group_by=region", "/v1/tips/counts?group_by=region"])
def test_counts_need_a_key_that_may_read(client, key, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers=key("department", department="environment")).status_code == 403
