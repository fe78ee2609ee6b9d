"""The migrations make every index ``adapters/tables.py`` declares, and the lists that filter on a
condition (the overdue items, the late tips) can be answered from their partial indexes with their
values bound as parameters, as the service runs them: the database itself is asked, on SQLite
(``INDEXED BY``: an error if the index cannot serve the statement) and PostgreSQL (the generic
plan of the prepared statement, with every other way of scanning priced out). A condition whose
values were parameters could not be proven to fall within the index's and would never use it."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from services.ledger.adapters import reads
from services.ledger.adapters.tables import items, metadata, tips

TODAY, NOW = "2026-03-01", "2026-03-01T00:00:00.000000Z"
QUERIES = {
    "ix_items_open_live": (items, lambda: reads._item_query(reads.ItemFilter(status="overdue"), None, NOW, TODAY)
                           .order_by(items.c.item_id).limit(101)),
    "ix_tips_late_or_open_live": (tips, lambda: reads._tip_query(None, "late", None, NOW).order_by(tips.c.seq).limit(101)),
}


def test_the_migrations_make_every_declared_index(engines, ledger_url):
    inspector = sa.inspect(engines(ledger_url))
    for table in metadata.sorted_tables:
        declared = {index.name for index in table.indexes}
        made = {index["name"] for index in inspector.get_indexes(table.name)}
        assert declared <= made, (table.name, declared - made)


@pytest.mark.parametrize("index", sorted(QUERIES))
def test_a_filtered_list_can_be_read_from_its_partial_index(engines, ledger_url, index):
    engine = engines(ledger_url)
    table, query = QUERIES[index]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            compiled = query().compile(engine)
            sql = re.sub(rf"\bFROM {table.name}\b", f"FROM {table.name} INDEXED BY {index}", str(compiled), count=1)
            assert "INDEXED BY" in sql and "?" in sql
            conn.exec_driver_sql(sql, tuple(compiled.params[name] for name in compiled.positiontup)).all()
        else:
            compiled = query().compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"))
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                conn.exec_driver_sql(f"SET LOCAL {setting} = off")
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            conn.exec_driver_sql(f"PREPARE listed AS {compiled}")
            values = ", ".join(repr(compiled.params[name]) for name in compiled.positiontup)
            plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN EXECUTE listed({values})"))
            assert "$1" in str(compiled) and index in plan, plan
