"""The event table is append-only in the database itself: UPDATE, DELETE (and on PostgreSQL
TRUNCATE) are refused by triggers, whoever connects, and the log stays intact."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from shared.db import make_engine, write_tx

from services.ledger.adapters.repository import LedgerRepository
from services.ledger.adapters.tables import events
from services.ledger.handlers import LedgerWriter

from .support import migrate, record_standard_log

STATEMENTS = {
    "UPDATE": "UPDATE events SET actor = 'office/forger' WHERE seq = 2",
    "DELETE": "DELETE FROM events WHERE seq = 8",
    "TRUNCATE": "TRUNCATE events",
}


@pytest.mark.parametrize("operation", ["UPDATE", "DELETE", "TRUNCATE"])
def test_changing_or_removing_stored_events_is_refused_on_postgresql(postgres_url, tmp_path, reference, clock, operation):
    migrate(postgres_url, tmp_path / "data")
    engine = make_engine(postgres_url)
    try:
        repo = LedgerRepository(engine)
        recorded = record_standard_log(LedgerWriter(repo, reference, clock), clock)
        with pytest.raises(DBAPIError, match=f"the event log is append-only: {operation} refused"):
            with write_tx(engine) as conn:
                conn.exec_driver_sql(STATEMENTS[operation])
        assert repo.verify().to_dict() == {"ok": True, "count": 8, "head": recorded[-1].hash}
    finally:
        engine.dispose()


@pytest.mark.parametrize("operation", ["UPDATE", "DELETE"])
def test_changing_or_removing_stored_events_is_refused_on_sqlite(tmp_path, reference, clock, operation):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    migrate(url, tmp_path / "data")
    engine = make_engine(url)
    try:
        repo = LedgerRepository(engine)
        record_standard_log(LedgerWriter(repo, reference, clock), clock)
        with pytest.raises(DBAPIError, match=f"the event log is append-only: {operation} refused"):
            with write_tx(engine) as conn:
                conn.exec_driver_sql(STATEMENTS[operation])
        assert repo.verify().ok
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == 8
    finally:
        engine.dispose()
