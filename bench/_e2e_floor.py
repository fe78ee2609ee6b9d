"""The floor ``e2e.py`` holds intake against (issue 12): the least an accepted submission can cost
on this server — granian's WSGI with intake's workers and threads, each request's body inserted
into PostgreSQL in a transaction of its own and answered 202 with an id — with no validation, no
key check, no outbox, broker or ledger. Intake's accepted rate as a share of this one is what
the product's work costs; the rest is the HTTP server and the database, which no code can save.

    python bench/_e2e_floor.py URL PORT WORKERS THREADS     # serve it (e2e.py starts it itself)
"""
from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from functools import partial

import _common as c

TABLE = "CREATE TABLE IF NOT EXISTS floor_submissions (id uuid PRIMARY KEY, body jsonb NOT NULL)"


def _app(url: str, _target: str):
    import psycopg

    local = threading.local()

    def connection():
        if getattr(local, "conn", None) is None:
            local.conn = psycopg.connect(url, autocommit=True)
        return local.conn

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        submission_id = str(uuid.uuid4())
        connection().execute("INSERT INTO floor_submissions (id, body) VALUES (%s, %s)", (submission_id, body.decode()))
        answer = b'{"submission_id": "%s", "status": "pending"}' % submission_id.encode()
        start_response("202 Accepted", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
        return [answer]
    return app


def serve(url: str, port: int, workers: int, threads: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(TABLE)
    Granian(target="zeroclear-floor", address="127.0.0.1", port=port, interface=Interfaces.WSGI, workers=workers,
            blocking_threads=threads, log_level=LogLevels.warning, log_access=False,
            ).serve(target_loader=partial(_app, url))


def start(url: str, port: int, workers: int, threads: int, log_path: str) -> subprocess.Popen:
    """The floor's server in its own process group (stop it with os.killpg)."""
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, __file__, url, str(port), str(workers), str(threads)], cwd=c.ROOT,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
