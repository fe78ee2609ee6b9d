"""The chain walked a segment at a time (``/v1/verify/segment``): the segments together say what
the full walk says, a tampered log is named at its first bad position, only office and auditor
keys may walk."""
from __future__ import annotations

from .support import tampering
from .test_http_api import assert_problem, service  # noqa: F401 (the module's log, a fixture)


def walk(client, headers, limit: int) -> list[dict]:
    segments, after, after_hash = [], 0, "0" * 64
    while True:
        answer = client.get("/v1/verify/segment", headers=headers,
                            query_string={"after": after, "after_hash": after_hash, "limit": limit})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        segments.append(answer.get_json())
        if segments[-1]["done"]:
            return segments
        after, after_hash = segments[-1]["count"], segments[-1]["head"]


def test_the_segments_walk_the_whole_chain_to_the_head(client, key, service):
    segments = walk(client, key("auditor"), limit=3)
    assert [(s["count"], s["done"], s["ok"]) for s in segments] == [(3, False, True), (4, True, True)]
    assert segments[-1]["head"] == service.repo.head()[1] and segments[-1]["head_seq"] == 4


def test_a_tampered_log_is_named_at_its_first_bad_position(client, key, service):
    with tampering(service.repo.engine) as conn:
        conn.exec_driver_sql("DELETE FROM events WHERE seq = 2")
    [segment] = walk(client, key("office"), limit=3)
    assert (segment["ok"], segment["first_bad_seq"], segment["count"], segment["done"]) == (False, 2, 1, True)


def test_a_wrong_starting_hash_does_not_pass(client, key):
    answer = client.get("/v1/verify/segment", headers=key("auditor"),
                        query_string={"after": 2, "after_hash": "1" * 64}).get_json()
    assert (answer["ok"], answer["first_bad_seq"]) == (False, 3)


def test_a_region_key_may_not_walk_the_chain(client, key):
    assert_problem(client.get("/v1/verify/segment", headers=key("region", region="410100")), 403)
