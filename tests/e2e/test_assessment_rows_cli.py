"""``zeroclear assessment rows verify|drop``: an operator or an auditor holds the assessment's kept
rows against a fresh scoring of its journal (exit status 1 naming a row that is not what scoring
gives) and drops them (the service scores them again)."""
from __future__ import annotations

import json

import sqlalchemy as sa

from services.assessment.adapters.regional import RegionalScores
from services.assessment.adapters.tables import ledger_events, scored_rows
from services.assessment.bootstrap import MIGRATIONS, VERSION_TABLE
from services.assessment.tests.integration.test_regional_scores import kept
from services.assessment.tests.unit.test_scoring import CUT, mixed_log
from shared.db import make_engine, migrate, write_tx
from shared.journal import EventJournal
from shared.reference import default_reference

from .helpers import cli


def test_the_kept_rows_verify_and_a_changed_one_fails_naming_it_then_they_are_dropped(tmp_path):
    url = f"sqlite:///{tmp_path / 'assessment.db'}"
    migrate(url, MIGRATIONS, VERSION_TABLE)
    engine = make_engine(url, pool_size=1)
    journal = EventJournal(engine, ledger_events)
    events = mixed_log().events
    kept(journal, events)
    names = {code: region.name for code, region in default_reference().regions.items()}
    RegionalScores(journal, weights=("0.2",) * 5, names=names).result(2016, CUT)
    env = {"ZEROCLEAR_DATA_DIR": str(tmp_path)}

    verdict = json.loads(cli(env, "assessment", "rows", "verify").stdout)
    assert verdict == {"ok": True, "checked": 2, "bad": []}

    with write_tx(engine) as conn:
        conn.execute(scored_rows.update().where(scored_rows.c.region == "410100").values(log_hash="f" * 64))
    failed = cli(env, "assessment", "rows", "verify", check=False)
    assert failed.returncode == 1 and json.loads(failed.stdout)["bad"][0]["region"] == "410100"
    assert failed.stderr.strip().splitlines() == [
        f"kept rows verification FAILED: 410100 ({json.loads(failed.stdout)['bad'][0]['key']}): the journal's hash "
        f"at {len(events)} is not the one the row was made from"]  # the last event opens 2017: the calendar's

    refused = cli(env, "assessment", "rows", "drop", check=False)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert json.loads(cli(env, "assessment", "rows", "drop", "--yes").stdout) == {"dropped": 2}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(scored_rows)).scalar_one() == 0
    engine.dispose()
