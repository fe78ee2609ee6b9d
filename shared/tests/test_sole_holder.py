"""``SoleHolder``: among processes on one PostgreSQL database one at a time holds a name (the
assessment's keeper: the rows are the same for every API process, one keeps them); when the
holder goes, another takes over; on SQLite each holds it."""
from __future__ import annotations

import pytest

from shared.db import SoleHolder, make_engine


@pytest.fixture
def engines(postgres_url):
    made = [make_engine(postgres_url, pool_size=2) for _ in range(2)]  # as two processes would have
    yield made
    for engine in made:
        engine.dispose()


def test_one_process_holds_it_and_another_takes_over_when_it_goes(engines):
    first, second = (SoleHolder(engine, "zeroclear.test.keeper") for engine in engines)
    assert first.holds() and not second.holds()
    assert first.holds() and not second.holds()  # asked again: still the first's
    assert SoleHolder(engines[1], "zeroclear.test.other").holds()  # another name is another lock
    first.release()
    assert second.holds() and not first.holds()
    second._conn.connection.driver_connection.close()  # its process dies: the session ends, the lock with it
    assert first.holds()
    assert not second.holds()  # the broken session noticed, it asks again: the first's now
    first.release()


def test_every_process_holds_it_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert SoleHolder(engine, "a").holds() and SoleHolder(engine, "a").holds()
    engine.dispose()
