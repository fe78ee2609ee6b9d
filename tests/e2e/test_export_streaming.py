"""The auditor's export downloaded through the portal over HTTP (issue 15), as ``zeroclear run``
serves it: the ledger streams the log a block of lines at a time and the portal passes each block
on as it comes, so a log of many blocks arrives as the command line's export, byte for byte."""
from __future__ import annotations

import io

import pytest

from services.ledger.entrypoints import audit_reads
from services.ledger.export import export
from shared.testing import data
from shared.testing.client import portal_session

from .helpers import recorded

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("backend", ["embedded"])
def test_a_log_of_many_blocks_downloads_through_the_portal_as_the_command_lines_export(system, api, keys,
                                                                                        monkeypatch):
    monkeypatch.setattr(audit_reads, "EXPORT_CHUNK_LINES", 2)
    for region in ("410100", "410200", "410300", "410400"):  # five events with the genesis
        clerk = api.as_key(keys("region", region=region))
        recorded(clerk, clerk.file_report(data.report(region, entries=2)))
    ledger = system.services["ledger"]
    head = ledger.repo.head()[0]
    system.services["portal"].handlers.add_user("audit", PASSWORD, "auditor")
    auditor = portal_session(system.urls["portal"], "audit", PASSWORD)

    with auditor.get(system.urls["portal"] + "/audit/export.jsonl", stream=True) as answer:
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/x-ndjson")
        assert answer.headers["Content-Disposition"] == f'attachment; filename="ledger-export-{head}.jsonl"'
        chunks = list(answer.raw.read_chunked(decode_content=False))  # the chunks as the portal sent them
    # the ledger's blocks of two lines, then the last event's (if odd) and the checkpoint, each whole
    assert [chunk.count(b"\n") for chunk in chunks] == [2] * (head // 2) + [1] * (head % 2) + [1]
    assert head > 2 * audit_reads.EXPORT_CHUNK_LINES and b'"checkpoint"' in chunks[-1]
    written = io.BytesIO()
    export(ledger.repo, written, ledger.clock, ledger.signing_key)
    assert b"".join(chunks) == written.getvalue()
