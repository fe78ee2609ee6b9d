"""The assessment's read model (``adapters/regional.py``) on SQLite and PostgreSQL: a year's scores
and the province's summary made from each region's own events and kept rows are, at every
position and cut-off, the ones a fold of the whole log gives (``scoring.assess``, the offline
``zeroclear assess``); a restart scores nothing its kept rows cover; a kept row that does not
read is scored again; keys beyond the kept ones go."""
from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from shared.db import make_engine, write_tx
from shared.journal import EventJournal
from shared.reference import default_reference

from services.assessment.adapters import regional
from services.assessment.adapters.regional import RegionalScores
from services.assessment.adapters.tables import ledger_events, scored_rows
from services.assessment.bootstrap import MIGRATIONS, VERSION_TABLE
from services.assessment.domain.campaign import CampaignState
from services.assessment.domain.scoring import assess, default_cut_off
from services.assessment.domain.summary import province_summary
from services.assessment.tests.unit.test_scoring import AFTER_CUT, CUT, KF, LATE, LY, NAMES, ZZ, mixed_log
from shared.db import migrate

CUT_OFFS = (LATE, CUT, AFTER_CUT)


@pytest.fixture(params=["sqlite", "postgres"])
def journal(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'assessment.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    migrate(url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(url, pool_size=2)
    yield EventJournal(engine, ledger_events)
    engine.dispose()


def kept(journal: EventJournal, events: list[dict]) -> None:
    """``events`` into the journal, as the follower keeps them."""
    with write_tx(journal.engine) as conn:
        journal.append(conn, [SimpleNamespace(hash=chained(event), **event) for event in events])


def chained(event: dict, log: str = "") -> str:
    """A hash for the event as a chain would give one: another log's differs at the same position."""
    return hashlib.sha256(f"{log}{event['seq']}".encode()).hexdigest()


def scores(journal: EventJournal) -> RegionalScores:
    return RegionalScores(journal, weights=("0.2",) * 5, names=NAMES)


def whole_fold(events: list[dict], year: int, cut: str) -> tuple[dict, dict]:
    state = CampaignState().apply_all(events)
    result = assess(state, year, cut_off=cut, names=NAMES)
    return result, province_summary(state, year, cut, result)


def test_every_year_and_summary_from_regions_is_the_whole_folds_at_every_position_forwards_and_back(journal):
    events = mixed_log().events
    read = scores(journal)
    for event in events:  # the journal grows and is read at its head: kept rows of untouched regions serve
        kept(journal, [event])
        for cut in CUT_OFFS:
            for year in (2016, 2017):
                assert read.both(year, cut) == whole_fold(events[:event["seq"]], year, cut), (event["seq"], cut, year)
    for position in range(len(events), 0, -1):  # as of the past, with later rows kept
        assert read.both(2016, CUT, position) == whole_fold(events[:position], 2016, CUT), position
    assert read.folded < 3 * 2 * 3 * len(events)  # rows were kept between positions, not all scored again


def test_a_restart_scores_nothing_its_kept_rows_cover_and_a_new_event_only_its_region(journal):
    events = mixed_log().events
    kept(journal, events[:-3])
    first = scores(journal).result(2016, CUT)
    again = scores(journal)
    assert again.result(2016, CUT) == first and again.folded == 0
    kept(journal, events[-3:-1])  # 洛阳's office score, after 开封's tip resolution
    assert again.result(2016, CUT) == whole_fold(events[:-1], 2016, CUT)[0]
    assert again.folded == 1  # 开封 (洛阳 is not expected in 2016)
    assert {e["region"] for e in events[-3:-1]} == {KF, LY}


def test_a_row_carries_past_events_its_cut_off_does_not_see_but_not_past_an_office_score(journal):
    log = mixed_log()
    kept(journal, log.events)
    read = scores(journal)
    before = read.both(2016, CUT)
    read.result(2016, AFTER_CUT)
    folded = read.folded
    log.decide(f"{ZZ}-2016-2-2", at=AFTER_CUT)  # verified after the cut-off: 2016 as of CUT is the same
    log.add("ledger.submission_rejected.v1", {"reasons": []}, AFTER_CUT, KF)  # a type the fold does not read
    kept(journal, log.events[-2:])
    assert read.both(2016, CUT) == (whole := whole_fold(log.events, 2016, CUT)) and whole[0]["regions"] == before[0]["regions"]
    assert read.folded == folded
    assert read.result(2016, AFTER_CUT) == whole_fold(log.events, 2016, AFTER_CUT)[0]  # a cut-off that sees it
    assert read.folded == folded + 1
    log.score(ZZ, 3, "70", at=AFTER_CUT)  # an office score counts whenever it was given
    kept(journal, log.events[-1:])
    assert read.result(2016, CUT) == whole_fold(log.events, 2016, CUT)[0]
    assert read.folded == folded + 2
    assert scores(journal).result(2016, CUT) == read.result(2016, CUT)  # moved on in the table: a restart reads it


def test_a_kept_row_is_not_taken_for_another_logs_at_the_same_positions(journal):
    events = mixed_log().events
    kept(journal, events)
    first = scores(journal).result(2016, CUT)
    other = [dict(event) for event in events]
    other[-3]["payload"] = {**other[-3]["payload"], "resolution": "confirmed", "revealed": "unreported"}  # 开封: -10
    with write_tx(journal.engine) as conn:  # the journal made again from another ledger's log
        conn.execute(ledger_events.delete())
    with write_tx(journal.engine) as conn:
        journal.append(conn, [SimpleNamespace(hash=chained(event, "another"), **event) for event in other])
    read = scores(journal)
    assert read.result(2016, CUT) == whole_fold(other, 2016, CUT)[0] != first
    assert read.folded == 2


def test_the_keeper_scores_every_opened_year_as_of_its_default_cut_off(journal):
    events = mixed_log().events
    kept(journal, events)
    calendar = default_reference().calendar
    scores(journal).keep_years(calendar, len(events))
    read = scores(journal)
    for year in (2016, 2017):
        cut = default_cut_off(calendar, year)
        assert read.result(year, cut) == whole_fold(events, year, cut)[0]
    assert read.folded == 0


@pytest.mark.parametrize("spoiled", ["not json", '{"row": {"region": "410200"}, "totals": []}',
                                     '{"row": null, "totals": []}', '{"totals": [["a", "b", 1, "x", "1", "1"]]}'])
def test_a_kept_row_that_does_not_read_as_its_regions_is_scored_again(journal, spoiled):
    events = mixed_log().events
    kept(journal, events)
    scores(journal).result(2016, CUT)
    with write_tx(journal.engine) as conn:
        changed = conn.execute(scored_rows.update().where(scored_rows.c.region == ZZ).values(row=spoiled)).rowcount
    assert changed == 1
    read = scores(journal)
    assert read.both(2016, CUT) == whole_fold(events, 2016, CUT)
    assert read.folded == 1


def test_the_rows_of_keys_beyond_the_kept_ones_go_the_least_recently_stored_first(journal, monkeypatch):
    monkeypatch.setattr(regional, "MAX_KEYS", 2)
    kept(journal, mixed_log().events)
    read = scores(journal)
    for cut in CUT_OFFS:
        read.result(2016, cut)
    with journal.engine.connect() as conn:
        keys = set(conn.execute(sa.select(scored_rows.c.key).distinct()).scalars())
    assert {key.split("|")[1] for key in keys} == {CUT, AFTER_CUT}


def test_kept_rows_carried_or_scored_verify_against_a_fresh_scoring_and_a_changed_one_is_named(journal):
    log = mixed_log()
    kept(journal, log.events)
    read = scores(journal)
    for cut in CUT_OFFS:
        read.result(2016, cut)
    log.decide(f"{ZZ}-2016-2-2", at=AFTER_CUT)  # carries the LATE and CUT rows of 郑州, scores its AFTER_CUT one
    kept(journal, log.events[-1:])
    read.result(2016, CUT)
    read.result(2016, AFTER_CUT)
    assert read.verify() == {"ok": True, "checked": 6, "bad": []}
    with write_tx(journal.engine) as conn:
        row = conn.execute(sa.select(scored_rows.c.key, scored_rows.c.row).where(
            scored_rows.c.region == KF, scored_rows.c.key.contains(CUT))).one()
        kept_row = json.loads(row.row)
        kept_row["row"]["total"] = "99.99"  # a row that reads well, with another total
        conn.execute(scored_rows.update().where(scored_rows.c.key == row.key, scored_rows.c.region == KF)
                     .values(row=json.dumps(kept_row)))
    verdict = read.verify()
    assert not verdict["ok"] and verdict["checked"] == 6
    assert [(bad["key"], bad["region"]) for bad in verdict["bad"]] == [(row.key, KF)]
    assert read.drop() == 6 and read.verify() == {"ok": True, "checked": 0, "bad": []}
    assert read.result(2016, CUT) == whole_fold(log.events, 2016, CUT)[0]
