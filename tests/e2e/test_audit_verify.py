"""``/v1/verify`` for everyone and for auditors (issue 10 #8, #9): the public answer is the last
verified head moved on over the new events only; a full walk is for office and auditor keys, one
at a time; ``deep=true`` (and ``zeroclear ledger verify --deep``) rebuilds the projections from
the log and names the stored rows that differ — a tampered projection row is served as it stands
(the reads answer from the stored rows), which is what the deep check is for. Both backends. The
tests that file and then tamper with the ledger's database, or need a setting of their own, start a
system each; the two that record nothing (refusals, the walk lock held a moment) share one per backend."""
from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

from shared.db import write_tx
from shared.testing import data
from shared.testing.plugin import system_on

from services.ledger.verification import WALK_LOCK_KEY, walk_lock_file

from .helpers import cli, recorded

pytestmark = pytest.mark.e2e

ZZ = "410100"


def _ledger_engine(system):
    return system.services["ledger"].repo.engine


@contextlib.contextmanager
def _tampering(engine):
    """A write as an intruder with the database owner's rights makes it (no append-only trigger)."""
    with write_tx(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_update")
        yield conn


def _filed(api, keys, entries: int = 2) -> list[str]:
    zz = api.as_key(keys("region", region=ZZ))
    recorded(zz, zz.file_report(data.report(ZZ, entries=entries)))
    office = api.as_key(keys("office"))
    return [item["item_id"] for item in office.get("ledger", "/v1/items", params={"region": ZZ}).json()["items"]]


def test_a_tampered_projection_row_is_served_but_deep_verification_names_it(system, api, keys):
    office, auditor = api.as_key(keys("office")), api.as_key(keys("auditor"))
    item_id = _filed(api, keys)[0]
    before = office.get("ledger", f"/v1/items/{item_id}").json()
    assert before["status"] != "verified"
    assert office.get("ledger", "/v1/verify", params={"deep": "true"}).json()["ok"] is True

    with write_tx(_ledger_engine(system)) as conn:
        conn.execute(sa.text("UPDATE items SET status = 'verified' WHERE item_id = :id AND valid_to IS NULL"),
                     {"id": item_id})

    assert office.get("ledger", f"/v1/items/{item_id}").json()["status"] == "verified"  # served as stored
    assert office.get("ledger", "/v1/verify").json()["ok"] is True  # the chain itself is whole
    deep = auditor.get("ledger", "/v1/verify", params={"deep": "true"})
    assert deep.status_code == 200, deep.text
    verdict = deep.json()
    assert (verdict["ok"], verdict["scope"], verdict["chain"]["ok"], verdict["projections"]["ok"]) == (
        False, "deep", True, False)
    assert verdict["projections"]["tables"]["items"]["differing"] == 1
    assert all(t["differing"] == 0 for name, t in verdict["projections"]["tables"].items() if name != "items")
    (difference,) = verdict["projections"]["differences"]
    assert (difference["table"], difference["key"], difference["live"]) == ("items", {"item_id": item_id}, True)
    assert list(difference["columns"]) == ["status"] and difference["columns"]["status"]["stored"] == "verified"
    assert difference["columns"]["status"]["rebuilt"] not in ("verified", None)

    settings = system.services["ledger"].settings
    env = {"ZEROCLEAR_DATA_DIR": str(settings.data_dir), "ZEROCLEAR_LEDGER_DATABASE_URL": settings.database_url}
    done = cli(env, "ledger", "verify", "--deep", check=False)
    assert done.returncode == 1 and "items (1)" in done.stderr, done.stderr
    assert '"status"' in done.stdout and item_id in done.stdout
    plain = cli(env, "ledger", "verify", check=False)
    assert plain.returncode == 0, plain.stderr


def test_deep_verification_is_for_office_and_auditor_keys(shared_api, shared_keys):
    api, keys = shared_api, shared_keys
    assert api.get("ledger", "/v1/verify", params={"deep": "true"}).status_code == 401
    for role, scope in (("region", {"region": ZZ}), ("service", {})):
        answer = api.as_key(keys(role, **scope)).get("ledger", "/v1/verify", params={"deep": "true"})
        assert answer.status_code == 403, answer.text
    assert api.get("ledger", "/v1/verify", params={"deep": "maybe"}).status_code == 422


def test_the_public_answer_is_the_last_verified_head_moved_on_over_new_events_only(system, api, keys):
    _filed(api, keys, entries=1)
    first = api.get("ledger", "/v1/verify").json()
    assert (first["ok"], first["scope"]) == (True, "incremental") and first["verified_at"]
    # an old event edited behind the triggers: the public answer verified it already and looks
    # only at what came after; a full walk by an auditor finds it, and its verdict is then public
    with _tampering(_ledger_engine(system)) as conn:
        conn.execute(sa.text("UPDATE events SET actor = 'office/forger' WHERE seq = 2"))
    zz = api.as_key(keys("region", region="410200"))
    recorded(zz, zz.file_report(data.report("410200", zero=True)))
    moved_on = api.get("ledger", "/v1/verify").json()
    assert (moved_on["ok"], moved_on["scope"]) == (True, "incremental") and moved_on["count"] > first["count"]

    full = api.as_key(keys("auditor")).get("ledger", "/v1/verify").json()
    assert (full["ok"], full["scope"], full["first_bad_seq"]) == (False, "full", 2)
    public = api.get("ledger", "/v1/verify").json()
    assert (public["ok"], public["first_bad_seq"]) == (False, 2)


@contextlib.contextmanager
def _walk_held(system):
    """Another full walk running: the lock every ledger process takes for one."""
    engine = _ledger_engine(system)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": WALK_LOCK_KEY}).scalar()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": WALK_LOCK_KEY})
        return
    with walk_lock_file(engine.url.database):
        yield


def test_one_full_walk_at_a_time_the_next_is_told_when_to_come_back(shared_system, shared_api, shared_keys):
    system, api, keys = shared_system, shared_api, shared_keys
    office = api.as_key(keys("office"))
    with _walk_held(system):
        busy = office.get("ledger", "/v1/verify")
        assert busy.status_code == 429 and int(busy.headers["Retry-After"]) > 0, busy.text
        assert busy.headers["Content-Type"] == "application/problem+json"
        assert office.get("ledger", "/v1/verify", params={"deep": "true"}).status_code == 429
        assert api.get("ledger", "/v1/verify").status_code == 200  # the public answer does not wait
    again = office.get("ledger", "/v1/verify")
    assert again.status_code == 200 and again.json()["scope"] == "full"


def test_the_public_answer_looks_at_the_log_at_most_every_so_many_seconds(backend, tmp_path, clock, reference):
    from shared.testing.client import Api

    with system_on(backend, tmp_path, clock=clock, reference=reference,
                   env={"ZEROCLEAR_LEDGER_VERIFY_EVERY_SECONDS": "3600"}) as running:
        api = Api(running.urls)
        first = api.get("ledger", "/v1/verify").json()
        zz = api.as_key(running.keys.create("region", region=ZZ)[0])
        recorded(zz, zz.file_report(data.report(ZZ, entries=1)))
        assert api.get("ledger", "/v1/verify").json() == first  # cached: the same head, the same time
        full = api.as_key(running.keys.create("auditor")[0]).get("ledger", "/v1/verify").json()
        assert full["count"] > first["count"] and full["ok"]
        assert api.get("ledger", "/v1/verify").json()["count"] == full["count"]  # a full walk's verdict is public
