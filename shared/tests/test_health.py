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


# -- a worker's health (issue 16.5) ------------------------------------------------------------

def _get(app, path: str) -> tuple[str, dict | str]:
    from wsgiref.util import setup_testing_defaults

    environ: dict = {"PATH_INFO": path}
    setup_testing_defaults(environ)
    environ["PATH_INFO"] = path
    answer: dict = {}
    body = b"".join(app(environ, lambda status, headers: answer.update(status=status)))
    text = body.decode()
    return answer["status"], (text if path == "/metrics" else __import__("json").loads(text))


def test_a_worker_is_ready_while_its_loops_run_and_not_once_one_has_been_failing_too_long(monkeypatch):
    import threading

    from shared import health
    from shared.background import BackgroundLoop

    failing = threading.Event()

    def step() -> int:
        if failing.is_set():
            raise ConnectionRefusedError("the broker is away")
        return 0

    loop = BackgroundLoop("test-relay", step=step, poll_seconds=0.01).start()
    app = health.worker_app(lambda: [])
    try:
        status, body = _get(app, "/health/ready")
        assert status.startswith("200") and body["checks"]["test-relay"] == "ok"
        monkeypatch.setattr(health, "GRACE", 0.0)
        failing.set()
        deadline = __import__("time").monotonic() + 5
        while _get(app, "/health/ready")[0].startswith("200") and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.02)
        status, body = _get(app, "/health/ready")
        assert status.startswith("503") and "the broker is away" in body["checks"]["test-relay"]
        metrics = _get(app, "/metrics")[1]
        assert 'zeroclear_component_healthy{component="test-relay"} 0.0' in metrics
        assert _get(app, "/health/live")[0].startswith("200")
    finally:
        loop.stop()
    assert "test-relay" not in health.report()[1], "a stopped loop is no longer asked"


def test_a_follower_behind_the_ledgers_head_that_does_not_move_is_stuck(monkeypatch):
    from shared import feed

    follower = feed.LedgerFollower.__new__(feed.LedgerFollower)
    follower.feed = type("Feed", (), {"head_seq": 10})()
    follower.position, follower._moved_at = 4, __import__("time").monotonic()
    assert follower.health() is None  # behind, but it just moved
    monkeypatch.setattr(feed, "STUCK_SECONDS", 0.0)
    assert "stuck at 4, the ledger at 10" in follower.health()
    follower.position = 10
    assert follower.health() is None
