"""The auditors' reads of the log over HTTP (``/v1/audit/*``), on SQLite and PostgreSQL: events filtered
by type, region, stream, time, causation and correlation, newest first a page at a time; the
streamed export, which the standalone verifier accepts; office and auditor keys only."""
from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import Settings
from shared.reference import Region

from services.ledger import verify_export
from services.ledger.bootstrap import bootstrap
from services.ledger.entrypoints.http import create_app
from services.ledger.entrypoints.schemas import RegistryRow

from ..builders import report_message


@pytest.fixture(params=["sqlite", "postgres"])
def service(request, tmp_path, clock, reference):
    env = {"ZEROCLEAR_DATA_DIR": str(tmp_path / "data")}
    if request.param == "postgres":  # the export streams through psycopg's binary cursor there
        env["ZEROCLEAR_LEDGER_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    settings = Settings.from_env("ledger", env=env)
    service = bootstrap(settings, clock=clock, reference=reference)
    assert service.repo.engine.dialect.name == {"sqlite": "sqlite", "postgres": "postgresql"}[request.param]
    service.writer.record([report_message("410100", entries=2), report_message("410200", zero=True),
                           report_message("410300", zero=True), report_message("410400", zero=True)])
    yield service
    service.close()
    service.keys.engine.dispose()


@pytest.fixture
def client(service):
    return create_app(service).test_client()


def bearer(service, role: str, **scope) -> dict:
    return {"Authorization": f"Bearer {service.keys.create(role, **scope)[0]}"}


def test_the_auditor_pages_through_the_events_newest_first(client, service):
    auditor = bearer(service, "auditor")
    first = client.get("/v1/audit/events?limit=3", headers=auditor).get_json()
    assert [e["seq"] for e in first["events"]] == [5, 4, 3] and first["next_before"] == 3 and first["head_seq"] == 5
    rest = client.get(f"/v1/audit/events?limit=3&before={first['next_before']}", headers=auditor).get_json()
    assert [e["seq"] for e in rest["events"]] == [2, 1] and rest["next_before"] is None


def test_each_filter_narrows_the_events(client, service):
    office = bearer(service, "office")

    def seqs(query: str) -> list[int]:
        answer = client.get(f"/v1/audit/events?{query}", headers=office)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [e["seq"] for e in answer.get_json()["events"]]

    one = client.get("/v1/audit/events?region=410200", headers=office).get_json()["events"][0]
    assert one["seq"] == 3 and one["region"] == "410200"
    assert seqs("type=intake.report_filed.v1") == [5, 4, 3, 2] and seqs("type=nothing.v1") == []
    assert seqs(f"stream={one['stream']}") == [3]
    assert seqs(f"id={one['id']}") == [3]
    assert seqs(f"correlation={one['correlation_id']}") == [3]
    assert seqs(f"caused_by={one['id']}") == []
    assert seqs(f"since={one['recorded_at']}&until={one['recorded_at']}") == [5, 4, 3, 2, 1]  # one instant, one clock
    assert seqs("until=2015-01-01T00:00:00Z") == []


def test_bad_filters_are_named_and_only_the_office_and_auditors_may_read(client, service):
    auditor = bearer(service, "auditor")
    answer = client.get("/v1/audit/events?since=yesterday&limit=0", headers=auditor)
    assert answer.status_code == 422
    assert {e["field"] for e in answer.get_json()["errors"]} == {"query:since", "query:limit"}
    for role, scope in (("region", {"region": "410100"}), ("department", {"department": "environment"})):
        assert client.get("/v1/audit/events", headers=bearer(service, role, **scope)).status_code == 403
        assert client.get("/v1/audit/export", headers=bearer(service, role, **scope)).status_code == 403
    assert client.get("/v1/audit/export").status_code == 401


def test_the_streamed_export_is_accepted_by_the_offline_verifier(client, service, tmp_path):
    answer = client.get("/v1/audit/export", headers=bearer(service, "auditor"))
    assert answer.status_code == 200 and answer.is_streamed
    assert answer.headers["Content-Disposition"] == 'attachment; filename="ledger-export-5.jsonl"'
    exported = tmp_path / "export.jsonl"
    exported.write_bytes(answer.get_data())
    lines = exported.read_bytes().splitlines()
    assert len(lines) == 6 and lines[-1].startswith(b'{"checkpoint"')
    verdict = subprocess.run([sys.executable, Path(verify_export.__file__), str(exported)], capture_output=True, text=True)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    exported.write_bytes(b"\n".join(lines[:2] + lines[3:]) + b"\n")  # an event taken out: caught
    assert subprocess.run([sys.executable, Path(verify_export.__file__), str(exported)], capture_output=True).returncode == 1


def test_the_registry_is_read_at_a_position_even_within_one_instant(client, service):
    office = bearer(service, "office")
    at_two = client.get("/v1/audit/reports?year=2016&position=2", headers=office).get_json()
    rows = {row["region"]: row for row in at_two["regions"]}
    assert at_two["position"] == 2 and at_two["filed"] == 1 and len(rows) == at_two["expected"] == 28
    assert rows["410100"]["status"] == "on_time" and rows["410200"]["status"] == "awaiting"
    now = {row["region"]: row for row in client.get("/v1/reports?year=2016", headers=office).get_json()["regions"]}
    assert now["410200"]["status"] == "on_time"  # filed at the same instant, one position later
    past = client.get("/v1/audit/reports?year=2016&position=99", headers=office)
    assert past.status_code == 409 and past.get_json()["errors"][0]["field"] == "query:position"
    assert client.get("/v1/audit/reports?year=2016&position=2",
                      headers=bearer(service, "region", region="410100")).status_code == 403


def test_the_registry_read_a_few_regions_at_a_time_is_the_whole_registry(client, service):
    office = bearer(service, "office")
    whole = client.get("/v1/reports?year=2016", headers=office).get_json()
    joined, cursor, pages = [], None, 0
    while True:  # ten pages: on PostgreSQL the page's query is prepared (and planned generically) by then
        query = {"year": 2016, "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/reports", query_string=query, headers=office).get_json()
        joined, cursor, pages = joined + page["regions"], page["next"], pages + 1
        assert (page["expected"], page["filed"]) == (28, 4)
        if not cursor:
            break
    assert pages == 10 and joined == whole["regions"] and [r["region"] for r in joined] == sorted(r["region"] for r in joined)
    row = {r["region"]: r for r in joined}["410100"]
    assert (row["status"], row["item_count"], [v["kind"] for v in row["history"]]) == ("on_time", 2, ["filed"])
    assert {r["region"]: r["status"] for r in joined}["410500"] == "awaiting"
    assert all(set(r) <= set(RegistryRow().fields) for r in joined)  # the rows are sent as built, not dumped


def test_the_registry_of_a_large_register_comes_200_regions_a_page_unless_asked_for_more(tmp_path, clock, reference):
    regions = {**reference.regions, **{code: Region(code, f"地区{code}", f"Region {code}", "county")
                                       for code in (f"{900000 + n}" for n in range(250))}}
    settings = Settings.from_env("ledger", env={"ZEROCLEAR_DATA_DIR": str(tmp_path / "data")})
    service = bootstrap(settings, clock=clock, reference=dataclasses.replace(reference, regions=regions))
    try:
        client, office = create_app(service).test_client(), bearer(service, "office")
        first = client.get("/v1/reports?year=2016", headers=office).get_json()
        rest = client.get("/v1/reports", query_string={"year": 2016, "cursor": first["next"]}, headers=office).get_json()
        assert (len(first["regions"]), len(rest["regions"]), rest["next"], first["expected"]) == (200, 78, None, 278)
        whole = client.get("/v1/reports?year=2016&limit=1000", headers=office).get_json()  # as the portal asks
        assert whole["regions"] == first["regions"] + rest["regions"] and whole["next"] is None
    finally:
        service.close()
        service.keys.engine.dispose()


def test_a_log_longer_than_a_chunk_streams_as_the_command_lines_export_byte_for_byte(client, service, monkeypatch):
    """The HTTP export is sent a block of lines at a time (issue 15: few, large writes); however the
    log falls into blocks, the lines and the checkpoint are exactly what ``export()`` writes."""
    from services.ledger.entrypoints import audit_reads
    from services.ledger.export import export

    monkeypatch.setattr(audit_reads, "EXPORT_CHUNK_LINES", 2)  # five events: blocks of 2, 2 and 1
    answer = client.get("/v1/audit/export", headers=bearer(service, "auditor"))
    chunks = list(answer.response)
    assert answer.status_code == 200 and [chunk.count(b"\n") for chunk in chunks] == [2, 2, 1, 1]
    assert all(chunk.endswith(b"\n") for chunk in chunks) and b'"checkpoint"' in chunks[-1]
    written = io.BytesIO()
    export(service.repo, written, service.clock, service.signing_key)
    assert b"".join(chunks) == written.getvalue()
