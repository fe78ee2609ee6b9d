"""Every service's health endpoints: live always answers; ready asks the service's database."""
from __future__ import annotations

import sqlite3

from shared.http import create_app


def test_ready_answers_200_while_the_database_answers():
    app, _ = create_app("probe", title="probe", database=lambda: None)
    answer = app.test_client().get("/health/ready")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_ready_answers_503_naming_the_failure_when_the_database_does_not():
    def down():
        raise sqlite3.OperationalError("unable to open database file")

    app, _ = create_app("probe", title="probe", database=down)
    client = app.test_client()
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "checks": {"database": "unavailable: OperationalError"}}
    assert client.get("/health/live").status_code == 200
