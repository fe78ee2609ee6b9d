"""The synthetic national campaign the reads benches build through the ledger's real writer: ten
years of the register of ``national_register`` (2,850 county-level regions in 31 provinces, codes
beginning with 9, shipped with the bench, not the product), filed year by year."""
from __future__ import annotations

import dataclasses
import json
import random
import shutil
import time
from datetime import date, datetime, timezone
from pathlib import Path

import _common as c

from shared.messages import intake, notify

REGISTER = Path(__file__).with_name("national_register")
YEARS = tuple(range(2016, 2026))
INDUSTRIES = ("炼钢", "炼铁", "焦炭", "水泥")  # all in 万吨, as the template's capacity is


def national_reference():
    from shared.reference import Region, default_reference

    doc = json.loads((REGISTER / "regions.json").read_text(encoding="utf-8"))
    regions = {r["code"]: Region(r["code"], r["name"], r["name_en"], r["kind"]) for r in doc["regions"]}
    return dataclasses.replace(default_reference(), regions=regions)


# -- building the campaign ------------------------------------------------------------------------
class Campaign:
    """Files a national campaign into a ledger through its writer, year by year."""

    def __init__(self, writer, clock, reference, *, entries: int, tips: int, alerts: int, batch: int):
        self.writer, self.clock, self.reference = writer, clock, reference
        self.entries, self.tips, self.alerts, self.batch = entries, tips, alerts, batch
        self.regions = reference.region_codes()
        self.rng = random.Random(2016)
        self.count = 0

    def record(self, messages: list) -> list:
        recorded = []
        for start in range(0, len(messages), self.batch):
            recorded.extend(self.writer.record(messages[start:start + self.batch]))
        self.count += len(recorded)
        return recorded

    def at(self, year: int, month: int, day: int) -> datetime:
        self.clock.set(datetime(year, month, day, 2, tzinfo=timezone.utc))
        return self.clock.now()

    def year(self, year: int) -> None:
        items = self.reports(year)
        self.at(year, 12, 20)
        eliminated = self.rng.sample(items, int(len(items) * 0.9))
        self.record([_elimination(item, year) for item in eliminated])
        verdicts = [(item, "rejected" if self.rng.random() < 0.05 else "verified") for item in eliminated]
        self.record([_decision(item, verdict) for item, verdict in verdicts])
        again = [item for item, verdict in verdicts if verdict == "rejected"]
        self.record([_elimination(item, year) for item in again] + [_decision(item, "verified") for item in again])
        self.tips_and_lists(year)
        self.record([_alert(self.rng.choice(self.regions), year, n) for n in range(self.alerts)])

    def reports(self, year: int) -> list[str]:
        from services.intake.domain.submissions import report_submission
        from shared.testing.data import make_uscc

        self.at(year, 11, 10)
        template = c.validated_body("410100", 2016, self.entries)
        planned = date(year + 1, 6, 30)
        messages = []
        for number, region in enumerate(self.regions):
            entries = [dict(entry, uscc=make_uscc(year * 10**7 + number * 100 + n, region), planned_date=planned,
                            industry=INDUSTRIES[n % len(INDUSTRIES)]) for n, entry in enumerate(template["entries"])]
            body = dict(template, region=region, year=year, document_no=f"政文〔{year}〕{region[-3:]}号", entries=entries)
            messages.append(report_submission(_id(), body, actor=f"region/{region}/kbench", key_id="kbench",
                                              now=self.clock.now()).message)
        reports = [e for e in self.record(messages) if e.type == intake.REPORT_FILED]
        return [f"{e.region}-{year}-{e.seq}-{n}" for e in reports for n in range(1, self.entries + 1)]

    def tips_and_lists(self, year: int) -> None:
        self.at(year, 12, 1)
        tips = [_tip(self.rng.choice(self.regions), year * 10**7 + n) for n in range(self.tips)]
        self.record(tips)
        self.at(year, 12, 10)
        resolved = [t for t in tips if self.rng.random() < 0.9]
        self.record([_resolution(t) for t in resolved])
        by_province: dict[str, list[str]] = {}
        for region in self.regions:
            by_province.setdefault(region[:3], []).append(region)
        self.record([_department_list(regions, year) for regions in by_province.values()])


def _id() -> str:
    import uuid

    return str(uuid.uuid4())


def _message(kind: str, payload: dict, actor: str):
    from shared.clock import format_instant
    from shared.envelope import Envelope

    message_id = payload.get("submission_id") or _id()
    return Envelope(message_id, kind, format_instant(datetime.now(timezone.utc)), actor, message_id, None,
                    {"submission_id": message_id, **payload})


