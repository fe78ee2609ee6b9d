"""The indexed reads (adapters/reads.py) answer what a replay answers: at every position of a
campaign log, on SQLite and PostgreSQL, the pages read from the versioned rows valid then — every
filter, page after page through the cursor — equal the views of the state replayed to that
position, and the digest streamed from those rows equals the replayed state's digest."""
from __future__ import annotations

from datetime import timedelta

import pytest

from shared.clock import format_instant, parse_instant
from shared.db import read_tx
from shared.testing import data

from services.ledger.adapters import reads
from services.ledger.audit import AsOf, replay_database
from services.ledger.domain.views import discrepancies, item_view, items_view, resurgences, tip_view

from ..builders import (
    decision_message, elimination_message, list_message, listing, report_message, resolution_message, tip_message,
    amendment_message,
)

ZZ = "410100"


@pytest.fixture
def campaign(writer, clock):
    """A campaign whose rows change many times, several changes of one row in one batch."""
    clock.advance(timedelta(days=10))
    writer.record([report_message(ZZ, entries=4), report_message("410200", zero=True),
                   report_message("410300", entries=2)])
    items = [f"{ZZ}-2016-2-{n}" for n in range(1, 5)]
    clock.advance(timedelta(days=20))  # past the deadline: the plan is fixed
    writer.record([elimination_message(items[0]), decision_message(items[0]),  # one row twice in a batch
                   tip_message("410200", id="tip-a"), tip_message(ZZ, id="tip-b")])
    writer.record([list_message([listing(1, region="410200"), listing(2, region=ZZ), listing(9, region="410300")])])
    clock.advance(timedelta(days=20))
    writer.record([resolution_message("tip-a", "confirmed", entry=data.entry(7, region="410200")),
                   elimination_message(items[1]), decision_message(items[1], "rejected", reason="未拆除"),
                   amendment_message(ZZ, entries=[data.entry(1), data.entry(2), data.entry(3), data.entry(8)])])
    writer.record([tip_message(ZZ, uscc=data.entry(1)["uscc"], id="tip-c"),
                   list_message([listing(1, region=ZZ)], department="industry")])
    return writer


def _all_pages(read, limit: int = 2) -> list:
    rows, after = [], None
    while True:
        page = read(after, limit)
        rows.extend(page.rows)
        if page.next is None:
            return rows
        after = page.next


def _moment(repo, state):
    now = parse_instant(state.recorded_at)
    return format_instant(now), (now + timedelta(hours=8)).date().isoformat()


@pytest.mark.parametrize("status", [None, "registered", "scheduled", "eliminated", "verified", "withdrawn", "overdue"])
def test_items_as_of_every_position_are_the_replays(campaign, repo, status):
    head = repo.head()[0]
    for at in range(1, head + 1):
        state = replay_database(repo, AsOf(seq=at)).state
        now, today = _moment(repo, state)
        expected = items_view(state, now, today, status=status)
        with read_tx(repo.engine) as conn:
            years = reads.deadlines_at(conn, at)
            got = _all_pages(lambda after, limit: reads.items_page(
                conn, reads.ItemFilter(status=status), at=at, now=now, today=today,
                after=after[0] if after else None, limit=limit))
            assert [item_view(i, years, now, today) for i in got] == expected, (at, status)
            assert reads.items_count(conn, reads.ItemFilter(status=status), at=at, now=now, today=today) == len(expected)


@pytest.mark.parametrize("group_by", ["region", "industry", "year", "status"])
def test_item_and_tip_counts_as_of_every_position_are_the_replays_counted(campaign, repo, group_by):
    """The grouped counts (on PostgreSQL too) are the replayed views counted per group, with the
    overdue ones of each group."""
    head = repo.head()[0]
    for at in list(range(1, head + 1)) + [None]:
        state = replay_database(repo, AsOf(seq=at if at is not None else head)).state
        now, today = _moment(repo, state)
        for status in (None, "overdue", "scheduled"):
            views = items_view(state, now, today, status=status)
            expected = {}
            for view in views:
                found = expected.setdefault(view[group_by], [0, 0])
                found[0], found[1] = found[0] + 1, found[1] + view["overdue"]
            with read_tx(repo.engine) as conn:
                got = reads.items_counts(conn, reads.ItemFilter(status=status), group_by, at=at, now=now, today=today)
            assert got == expected, (at, status)
        if group_by in ("region", "status"):
            tips = [tip_view(t, now) for t in state.tips.values()]
            expected = {}
            for view in tips:
                found = expected.setdefault(view[group_by], [0, 0])
                found[0], found[1] = found[0] + 1, found[1] + view["overdue"]
            with read_tx(repo.engine) as conn:
                assert reads.tips_counts(conn, group_by, region=None, status=None, at=at, now=now) == expected, at


def test_tips_discrepancies_resurgences_and_the_digest_as_of_every_position_are_the_replays(campaign, repo):
    head = repo.head()[0]
    for at in list(range(1, head + 1)) + [None]:
        state = replay_database(repo, AsOf(seq=at if at is not None else head)).state
        now, today = _moment(repo, state)
        with read_tx(repo.engine) as conn:
            tips = _all_pages(lambda after, limit: reads.tips_page(conn, region=None, status=None, at=at, now=now,
                                                                   after=after[0] if after else None, limit=limit))
            found = _all_pages(lambda after, limit: reads.discrepancies_page(conn, region=None, year=None,
                                                                             department=None, at=at, after=after,
                                                                             limit=limit))
            again = _all_pages(lambda after, limit: reads.resurgences_page(conn, region=None, department=None, at=at,
                                                                           after=after[0] if after else None,
                                                                           limit=limit))
            digest = reads.state_digest(conn, at)
        assert [tip_view(t, now) for t in tips] == [tip_view(t, now) for t in sorted(state.tips.values(),
                                                                                      key=lambda t: t.seq)]
        assert found == discrepancies(state), at
        assert [r.resurgence_id for r in again] == [r["resurgence_id"] for r in resurgences(state)]
        assert digest == state.digest(), at
    assert any(found) and any(again)
