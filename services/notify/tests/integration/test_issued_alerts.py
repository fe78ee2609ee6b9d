"""Notify's alerts as stored (``NotifyRepository.issue``), on SQLite and PostgreSQL: each (subject,
rule, level) once, ever, whichever of several processes finds it due first, whether the due ones
are few (looked up by subject) or many (a first look: checked against the whole table); one
rolled back is issued at the next call."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from services.notify.adapters import repository
from services.notify.adapters.repository import NotifyRepository
from services.notify.adapters.tables import alerts, outbox
from services.notify.bootstrap import MIGRATIONS, VERSION_TABLE
from services.notify.domain.alerts import ELIMINATION_OVERDUE, Alert
from services.notify.messages import alert_issued
from shared.db import make_engine, migrate
from shared.outbox import Outbox

NOW = datetime(2017, 3, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'notify.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    migrate(url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(url, pool_size=2)
    yield engine
    engine.dispose()


def process(engine) -> NotifyRepository:
    """One of notify's processes: its own repository, and so its own memory of what was issued."""
    return NotifyRepository(engine, Outbox(outbox))


def due(*numbers: int, level: int = 1) -> list[Alert]:
    return [Alert(f"item/410100-2016-1-{n}", ELIMINATION_OVERDUE, level, "410100", "region:410100",
                  "2016-12-31T15:59:59.999999Z", 60, f"case {n}", f"case {n}") for n in numbers]


def issue(repo: NotifyRepository, alerts_due: list[Alert]) -> list[str]:
    return sorted(row["subject"] for row in repo.issue(alerts_due, lambda alert: alert_issued(alert, NOW), "now"))


def stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(alerts.c.subject, alerts.c.level)))


@pytest.mark.parametrize("lookup_at_most", [repository.LOOKUP_AT_MOST, 1], ids=["by-subject", "whole-table"])
def test_each_alert_is_issued_once_whichever_process_sees_it_due_first(engine, monkeypatch, lookup_at_most):
    monkeypatch.setattr(repository, "LOOKUP_AT_MOST", lookup_at_most)
    first, second = process(engine), process(engine)
    assert issue(first, due(1, 2)) == ["item/410100-2016-1-1", "item/410100-2016-1-2"]
    assert issue(second, due(1, 2, 3)) == ["item/410100-2016-1-3"]  # another process: only the new one
    assert issue(first, due(1, 2, 3) + due(2, level=2)) == ["item/410100-2016-1-2"]
    assert stored(engine) == sorted([(f"item/410100-2016-1-{n}", 1) for n in (1, 2, 3)] + [("item/410100-2016-1-2", 2)])


def test_an_alert_rolled_back_is_issued_at_the_next_look(engine, monkeypatch):
    repo = process(engine)
    issue(repo, due(1))

    def fail(conn, envelopes):
        raise RuntimeError("the outbox could not take them")

    monkeypatch.setattr(repo.outbox, "add", fail)
    with pytest.raises(RuntimeError):
        issue(repo, due(1, 2))
    assert stored(engine) == [("item/410100-2016-1-1", 1)]
    monkeypatch.undo()
    assert issue(repo, due(1, 2)) == ["item/410100-2016-1-2"]


def test_a_duty_no_longer_due_and_due_again_is_not_alerted_twice(engine):
    repo = process(engine)
    issue(repo, due(1, 2))
    assert issue(repo, due(2)) == []  # 1 was done
    assert issue(repo, due(1, 2)) == []  # undone again (an elimination rejected): it was issued
    assert stored(engine) == [("item/410100-2016-1-1", 1), ("item/410100-2016-1-2", 1)]
