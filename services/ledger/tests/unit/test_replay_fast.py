"""The fast replays (``replay_fast``) against the reference replay (``reference_replay``): on an
intact log and on every kind of tampering, at every position, they reach the same verdict —
first bad seq, reason, last good count and head — and the same state, or raise the same error."""
from __future__ import annotations

import json
from datetime import timedelta

import msgspec
import orjson
import pytest

from shared import canonical
from shared.clock import format_instant

from services.ledger.domain.log_row import ROW_FIELDS, gc_paused, verify_rows
from services.ledger.audit import AsOf, export_records, replay_records
from services.ledger.domain.chain import GENESIS, event_hash, payload_hash
from services.ledger.domain.events import REPORT_FILED, SUBMISSION_REJECTED, YEAR_OPENED
from services.ledger.domain.records import CapacityItem, ReportRecord
from services.ledger.domain.state import LedgerState
from services.ledger.replay_fast import replay_lines, replay_pairs, replay_rows
from services.ledger.domain.chain import verify

from ..builders import AFTER_DEADLINE, YEARS_LATER, record_in_memory, report_message
from ..reference_replay import outcome, reference_export_records, reference_replay


def mixed_log(reference):
    """~110 events recorded in three steps an hour apart: years opened, forms with 0 to 3 entries,
    zero reports, late reports and rejections."""
    regions = reference.region_codes()
    steps = [
        [report_message(r, 2016, entries=i % 4, zero=i % 4 == 0, at=AFTER_DEADLINE if i % 5 == 0 else YEARS_LATER)
         for i, r in enumerate(regions)],
        [report_message(r, 2017, entries=1 + i % 3) for i, r in enumerate(regions)]
        + [report_message(r, 2016, zero=True) for r in regions[:10]],  # second reports: rejections
        [report_message(r, 2018, entries=i % 2, zero=i % 2 == 0) for i, r in enumerate(regions)],
    ]
    state, sealed = None, []
    for hour, messages in enumerate(steps):
        state, more = record_in_memory(messages, reference, now=YEARS_LATER + timedelta(hours=hour), state=state)
        sealed += more
    assert {s.event.type for s in sealed} == {YEAR_OPENED, REPORT_FILED, SUBMISSION_REJECTED}
    return state, sealed


@pytest.fixture(scope="module")
def log(request):
    from shared.reference import default_reference

    return mixed_log(default_reference())


def export_lines(sealed) -> list[bytes]:
    """The lines ``export()`` writes: the recorded event, its payload as the stored canonical text."""
    lines = [orjson.dumps({**s.event.to_dict(), "payload": orjson.Fragment(s.payload_bytes)}) for s in sealed]
    checkpoint = {"checkpoint": {"count": len(sealed), "head": sealed[-1].event.hash if sealed else GENESIS}}
    return lines + [orjson.dumps(checkpoint)]


def unpacked(replay) -> tuple:
    return replay.state, replay.verdict


def pairs_of(sealed) -> list[tuple[dict, bytes]]:
    out = []
    for s in sealed:
        record = s.event.to_dict()
        del record["payload"]
        out.append((record, s.payload_bytes))
    return out


def rows_of(pairs) -> list[tuple]:
    return [tuple(record[name] for name in ROW_FIELDS[:-1]) + (body,) for record, body in pairs]


# -- tamperings of an export's lines (k: 1-based line) ---------------------------------------
def _edit(lines, k, change):
    record = orjson.loads(lines[k - 1])
    change(record)
    lines[k - 1] = orjson.dumps(record)
    return lines


def edited_payload(lines, k):
    return _edit(lines, k, lambda r: r["payload"].update(signed_by="李四", zz_added="x"))


def edited_field(lines, k):
    return _edit(lines, k, lambda r: r.update(recorded_at="2016-11-01T00:00:00.000000Z"))


def edited_payload_and_field(lines, k):
    """Both hashes fail: the payload's is checked first."""
    return _edit(lines, k, lambda r: r.update(actor="office/someone-else", payload={**r["payload"], "zz": 1}))


def edited_payload_and_its_hash(lines, k):
    """The payload hash made to match: the event hash, which covers it, does not."""
    def change(record):
        record["payload"] = {**record["payload"], "zz": 1}
        record["payload_hash"] = payload_hash(canonical.dumps(record["payload"]))
    return _edit(lines, k, change)


def rehashed_forgery(lines, k):
    def forge(record):
        record["actor"] = "office/forger"
        record["hash"] = event_hash(record)
    return _edit(lines, k, forge)


def deleted(lines, k):
    del lines[k - 1]
    return lines


