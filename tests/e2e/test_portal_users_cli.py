"""``zeroclear users add|list|disable|reset``: the operator's side of the portal's accounts, on
the data folder a running system shares."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from shared.config import Settings
from shared.keys import KeyStore
from zeroclear.cli import main

PASSWORD = "correct horse battery\n"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("ZEROCLEAR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ZEROCLEAR_PORTAL_SECRET", raising=False)

    def invoke(*args: str, stdin: str | None = None):
        return CliRunner().invoke(main, ["--log-level", "warning", "users", *args], input=stdin)
    return invoke


def keys() -> list[dict]:
    store = KeyStore.from_url(Settings.from_env("portal").auth_database_url)
    try:
        return store.list()
    finally:
        store.engine.dispose()


def test_adding_a_person_issues_a_key_recorded_under_them_and_their_region(run):
    added = run("add", "zz.clerk", "--role", "region", "--region", "410100", "--display-name", "郑州 张三",
                "--password-stdin", stdin=PASSWORD)
    assert added.exit_code == 0, added.output
    assert "region/410100/k" in added.output and "/user:zz.clerk" in added.output
    [key] = keys()
    assert (key["role"], key["region"], key["person"]) == ("region", "410100", "zz.clerk")
    listed = json.loads(run("list").output)
    assert [(p["name"], p["role"], p["region"], p["display_name"]) for p in listed] == [
        ("zz.clerk", "region", "410100", "郑州 张三")]
    assert "password_hash" not in listed[0] and "key_sealed" not in listed[0]


def test_disabling_revokes_the_key_and_a_reset_gives_a_new_password(run):
    run("add", "zz", "--role", "office", "--password-stdin", stdin=PASSWORD)
    reset = run("reset", "zz", "--password-stdin", stdin="another good password\n")
    assert reset.exit_code == 0 and "lock lifted" in reset.output
    disabled = run("disable", "zz")
    assert disabled.exit_code == 0 and keys()[0]["revoked_at"]
    assert json.loads(run("list").output)[0]["disabled_at"]


@pytest.mark.parametrize("args, says", [
    (("add", "zz", "--role", "region", "--password-stdin"), "needs --region"),
    (("add", "zz", "--role", "region", "--region", "999999", "--password-stdin"), "unknown region"),
    (("add", "Zz Top", "--role", "office", "--password-stdin"), "user name"),
    (("disable", "nobody"), "no user nobody"),
])
def test_what_cannot_be_done_ends_in_a_one_line_usage_error(run, args, says):
    answer = run(*args, stdin=PASSWORD)
    assert answer.exit_code == 2 and says in answer.output and "Traceback" not in answer.output


def test_a_short_password_is_refused(run):
    answer = run("add", "zz", "--role", "office", "--password-stdin", stdin="short\n")
    assert answer.exit_code == 2 and "at least 10" in answer.output and keys() == []
