"""Circulars (通报) end to end (SPEC §7): issued on demand and on the monthly schedule, pinned to a
ledger position; JSON, HTML and a Chinese PDF with the font embedded, the same bytes every time
for the same position, their hashes on the ledger; each shows what changed since the previous one.
Both backends."""
from __future__ import annotations

import hashlib
import io
import json
import time

import pytest
from pypdf import PdfReader

from shared.testing import data

from .helpers import at, cli, cli_json, notify_caught_up as caught_up, recorded

pytestmark = pytest.mark.e2e

ZZ, KF = "410100", "410200"








def on_ledger(office, circular_id: str) -> dict:
    deadline = time.monotonic() + 20
    while True:
        events = office.get("ledger", "/v1/events", params={"limit": 1000}).json()["events"]
        found = [e for e in events if e["type"] == "notify.circular_issued.v1" and e["payload"]["circular_id"] == circular_id]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.05)


def test_circulars_are_pinned_reproducible_and_on_the_ledger(system, api, keys, clock):
    office = api.as_key(keys("office"))
    zz, kf = api.as_key(keys("region", region=ZZ)), api.as_key(keys("region", region=KF))
    auditor = api.as_key(keys("auditor"))
    recorded(zz, zz.file_report(data.report(ZZ, entries=2)))
    recorded(kf, kf.file_report(data.report(KF, zero=True)))
    position = caught_up(api, office)

    issued = office.post("notify", "/v1/circulars", json={"year": 2016})
    assert issued.status_code == 201, issued.text
    first = issued.json()
    assert (first["position"], first["number"]) == (position, 1) and first["pdf_sha256"]
    again = office.post("notify", "/v1/circulars", json={"year": 2016, "position": position})
    assert again.status_code == 200 and again.json()["circular_id"] == first["circular_id"]

    documents = {}
    for fmt in ("json", "html", "pdf"):
        answers = [auditor.get("notify", f"/v1/circulars/{first['circular_id']}.{fmt}") for _ in range(2)]
        assert all(a.status_code == 200 for a in answers), answers[0].text
        assert answers[0].content == answers[1].content  # the same bytes every time
        assert hashlib.sha256(answers[0].content).hexdigest() == first[f"{fmt}_sha256"]
        documents[fmt] = answers[0].content
    event = on_ledger(office, first["circular_id"])
    assert {f: event["payload"][f"{f}_sha256"] for f in ("json", "html", "pdf")} == \
        {f: first[f"{f}_sha256"] for f in ("json", "html", "pdf")}
    assert event["payload"]["position"] == position

    # Ranked by the SPEC §6 totals the assessment gives for the same position, and saying so.
    content = json.loads(documents["json"])
    assessed = office.get("assessment", "/v1/assessments/2016", params={"as_of": position}).json()
    assert content["ranking"] == {"position": position, "cut_off": assessed["cut_off"], "digest": assessed["digest"],
                                  "draft": assessed["draft"]}
    assert {r["region"]: (r["rank"], r["total"], r["grade"]) for r in content["regions"]} == \
        {r["region"]: (r["rank"], r["total"], r["grade"]) for r in assessed["regions"]}
    assert [r["rank"] for r in content["regions"]] == sorted(r["rank"] for r in content["regions"])
    assert content["previous"] is None and len(content["regions"]) == 28
    assert "排名依据：考核总分（SPEC §6" in documents["html"].decode() and "本期为2016年度第一期通报" in documents["html"].decode()

    pdf = PdfReader(io.BytesIO(documents["pdf"]))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "郑州市" in text and "开封市" in text and "25" in text  # 2 lines of 12.5 万吨 registered
    fonts = [f for page in pdf.pages for f in page["/Resources"]["/Font"].values()]
    assert fonts and all("+" in str(f.get_object()["/BaseFont"]) for f in fonts)  # embedded subsets
    html = documents["html"].decode("utf-8")
    assert "郑州市" in html and "<svg" in html and f"第{position}条" in html

    # A verification later: the next circular says what changed since the first.
    item_id = office.get("ledger", "/v1/items", params={"region": ZZ}).json()["items"][0]["item_id"]
    recorded(zz, zz.post("intake", "/v1/eliminations", json={"item_id": item_id, "eliminated_on": "2016-11-01",
                                                             "method": "拆除", "evidence": "照片", "workers_resettled": 1}))
    recorded(office, office.post("intake", "/v1/verifications", json={"item_id": item_id, "decision": "verified"}))
    caught_up(api, office)
    second = office.post("notify", "/v1/circulars", json={"year": 2016}).json()
    content = auditor.get("notify", f"/v1/circulars/{second['circular_id']}.json").json()
    assert content["number"] == 2 and {"region": ZZ, "what": "炼钢已验收：0→12.5万吨"} in content["changes"]
    assert office.post("notify", "/v1/circulars", json={"year": 2016, "position": position - 1}).status_code == 409

    # The monthly circular: on the 1st, for the month just ended, once.
    clock.set(at("2016-12-01T02:00:00"))
    run = office.post("notify", "/v1/schedule/run")
    assert run.status_code == 200, run.text
    monthly = run.json()["circular"]
    assert monthly is not None and (monthly["period"], monthly["number"], monthly["kind"]) == ("2016-11", 3, "monthly")
    assert office.post("notify", "/v1/schedule/run").json()["circular"] is None
    listed = auditor.get("notify", "/v1/circulars", params={"year": 2016}).json()["circulars"]
    assert [c["number"] for c in listed] == [1, 2, 3]
    assert api.get("ledger", "/v1/verify").json()["ok"] is True