def swapped(lines, k):
    k = min(k, len(lines) - 2)  # the last event trades places with the one before it
    lines[k - 1], lines[k] = lines[k], lines[k - 1]
    return lines


def swapped_and_renumbered(lines, k):
    k = min(k, len(lines) - 2)
    a, b = orjson.loads(lines[k - 1]), orjson.loads(lines[k])
    a["seq"], b["seq"] = b["seq"], a["seq"]
    lines[k - 1], lines[k] = orjson.dumps(b), orjson.dumps(a)
    return lines


def not_json(lines, k):
    lines[k - 1] = b'{"seq": ' + str(k).encode() + b", oops"
    return lines


def missing_field(lines, k):
    return _edit(lines, k, lambda r: r.pop("actor"))


def seq_as_text(lines, k):
    return _edit(lines, k, lambda r: r.update(seq=str(r["seq"])))


def blank_line(lines, k):
    lines.insert(k - 1, b"")
    return lines


def checkpoint_early(lines, k):
    lines.insert(k - 1, lines[-1])
    return lines


# Rewritten, not tampered with: the same record in another layout verifies as before.
def keys_reversed(lines, k):
    record = orjson.loads(lines[k - 1])
    lines[k - 1] = orjson.dumps(dict(reversed(list(record.items()))))
    return lines


def payload_keys_reversed(lines, k):
    return _edit(lines, k, lambda r: r.update(payload=dict(reversed(list(r["payload"].items())))))


def spaced_out(lines, k):
    lines[k - 1] = json.dumps(orjson.loads(lines[k - 1]), ensure_ascii=False, separators=(", ", ": ")).encode()
    return lines


def crlf(lines, k):
    return [line + b"\r" for line in lines]


TAMPERINGS = [edited_payload, edited_field, edited_payload_and_field, edited_payload_and_its_hash, rehashed_forgery, deleted, swapped, swapped_and_renumbered, not_json,
              missing_field, seq_as_text, blank_line, checkpoint_early, keys_reversed, payload_keys_reversed,
              spaced_out, crlf]


