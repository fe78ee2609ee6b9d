"""The ledger's HTTP API through Flask's test client, on a SQLite ledger: who may read what,
what is open, and errors as problem+json (401, 403, 404, 405 with Allow, 422 naming the field)."""
from __future__ import annotations

import pytest

from shared.config import Settings

from services.ledger.bootstrap import bootstrap

from ..builders import AFTER_DEADLINE, report_message
from .support import tampering

PROBLEM = "application/problem+json"


@pytest.fixture
def service(tmp_path, clock, reference):
    settings = Settings.from_env("ledger", env={"ZEROCLEAR_DATA_DIR": str(tmp_path / "data")})
    service = bootstrap(settings, clock=clock, reference=reference)
    service.writer.record([report_message("410100", entries=2), report_message("410200", zero=True),
                           report_message("410100", zero=True)])
    yield service
    service.close()
    service.keys.engine.dispose()


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    return body


def test_the_feed_needs_a_key(client):
    body = assert_problem(client.get("/v1/events"), 401)
    assert body["type"] == "urn:zeroclear:problem:unauthenticated"
    assert client.get("/v1/events").headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_key_is_refused(client):
    assert_problem(client.get("/v1/events", headers={"Authorization": "Bearer zc_nobody_x"}), 401)


def test_the_office_reads_the_whole_feed_in_seq_order(client, key, service):
    page = client.get("/v1/events?after=1&limit=2", headers=key("office")).get_json()
    assert [e["seq"] for e in page["events"]] == [2, 3]
    assert (page["next_after"], page["head_seq"]) == (3, 4)
    assert page["events"][0] == service.repo.read(1, 1)[0].to_dict()


def test_a_region_key_sees_only_its_own_regions_events(client, key):
    page = client.get("/v1/events?limit=100", headers=key("region", region="410200")).get_json()
    assert [(e["seq"], e["region"]) for e in page["events"]] == [(3, "410200")]
    assert page["head_seq"] == 4


def test_verify_is_open_to_anyone(client, service):
    response = client.get("/v1/verify")
    assert response.status_code == 200
    verdict = response.get_json()
    assert verdict == {"ok": True, "count": 4, "head": service.repo.head()[1], "scope": "incremental",
                       "verified_at": verdict["verified_at"]}


def test_verify_over_http_names_the_first_bad_seq_of_a_tampered_log(client, service):
    with tampering(service.repo.engine) as conn:
        conn.exec_driver_sql("DELETE FROM events WHERE seq = 2")
    verdict = client.get("/v1/verify").get_json()
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["count"]) == (False, 2, 1)


def test_the_state_digest_is_refused_to_a_region_key(client, key):
    body = assert_problem(client.get("/v1/state", headers=key("region", region="410100")), 403)
    assert body["type"] == "urn:zeroclear:problem:forbidden"


def test_the_state_digest_is_the_live_one_for_an_auditor(client, key, service):
    live = service.repo.load_state()
    body = client.get("/v1/state", headers=key("auditor")).get_json()
    assert body == {"seq": 4, "head": live.head, "digest": live.digest()}


def test_the_registry_shows_a_region_only_its_own_row(client, key):
    body = client.get("/v1/reports?year=2016", headers=key("region", region="410100")).get_json()
    assert [(r["region"], r["status"], r["item_count"]) for r in body["regions"]] == [("410100", "on_time", 2)]


def test_the_registry_is_judged_as_of_a_given_time(client, key):
    after = AFTER_DEADLINE.isoformat()
    body = client.get("/v1/reports", query_string={"year": 2016, "as_of": after}, headers=key("office")).get_json()
    assert body["counts"] == {"on_time": 2, "late": 0, "missing": 26, "awaiting": 0, "zero": 1}
    assert (body["expected"], body["filed"], float(body["completeness"])) == (28, 2, round(200 / 28, 2))


@pytest.mark.parametrize("query", ["year=abc", "year=1800", "", "year=2016&as_of=yesterday"],
                         ids=["not a number", "out of range", "missing", "bad as_of"])
def test_the_registry_validates_its_query_naming_the_bad_field(client, key, query):
    body = assert_problem(client.get(f"/v1/reports?{query}", headers=key("office")), 422)
    field = "as_of" if "as_of" in query else "year"
    assert [e["field"] for e in body["errors"]] == [f"query:{field}"]


def test_an_unknown_route_is_a_problem_404(client):
    assert_problem(client.get("/v1/nothing-here"), 404)


def test_a_post_to_a_read_route_is_a_problem_405_with_allow(client):
    response = client.post("/v1/verify", json={})
    assert_problem(response, 405)
    assert "GET" in {m.strip() for m in response.headers["Allow"].split(",")}