def _elimination(item_id: str, year: int):
    region = item_id.split("-", 1)[0]
    return _message(intake.ELIMINATION_REPORTED, {
        "region": region, "item_id": item_id, "eliminated_on": f"{year}-12-{random.randint(1, 19):02d}",
        "method": "拆除", "evidence": "拆除现场照片、验收记录", "workers_resettled": 100}, f"region/{region}/kbench")


def _decision(item_id: str, decision: str):
    return _message(intake.ELIMINATION_DECIDED, {
        "item_id": item_id, "decision": decision, "reason": "设备未拆除" if decision == "rejected" else ""}, "office/kbench")


def _tip(region: str, n: int):
    from shared.testing.data import make_uscc

    return _message(intake.TIP_FILED, {"region": region, "enterprise": f"某钢铁厂{n}", "uscc": make_uscc(n, region),
                                            "location": "某村", "description": "夜间偷偷生产"}, "public")


def _resolution(tip):
    return _message(intake.TIP_RESOLVED, {
        "tip_id": tip.id, "resolution": "unfounded", "explanation": "经核查，该企业已停产。", "duplicate_of": None,
        "entry": None}, f"region/{tip.payload['region']}/kbench")


def _department_list(regions: list[str], year: int):
    from shared.testing.data import make_uscc

    entries = [{"enterprise": f"某焦化厂{i}", "uscc": make_uscc(year * 10**7 + i, region), "region": region, "industry": "焦炭",
                "basis": "emissions", "detail": "超标排放"} for i, region in enumerate(regions[:20])]
    return _message(intake.DEPARTMENT_LIST_FILED, {"department": "environment", "year": year,
                                                         "entries": entries}, "department/environment/kbench")


def _alert(region: str, year: int, n: int):
    return _message(notify.ALERT_ISSUED, {
        "subject": f"report/{region}/{year}-{n}", "rule": "report_missing", "level": 1, "region": region,
        "recipient": f"region:{region}", "deadline": f"{year}-12-15T15:59:59.999999Z", "late_days": 1,
        "case": "逾期未报送", "case_en": "overdue", "reason": "未按期报送", "reason_en": "missing"}, "system/notify")


def build(database_url: str, args) -> dict:
    from services.ledger.bootstrap import bootstrap
    from shared.clock import SettableClock
    from shared.keys import migrate_keys

    reference = national_reference()
    clock = SettableClock(datetime(2016, 11, 1, tzinfo=timezone.utc))
    settings = c.ledger_settings(database_url)
    migrate_keys(database_url)
    service = bootstrap(settings, clock=clock, reference=reference)
    entries = max(1, round(args.items / len(reference.regions) / len(YEARS)))
    per_year = max(0, args.events // len(YEARS) - len(reference.regions) * (1 + entries * 2))
    campaign = Campaign(service.writer, clock, reference, entries=entries, tips=per_year // 8,
                        alerts=per_year - 2 * (per_year // 8), batch=args.batch)
    started = time.perf_counter()
    for year in YEARS:
        campaign.year(year)
        print(f"  {year}: {campaign.count:,} events, {time.perf_counter() - started:,.0f} s", flush=True)
    seconds = time.perf_counter() - started
    snapshot_seconds = take_snapshot(service.repo.engine)
    service.close()
    return {"events": campaign.count, "seconds": seconds, "entries_per_report": entries,
            "snapshot_seconds": snapshot_seconds}


def take_snapshot(engine) -> float:
    """A snapshot of the projections at the head, as the ledger's worker would have taken one
    every 100,000 events of the ten years: without it, a worker started on the built ledger spends
    its first half-minute digesting every projection row (and the filing measured with it)."""
    from services.ledger import snapshots

    started = time.perf_counter()
    snapshots.take(engine)
    return time.perf_counter() - started


def reference_dir(data_dir: Path) -> Path:
    """The national register beside the product's other reference files, for the served ledger."""
    from shared.reference import DATA_DIR

    folder = data_dir / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("industries.json", "target_sources.json", "calendar.json"):
        shutil.copy(DATA_DIR / name, folder / name)
    shutil.copy(REGISTER / "regions.json", folder / "regions.json")
    return folder


def copy_journal(ledger_url: str, url: str, migrations: Path, version_table: str, table) -> int:
    """The ledger's events into a service's journal (``table`` in ``url``, brought to the service's
    schema first), in order, as its follower keeps them; the last position copied."""
    from services.ledger.adapters.repository import LedgerRepository
    from shared.db import make_engine, migrate, write_tx
    from shared.journal import EventJournal

    migrate(url, migrations, version_table)
    ledger, target = make_engine(ledger_url, pool_size=1), make_engine(url, pool_size=1)
    source, journal = LedgerRepository(ledger), EventJournal(target, table)
    after = 0
    while True:
        events = source.read(after, 5000)
        if not events:
            break
        with write_tx(target) as conn:
            journal.append(conn, events)
        after = events[-1].seq
    ledger.dispose()
    target.dispose()
    return after