def positions(count: int) -> list[int]:
    return sorted({1, 2, 3, 7, 8, 9, count // 2, count - 1, count})


def test_the_records_keep_their_fields_in_this_order():
    """The records' fields as the projection rows know them (the folds build them by keyword)."""
    assert [f.name for f in msgspec.structs.fields(CapacityItem)] == [
        "enterprise", "uscc", "county", "industry", "equipment", "equipment_count", "capacity", "unit",
        "target_source", "planned_date", "method", "workers_affected", "remarks", "item_id", "region", "year",
        "report_seq", "status", "source", "tip_id", "eliminated_on", "elimination_method", "evidence",
        "workers_resettled", "elimination_seq", "verified_seq", "rejection_reason", "event_seqs"]
    assert [f.name for f in msgspec.structs.fields(ReportRecord)] == [
        "region", "year", "submission_id", "seq", "filed_at", "document_no", "signed_by", "zero_report", "on_time",
        "item_ids", "amended_at", "history"]


def test_an_intact_log_replays_to_the_live_state_whichever_way_it_is_read(log):
    live, sealed = log
    expected = outcome(lambda: reference_replay(pairs_of(sealed)))
    assert expected[1] == live and expected[0]["ok"]
    assert outcome(lambda: replay_pairs(pairs_of(sealed))) == expected
    assert outcome(lambda: replay_rows(rows_of(pairs_of(sealed)))) == expected
    assert outcome(lambda: replay_lines(export_lines(sealed))) == expected
    assert outcome(lambda: unpacked(replay_records(export_records(export_lines(sealed))))) == expected
    assert outcome(lambda: unpacked(replay_records(pairs_of(sealed)))) == expected


def test_an_empty_log_replays_to_the_empty_state():
    empty = outcome(lambda: reference_replay([]))
    assert outcome(lambda: replay_pairs([])) == outcome(lambda: replay_rows([])) == empty
    assert outcome(lambda: replay_lines([orjson.dumps({"checkpoint": {"count": 0, "head": GENESIS}})])) == empty
    assert verify_rows([], 0, GENESIS).to_dict() == {"ok": True, "count": 0, "head": GENESIS}


@pytest.mark.parametrize("tamper", TAMPERINGS)
def test_a_tampered_export_replays_as_the_reference_does_wherever_it_is_tampered_with(log, tamper):
    _, sealed = log
    for k in positions(len(sealed)):
        lines = tamper(export_lines(sealed), k)
        expected = outcome(lambda: reference_replay(reference_export_records(lines)))
        assert outcome(lambda: replay_lines(lines)) == expected, (tamper.__name__, k)


@pytest.mark.parametrize("tamper", [edited_payload, edited_field, edited_payload_and_field, edited_payload_and_its_hash,
                                    rehashed_forgery, deleted, swapped, swapped_and_renumbered, seq_as_text])
def test_tampered_records_replay_and_verify_as_the_reference_does(log, tamper):
    """The same tamperings on stored records (pairs, and database rows)."""
    _, sealed = log
    for k in positions(len(sealed)):
        lines = tamper(export_lines(sealed), k)
        pairs = list(reference_export_records(lines))
        expected = outcome(lambda: reference_replay([(dict(r), b) for r, b in pairs]))
        # (a last event rehashed or deleted is caught only by a checkpoint: verify_rows below)
        assert expected[0]["ok"] is False or (tamper in (rehashed_forgery, deleted) and k == len(sealed))
        assert outcome(lambda: replay_pairs([(dict(r), b) for r, b in pairs])) == expected, (tamper.__name__, k)
        assert outcome(lambda: replay_rows(rows_of(pairs))) == expected, (tamper.__name__, k)
        checkpoint = dict(expected_count=len(sealed), expected_head=sealed[-1].event.hash)
        assert verify_rows(rows_of(pairs), **checkpoint) == verify([(dict(r), b) for r, b in pairs], **checkpoint)


def test_a_replay_stops_where_as_of_says_by_seq_or_by_recording_time(log):
    _, sealed = log
    times = sorted({s.event.recorded_at for s in sealed})
    cuts = [AsOf(seq=n) for n in (0, 1, 5, len(sealed) // 2, len(sealed), len(sealed) + 5)]
    cuts += [AsOf(recorded_at=t) for t in times] + [AsOf(recorded_at=format_instant(YEARS_LATER - timedelta(days=1)))]
    for as_of in cuts:
        expected = outcome(lambda: reference_replay(pairs_of(sealed), as_of))
        assert outcome(lambda: replay_pairs(pairs_of(sealed), as_of)) == expected, as_of
        assert outcome(lambda: replay_rows(rows_of(pairs_of(sealed)), as_of)) == expected, as_of
        assert outcome(lambda: replay_lines(export_lines(sealed), as_of)) == expected, as_of


def test_an_unknown_extra_field_is_ignored_as_the_verifiers_ignore_it(log):
    """The hash covers the header fields only; the verifiers (chain, standalone) ignore any
    other field, and so does the replay now (the first one failed building a RecordedEvent)."""
    _, sealed = log
    lines = _edit(export_lines(sealed), 5, lambda r: r.update(note="added later"))
    plain = outcome(lambda: replay_lines(export_lines(sealed)))
    assert outcome(lambda: replay_lines(lines)) == plain
    assert verify(reference_export_records(lines)).ok


def test_the_export_records_iterator_still_yields_record_and_canonical_payload_pairs(log):
    _, sealed = log
    lines = export_lines(sealed)
    assert [(r, b) for r, b in export_records(lines)] == list(reference_export_records(lines))
    records = export_records(iter(lines))
    first = next(records)
    assert first[0]["seq"] == 1 and records.file_range() is None


def test_garbage_collection_is_paused_during_a_replay_and_restored_after():
    import gc

    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with gc_paused():
                assert not gc.isenabled()
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


def test_the_digest_is_the_hash_of_the_canonical_snapshot(log):
    """``digest()`` hashes the snapshot's canonical text as it goes; it must be exactly
    ``state_digest`` of the snapshot ``dataclasses.asdict`` (``msgspec.structs.asdict`` for the
    items) gives, whatever the records hold."""
    from dataclasses import asdict as dataclass_asdict, is_dataclass

    def asdict(record):
        return dataclass_asdict(record) if is_dataclass(record) else msgspec.structs.asdict(record)

    from services.ledger.domain.chain import state_digest
    from services.ledger.domain.records import PROJECTIONS, YearRecord

    def by_asdict(state):
        return {kind: {write(key): asdict(record) for key, record in sorted(getattr(state, kind).items())}
                for kind, (_, write) in PROJECTIONS.items()}

    live, _ = log
    odd = LedgerState()
    odd.years[9] = YearRecord(9, "x", 'a "quoted"\\ deadline\n', "时区", ["é", "\U0001f600"], 1)
    odd.years[10] = YearRecord(10, "", "", "", [], 2)
    for state in (live, LedgerState(), odd):
        assert state.snapshot() == by_asdict(state)
        assert state.digest() == state_digest(by_asdict(state))
    snapshot = live.snapshot()
    key = next(iter(snapshot["reports"]))
    assert snapshot["reports"][key]["item_ids"] is not live.reports[tuple_key(key)].item_ids


def tuple_key(text: str) -> tuple[str, int]:
    region, year = text.split("/")
    return region, int(year)