def test_an_operator_issues_a_circular_from_the_command_line(system, api, keys, tmp_path):
    """``zeroclear circular issue`` (SPEC §8) asks the running notify service with an office key:
    the same circular as the API gives, issued once, its documents saved and checked against the
    hashes on the ledger; a reader's key, a bad year or no service are clear errors."""
    office_key = keys("office")
    office = api.as_key(office_key)
    zz = api.as_key(keys("region", region=ZZ))
    recorded(zz, zz.file_report(data.report(ZZ, entries=2)))
    position = caught_up(api, office)
    env = {"ZEROCLEAR_NOTIFY_URL": system.urls["notify"], "ZEROCLEAR_KEY": office_key}

    issued = cli_json(env, "circular", "issue", "--year", "2016", "--save", str(tmp_path / "out"))
    assert (issued["new"], issued["position"], issued["year"]) == (True, position, 2016)
    for fmt in ("json", "html", "pdf"):
        saved = tmp_path / "out" / f"circular-{issued['circular_id']}.{fmt}"
        assert issued["saved"][fmt] == str(saved)
        assert hashlib.sha256(saved.read_bytes()).hexdigest() == issued[f"{fmt}_sha256"]
    recorded_event = on_ledger(office, issued["circular_id"])
    assert recorded_event["payload"]["pdf_sha256"] == issued["pdf_sha256"]
    assert issued["seq"] == recorded_event["seq"]  # printed once recorded, not null

    again = cli_json(env, "circular", "issue", "--year", "2016", "--position", str(position))
    assert again["new"] is False and again["circular_id"] == issued["circular_id"]
    assert [c["circular_id"] for c in office.get("notify", "/v1/circulars").json()["circulars"]] == [issued["circular_id"]]

    refusals = {
        ("--year", "2016", "--key", keys("auditor")): "notify answered 403: an auditor key cannot do this",
        ("--year", "1999"): "notify answered 422",
        ("--year", "2016", "--position", str(position + 1000)): "notify answered 409",
    }
    for args, message in refusals.items():
        refused = cli(env, "circular", "issue", *args, check=False)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
    gone = cli({**env, "ZEROCLEAR_NOTIFY_URL": "http://127.0.0.1:9"}, "circular", "issue", "--year", "2016", check=False)
    assert gone.returncode == 1 and "notify is not reachable at http://127.0.0.1:9" in gone.stderr


