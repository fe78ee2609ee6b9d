"""Accounts: a person's key issued in the shared key store, sign-in that slows down and locks,
sessions that expire and end everywhere when signed out, disabled or reset."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.portal.domain.accounts import (
    LOCK_AFTER, AccountError, User, after_failure, retry_delay, wait_before_attempt,
)

PASSWORD = "correct horse battery"


def test_each_failure_in_a_row_makes_the_next_attempt_wait_longer_up_to_a_minute():
    assert [retry_delay(n).total_seconds() for n in (0, 1, 2, 3, 7, 8, 30)] == [0, 1, 2, 4, 60, 60, 60]


def test_an_account_locks_after_ten_failures_in_a_row(real_clock):
    user, now = User("zz", "region", "410100"), real_clock.now()
    for _ in range(LOCK_AFTER - 1):
        user = after_failure(user, now)
    assert user.locked_until is None
    user = after_failure(user, now)
    assert user.locked_until == now + timedelta(minutes=15)
    assert wait_before_attempt(user, now + timedelta(minutes=14)) == timedelta(minutes=1)
    assert wait_before_attempt(user, now + timedelta(minutes=15)) == timedelta(0)


def test_adding_a_person_issues_them_a_key_of_their_own_sealed_at_rest(portal):
    user = portal.handlers.add_user("zz.clerk", PASSWORD, "region", region="410100")
    principal = next(k for k in portal.keys.list() if k["key_id"] == user.key_id)
    assert (principal["role"], principal["region"], principal["person"]) == ("region", "410100", "zz.clerk")
    stored = portal.accounts.get("zz.clerk")
    assert stored.key_sealed and not stored.key_sealed.startswith("zc_")
    assert PASSWORD not in stored.password_hash and stored.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize("name, role, scope, says", [
    ("Bad Name", "region", {"region": "410100"}, "user name"),
    ("zz", "region", {}, "needs --region"),
    ("zz", "department", {"department": "environment", "region": "410100"}, "only a region user"),
    ("zz", "region", {"region": "999999"}, "unknown region"),
])
def test_a_person_who_cannot_be_is_refused_naming_why(portal, name, role, scope, says):
    from shared.keys import KeyRequestError

    with pytest.raises((AccountError, KeyRequestError), match=says):
        portal.handlers.add_user(name, PASSWORD, role, **scope)


def test_a_short_password_is_refused(portal):
    with pytest.raises(AccountError, match="at least 10"):
        portal.handlers.add_user("zz", "short", "office")


def test_signing_in_gives_a_session_that_finds_the_person_and_their_key(portal):
    portal.handlers.add_user("zz", PASSWORD, "region", region="410100")
    outcome = portal.handlers.sign_in("ZZ ", PASSWORD)
    user, key = portal.handlers.session_user(outcome.token)
    assert user.name == "zz" and portal.keys.authenticate(key).actor.endswith("/user:zz")


def test_a_wrong_password_slows_the_next_attempt_and_locks_after_ten(portal, real_clock):
    portal.handlers.add_user("zz", PASSWORD, "region", region="410100")
    assert portal.handlers.sign_in("zz", "wrong password").token is None
    waiting = portal.handlers.sign_in("zz", PASSWORD)  # even the right password waits its turn
    assert waiting.token is None and waiting.wait == timedelta(seconds=1) and not waiting.locked
    for _ in range(LOCK_AFTER - 1):
        real_clock.advance(timedelta(minutes=2))
        portal.handlers.sign_in("zz", "wrong password")
    real_clock.advance(timedelta(minutes=2))
    locked = portal.handlers.sign_in("zz", PASSWORD)
    assert locked.locked and locked.token is None
    real_clock.advance(timedelta(minutes=14))
    assert portal.handlers.sign_in("zz", PASSWORD).token is not None


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(portal):
    portal.handlers.add_user("zz", PASSWORD, "office")
    assert portal.handlers.sign_in("nobody", PASSWORD) == portal.handlers.sign_in("zz", "wrong password")


def test_a_session_ends_after_thirty_idle_minutes_and_twelve_hours_in_all(portal, real_clock):
    portal.handlers.add_user("zz", PASSWORD, "office")
    token = portal.handlers.sign_in("zz", PASSWORD).token
    for _ in range(24):  # a person at work: a page every 29 minutes, for 11.6 hours
        real_clock.advance(timedelta(minutes=29))
        assert portal.handlers.session_user(token) is not None
    real_clock.advance(timedelta(minutes=29))  # past twelve hours since sign-in
    assert portal.handlers.session_user(token) is None
    idle = portal.handlers.sign_in("zz", PASSWORD).token
    real_clock.advance(timedelta(minutes=30))
    assert portal.handlers.session_user(idle) is None


def test_signing_out_ends_the_session_wherever_its_cookie_still_is(portal):
    portal.handlers.add_user("zz", PASSWORD, "office")
    token = portal.handlers.sign_in("zz", PASSWORD).token
    portal.handlers.sign_out(token)
    assert portal.handlers.session_user(token) is None


def test_disabling_a_person_ends_their_sessions_refuses_sign_in_and_revokes_their_key(portal):
    user = portal.handlers.add_user("zz", PASSWORD, "region", region="410100")
    token = portal.handlers.sign_in("zz", PASSWORD).token
    _, key = portal.handlers.session_user(token)
    portal.handlers.disable_user("zz")
    assert portal.handlers.session_user(token) is None
    assert portal.handlers.sign_in("zz", PASSWORD).token is None
    assert portal.keys.authenticate(key) is None
    assert next(k for k in portal.keys.list() if k["key_id"] == user.key_id)["revoked_at"]


def test_a_reset_sets_a_new_password_lifts_the_lock_and_ends_the_sessions(portal, real_clock):
    portal.handlers.add_user("zz", PASSWORD, "office")
    token = portal.handlers.sign_in("zz", PASSWORD).token
    for _ in range(LOCK_AFTER):
        real_clock.advance(timedelta(minutes=2))
        portal.handlers.sign_in("zz", "wrong password")
    portal.handlers.reset_password("zz", "another good password")
    assert portal.handlers.session_user(token) is None
    assert portal.handlers.sign_in("zz", "another good password").token is not None
    assert portal.handlers.sign_in("zz", PASSWORD).token is None
