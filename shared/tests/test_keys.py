"""API keys: a created key authenticates, only its hash is stored, a revoked key stops working,
and a key is only made for a role and scope that exist."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared.keys import KeyRequestError, KeyStore, hash_key, migrate_keys
from shared.reference import default_reference

REGIONS = set(default_reference().regions)


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    migrate_keys(url)
    store = KeyStore.from_url(url)
    yield store
    store.engine.dispose()


def _stored_bytes(folder: Path) -> bytes:
    """Everything SQLite wrote: the database file and its write-ahead log."""
    return b"".join(path.read_bytes() for path in sorted(folder.glob("keys.db*")))


def test_a_created_key_authenticates_as_whom_it_was_made_for(store):
    key, principal = store.create("region", region="410100", label="Zhengzhou", valid_regions=REGIONS)
    assert store.authenticate(key) == principal
    assert (principal.role, principal.region, principal.department) == ("region", "410100", None)
    assert principal.actor == f"region/410100/{principal.key_id}"
    assert store.authenticate(key + "x") is None
    assert store.authenticate("") is None


def test_only_the_hash_of_a_key_is_stored_the_clear_key_appears_nowhere_in_the_database_file(store, tmp_path):
    key, principal = store.create("office", label="provincial office")
    secret = key.rsplit("_", 1)[1]
    store.engine.dispose()  # everything written is on disk now
    stored = _stored_bytes(tmp_path)
    assert hash_key(key).encode() in stored
    assert key.encode() not in stored and secret.encode() not in stored
    assert all("key_hash" not in row for row in store.list())
    assert [row["key_id"] for row in store.list()] == [principal.key_id]


def test_a_revoked_key_no_longer_authenticates_even_just_after_a_successful_use(store):
    key, principal = store.create("auditor")
    other, _ = store.create("auditor")
    assert store.authenticate(key) is not None
    assert store.revoke(principal.key_id) is True
    assert store.authenticate(key) is None
    assert store.authenticate(other) is not None
    assert store.revoke(principal.key_id) is False


def test_every_key_is_different(store):
    keys = {store.create("auditor")[0] for _ in range(20)}
    assert len(keys) == 20


@pytest.mark.parametrize("role, kwargs, reason", [
    ("region", {}, "needs --region"),
    ("region", {"region": "410199"}, "unknown region code"),
    ("region", {"region": "110100"}, "unknown region code"),
    ("office", {"region": "410100"}, "only a region key"),
    ("department", {}, "needs --department"),
    ("department", {"department": "tourism"}, "needs --department"),
    ("auditor", {"department": "industry"}, "only a department key"),
    ("admin", {}, "role must be one of"),
])
def test_a_key_is_only_made_for_a_known_role_and_a_valid_scope(store, role, kwargs, reason):
    with pytest.raises(KeyRequestError, match=reason):
        store.create(role, valid_regions=REGIONS, **kwargs)
    assert store.list() == []


def test_a_department_key_carries_its_department(store):
    key, principal = store.create("department", department="environment")
    assert store.authenticate(key).department == "environment"
    assert principal.actor == f"department/environment/{principal.key_id}"
    assert not principal.can_read_region("410100")


def test_an_imported_deployment_key_authenticates_once_registered_and_is_not_registered_twice(store):
    assert store.import_key("a-deployment-secret-of-enough-length", "service") is True
    assert store.import_key("a-deployment-secret-of-enough-length", "service") is False
    assert store.authenticate("a-deployment-secret-of-enough-length").role == "service"


class Ticks:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_key_revoked_by_another_process_stops_working_here_within_one_second(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    migrate_keys(url)
    ticks = Ticks()
    serving = KeyStore.from_url(url, ticks=ticks, cache_seconds=60)  # asks for more: the bound still holds
    elsewhere = KeyStore.from_url(url)  # the command line, say
    key, principal = elsewhere.create("office")
    assert serving.authenticate(key) == principal
    assert elsewhere.revoke(principal.key_id)
    ticks.now += 0.999
    assert serving.authenticate(key) == principal  # still trusted from its lookup, within the bound
    ticks.now += 0.001
    assert serving.authenticate(key) is None
    for store in (serving, elsewhere):
        store.engine.dispose()


def test_a_key_issued_to_a_person_acts_as_that_person_within_its_region(store):
    key, principal = store.create("region", region="410100", person="zhang.san", valid_regions=REGIONS)
    assert store.authenticate(key) == principal
    assert principal.actor == f"region/410100/{principal.key_id}/user:zhang.san"
    with pytest.raises(KeyRequestError):
        store.create("office", person="Zhang San")