def test_a_circular_outside_what_the_business_allows_is_a_4xx_naming_the_field(system, api, keys):
    """Years from the campaign's first to the current business year (the clock stands in 2016),
    positions up to what notify has followed, months of the circular's campaign up to today."""
    office = api.as_key(keys("office"))
    zz = api.as_key(keys("region", region=ZZ))
    recorded(zz, zz.file_report(data.report(ZZ)))
    head = caught_up(api, office)
    refused = {
        (("year", 2500),): (422, "year"), (("year", 2015),): (422, "year"), (("year", 2017),): (422, "year"),
        (("year", True),): (422, "year"), (("year", "2016"),): (422, "year"),
        (("year", 2016), ("position", 0)): (422, "position"), (("year", 2016), ("position", -1)): (422, "position"),
        (("year", 2016), ("position", 2 ** 63)): (422, "position"),
        (("year", 2016), ("position", head + 1)): (409, "position"),
        (("year", 2016), ("period", "2016-13")): (422, "period"),
        (("year", 2016), ("period", "2017-01")): (422, "period"),  # a month still to come
        (("year", 2016), ("period", "2015-12")): (422, "period"),  # before the circular's year
    }
    for body, (status, field) in refused.items():
        answer = office.post("notify", "/v1/circulars", json=dict(body))
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert [e["field"] for e in answer.json()["errors"]] == [field], (body, answer.text)
    for query in ({"year": "2500"}, {"year": "2015"}, {"year": "99999999999999999999"}):
        answer = office.get("notify", "/v1/circulars", params=query)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "query:year", answer.text
    assert office.get("notify", "/v1/circulars").json()["circulars"] == []  # nothing issued by any of them
    unknown = office.post("notify", "/v1/deliveries/no-such-delivery/redrive")
    assert unknown.status_code == 404, unknown.text


def test_no_circular_is_issued_while_the_assessment_cannot_give_the_scores_of_its_position(tmp_path, clock, reference):
    """The ranking is the assessment's as of the circular's own position: while the assessment is
    out of reach, an on-demand circular is a 503 with Retry-After and the monthly one waits for the
    scheduler's next wake-up — never a circular with other figures."""
    from shared.testing.client import Api
    from shared.testing.plugin import system_on
    from shared.testing.proxy import TcpProxy

    with TcpProxy(("127.0.0.1", 9)) as proxy, system_on(
            "embedded", tmp_path, clock=clock, reference=reference,
            env={"ZEROCLEAR_NOTIFY_ASSESSMENT_URL": f"http://127.0.0.1:{proxy.port}"}) as running:
        proxy.target = ("127.0.0.1", int(running.urls["assessment"].rsplit(":", 1)[1]))
        api = Api(running.urls)
        office = api.as_key(running.keys.create("office")[0])
        zz = api.as_key(running.keys.create("region", region=ZZ)[0])
        recorded(zz, zz.file_report(data.report(ZZ)))
        caught_up(api, office)
        proxy.cut()
        refused = office.post("notify", "/v1/circulars", json={"year": 2016})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5", refused.text
        assert "not reachable" in refused.json()["detail"]
        clock.set(at("2016-12-01T02:00:00"))
        assert office.post("notify", "/v1/schedule/run").json()["circular"] is None  # not yet: no scores
        assert office.get("notify", "/v1/circulars").json()["circulars"] == []

        proxy.restore()
        monthly = office.post("notify", "/v1/schedule/run").json()["circular"]  # the next wake-up
        assert monthly is not None and monthly["period"] == "2016-11"
        issued = office.post("notify", "/v1/circulars", json={"year": 2016})
        assert issued.status_code in (200, 201), issued.text


def test_a_circular_of_an_earlier_layout_keeps_its_json_and_says_why_it_is_not_rendered(system, api, keys):
    """Documents are rendered again from the stored content; content stored by an earlier version
    of notify (here: without the grades the ranking now carries) is not rendered in today's layout
    but answered 410 saying why, while its JSON — the bytes hashed on the ledger — is served as is."""
    import sqlalchemy as sa

    from services.notify.adapters.tables import circulars

    office = api.as_key(keys("office"))
    zz = api.as_key(keys("region", region=ZZ))
    recorded(zz, zz.file_report(data.report(ZZ)))
    caught_up(api, office)
    issued = office.post("notify", "/v1/circulars", json={"year": 2016}).json()
    earlier = json.loads(office.get("notify", f"/v1/circulars/{issued['circular_id']}.json").content)
    for region in earlier["regions"]:
        del region["grade"], region["draft"]
    stored = json.dumps(earlier, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with system.services["notify"].repo.engine.begin() as conn:
        conn.execute(sa.update(circulars).where(circulars.c.circular_id == issued["circular_id"]).values(content=stored))

    for fmt in ("html", "pdf"):
        answer = office.get("notify", f"/v1/circulars/{issued['circular_id']}.{fmt}")
        assert answer.status_code == 410 and "earlier version" in answer.json()["detail"], answer.text
    kept = office.get("notify", f"/v1/circulars/{issued['circular_id']}.json")
    assert kept.status_code == 200 and kept.content == stored.encode()
