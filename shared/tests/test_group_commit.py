"""The group committer's thread (``shared.group_commit``): closing it commits what was submitted
before and ends the thread, so a service stopped in a process that goes on leaves none behind;
nothing is taken after."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from shared.db import make_engine
from shared.group_commit import GroupCommitter

NAME = "test-group-commit"


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'commit.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    yield engine
    engine.dispose()


def insert(conn, items):
    conn.execute(sa.text("INSERT INTO t (n) VALUES (:n)"), [{"n": n} for n in items])
    return [f"row {n}" for n in items]


def committer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == NAME]


def test_closing_commits_what_was_submitted_and_ends_the_thread_and_nothing_is_taken_after(engine):
    committer = GroupCommitter(engine, insert, name=NAME)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(committer.submit, range(200)))
    assert answers == [f"row {n}" for n in range(200)]
    assert len(committer_threads()) == 1
    committer.close()
    assert committer_threads() == []
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(200)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 200


def test_what_is_queued_when_it_closes_is_committed_before_the_thread_ends(engine):
    started, release = threading.Event(), threading.Event()

    def slow(conn, items):
        started.set()
        release.wait(10)
        return insert(conn, items)

    committer = GroupCommitter(engine, slow, name=NAME)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(committer.submit, 1)
        assert started.wait(5)
        queued = [pool.submit(committer.submit, n) for n in (2, 3)]
        while committer._queue.qsize() < 2:
            threading.Event().wait(0.01)
        closing = pool.submit(committer.close)
        release.set()
        assert [f.result(10) for f in (first, *queued)] == ["row 1", "row 2", "row 3"]
        closing.result(10)
    assert committer_threads() == []
