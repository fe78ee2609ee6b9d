"""The portal's account store on SQLite and PostgreSQL: people, their failed attempts, their
sessions (the row is the session: deleting it ends it), migrated by the portal's own Alembic."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.db import make_engine, migrate

from services.portal.adapters.accounts import AccountStore
from services.portal.bootstrap import MIGRATIONS, VERSION_TABLE
from services.portal.domain.accounts import User

NOW = datetime(2016, 11, 1, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.db'}"
        migrate(url, MIGRATIONS, VERSION_TABLE)
        yield AccountStore(make_engine(url))
        return
    url = request.getfixturevalue("postgres_url")
    migrate(url, MIGRATIONS, VERSION_TABLE)
    store = AccountStore(make_engine(url))
    yield store
    store.engine.dispose()


def person(name: str = "zz") -> User:
    return User(name, "region", "410100", display_name="郑州 张三", key_id="k1", password_hash="$argon2id$x",
                key_sealed="sealed")


def test_a_person_is_kept_as_added_and_a_name_only_once(store):
    assert store.add(person(), NOW)
    assert not store.add(person(), NOW)
    found = store.get("zz")
    assert (found.name, found.region, found.display_name, found.key_sealed, found.disabled) == (
        "zz", "410100", "郑州 张三", "sealed", False)
    assert store.get("nobody") is None


def test_failed_attempts_and_a_lock_are_kept_with_their_times(store):
    store.add(person(), NOW)
    store.record_attempt(User(**{**person().__dict__, "failures": 3, "last_failure_at": NOW,
                                 "locked_until": NOW + timedelta(minutes=15)}))
    found = store.get("zz")
    assert (found.failures, found.last_failure_at, found.locked_until) == (3, NOW, NOW + timedelta(minutes=15))


def test_sessions_are_rows_that_a_reset_or_a_disable_deletes(store):
    store.add(person(), NOW)
    store.open_session("a" * 64, "zz", NOW, NOW + timedelta(hours=12))
    store.open_session("b" * 64, "zz", NOW, NOW + timedelta(hours=12))
    assert store.session("a" * 64) == ("zz", NOW, NOW + timedelta(hours=12))
    store.touch_session("a" * 64, NOW + timedelta(minutes=5))
    assert store.session("a" * 64)[1] == NOW + timedelta(minutes=5)
    store.end_session("a" * 64)
    assert store.session("a" * 64) is None and store.session("b" * 64) is not None
    store.set_password("zz", "$argon2id$y")
    assert store.session("b" * 64) is None and store.get("zz").password_hash == "$argon2id$y"
    store.open_session("c" * 64, "zz", NOW, NOW + timedelta(hours=12))
    assert store.disable("zz", NOW) and store.session("c" * 64) is None and store.get("zz").disabled
    assert store.end_sessions_before(NOW) == 0
