"""The office's and the auditors' pages of the portal in a real browser (Debian's chromium), through
the whole system: regions file and report eliminations and a citizen reports (over the APIs, as
the region pages' own tests do it in the browser); the office reads the province's dashboard and
its map (coloured by a measure picked with JavaScript off), opens a region from its tile, works the
verification queue (a rejection needs a reason) and the tips; an auditor verifies the chain,
browses and opens events, downloads the export (which the offline verifier accepts) and checks a
tip's acknowledgement. Role checks and CSRF; every page passes the accessibility check."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from services.ledger import verify_export
from shared.clock import SettableClock
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import CAMPAIGN_START, system_on

from .helpers import at, recorded
from .portal_browser import DESK, accessible, csrf_of, launch, new_context, screenshot_folder, shoot, submission_seq
from .test_portal_journeys import PASSWORD, nav, sign_in

pytestmark = pytest.mark.e2e


#: Deliveries give up quickly, and the agency's webhook may be on loopback (where nothing listens).
NOTIFY_ENV = {"ZEROCLEAR_NOTIFY_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8", "ZEROCLEAR_NOTIFY_DELIVERY_RETRY_MS": "50",
              "ZEROCLEAR_NOTIFY_DELIVERY_ATTEMPTS": "2", "ZEROCLEAR_NOTIFY_CIRCULAR_DAY": "0"}


@pytest.fixture(scope="module")
def business_clock():
    return SettableClock(CAMPAIGN_START)


@pytest.fixture(scope="module")
def running(tmp_path_factory, reference, business_clock):
    with system_on("embedded", tmp_path_factory.mktemp("portal-office"), clock=business_clock,
                   reference=reference, env=NOTIFY_ENV) as running:
        handlers = running.services["portal"].handlers
        handlers.add_user("office", PASSWORD, "office", display_name="省淘汰办 刘七")
        handlers.add_user("audit", PASSWORD, "auditor", display_name="省纪委 陈八")
        handlers.add_user("zz", PASSWORD, "region", region="410100")
        yield running


@pytest.fixture(scope="module")
def campaign(running):
    """郑州 files two lines and reports both eliminated, 开封 a zero report, a citizen reports 洛阳."""
    zhengzhou = Api(running.urls, running.keys.create("region", region="410100")[0])
    kaifeng = Api(running.urls, running.keys.create("region", region="410200")[0])
    first = recorded(zhengzhou, zhengzhou.file_report(data.report("410100", entries=2)))
    recorded(kaifeng, kaifeng.file_report(data.report("410200", zero=True)))
    items = zhengzhou.get("ledger", "/v1/items", params={"region": "410100"}).json()["items"]
    for n, item in enumerate(items):
        recorded(zhengzhou, zhengzhou.post("intake", "/v1/eliminations", json={
            "item_id": item["item_id"], "eliminated_on": "2016-10-30", "method": "拆除",
            "evidence": f"拆除现场照片{n + 1}", "workers_resettled": 100}))
    tip = Api(running.urls).post("intake", "/v1/tips", json={
        "region": "410300", "enterprise": "偃师市某水泥厂", "location": "偃师市某镇", "description": "立窑仍在生产"})
    assert tip.status_code == 201, tip.text
    return {"items": items, "acknowledgement": tip.json()["acknowledgement"], "first_report": first["seq"]}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return screenshot_folder(tmp_path_factory)


@pytest.fixture
def person(browser, running):
    contexts = []

    def make(name: str, javascript: bool = True):
        context = new_context(browser, running.urls["portal"], viewport=DESK, javascript=javascript)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, name)
        return page
    yield make
    for context in contexts:
        assert context.elsewhere == []
        context.close()


def test_the_office_reads_the_province_and_its_map_without_javascript(person, campaign, shots):
    page = person("office", javascript=False)  # the map and its measure work without JavaScript
    checker = person("office")  # axe runs as a script: the same pages in a browser with JavaScript

    def accessible_too(url: str) -> None:
        checker.goto(url)
        accessible(checker)
    assert page.url.endswith("/office/")
    main = page.locator("main")
    assert "全省 2016 年淘汰落后产能工作" in main.inner_text()
    row = page.locator("tr", has=page.get_by_role("link", name="郑州市", exact=True))
    assert "按时报送" in row.inner_text()
    assert "（零报告）" in page.locator("tr", has=page.get_by_role("link", name="开封市", exact=True)).inner_text()
    industries = page.locator("section", has=page.get_by_role("heading", name="2016 年到期淘汰产能（分行业，各按其计量单位）"))
    steel = industries.locator("tbody tr", has_text="炼钢").locator("td")
    assert [steel.nth(i).inner_text() for i in range(3)] == ["万吨", "2", "25"]  # 郑州's two lines of 12.5 万吨
    expect(page.locator("svg.tilemap a")).to_have_count(28)
    assert figures(page, "郑州市") == ("0", "0") and figures(page, "洛阳市") == ("0", "1")  # (overdue, tips open)
    tips = re.sub(r"\s+", "", main.locator("li", has_text="件举报待核查").inner_text())
    assert tips.startswith("1件举报待核查，其中0件已超期"), tips
    accessible_too(page.url)
    shoot(page, "office-dashboard-1280", shots)

    page.get_by_label("地图着色依据").select_option("tips")
    page.get_by_role("button", name="查看").click()
    assert "measure=tips" in page.url and "地图：待核查举报" in main.inner_text()
    assert page.locator('svg.tilemap a[aria-label^="洛阳市"]').get_attribute("class") == "tile band-fair"
    assert "1 至 2" in page.locator(".legend").inner_text()

    at = str(campaign["first_report"])  # 郑州 has filed, 开封 not yet
    page.get_by_label("台账位置（留空为当前）").fill(at)
    page.get_by_role("button", name="查看").click()
    assert f"按台账第 {at} 条时的状态" in main.inner_text()
    assert "按时报送" in page.locator("tr", has=page.get_by_role("link", name="郑州市", exact=True)).inner_text()
    assert "尚未报送" in page.locator("tr", has=page.get_by_role("link", name="开封市", exact=True)).inner_text()
    assert figures(page, "洛阳市") == ("0", "0")  # the citizen had not reported 洛阳 yet
    page.get_by_label("台账位置（留空为当前）").fill("99999")
    page.get_by_role("button", name="查看").click()
    assert "台账尚无第 99999 条" in page.locator(".error-summary").inner_text()

    page.goto("/office/?measure=report")
    page.locator('svg.tilemap a[aria-label^="郑州市"]').click()
    assert "郑州市" in page.get_by_role("heading", level=1).inner_text()
    assert "考核评分" in main.inner_text() and "总分" in main.inner_text()
    counts = main.locator("ul.counts").inner_text()
    assert "逾期: 0" in counts and "已淘汰待验收: 2" in counts and "已验收: 0" in counts, counts
    accessible_too(page.url)


def figures(page, region: str) -> tuple[str, str]:
    """A region's row of the dashboard: its overdue items and its open tips, as shown."""
    cells = page.locator("tr", has=page.get_by_role("link", name=region, exact=True)).locator("td")
    return cells.nth(2).inner_text(), cells.nth(3).inner_text()


def test_the_office_verifies_one_elimination_and_rejects_another_with_a_reason(person, running, campaign, shots):
    page = person("office")
    nav(page, "检查验收")
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(2)
    first, second = (rows.nth(i).locator("td").nth(2).inner_text() for i in range(2))
    assert "拆除现场照片1" in rows.nth(0).inner_text()  # the longest-waiting first, with its evidence
    accessible(page)
    shoot(page, "office-verification-1280", shots)

    page.get_by_role("link", name=first).click()
    page.get_by_label("不通过", exact=True).check()
    page.get_by_role("button", name="提交验收结论").click()
    assert "不予通过须说明理由" in page.locator(".error-summary").inner_text()  # intake's word, beside the field
    accessible(page)
    page.get_by_label("理由（不通过时必填）").fill("现场设备未拆除")
    page.get_by_role("button", name="提交验收结论").click()
    seq = submission_seq(page)

    nav(page, "检查验收")
    page.get_by_role("link", name=second).click()
    page.get_by_label("通过：确认已淘汰").check()
    page.get_by_role("button", name="提交验收结论").click()
    submission_seq(page)
    nav(page, "检查验收")
    assert "无。" in page.locator("main").inner_text()

    auditor = Api(running.urls, running.keys.create("auditor")[0])
    [event] = auditor.get("ledger", "/v1/events", params={"after": seq - 1, "limit": 1}).json()["events"]
    assert event["type"] == "intake.elimination_decided.v1" and event["payload"]["decision"] == "rejected"
    assert event["payload"]["reason"] == "现场设备未拆除" and event["actor"].endswith("/user:office")

    nav(page, "举报管理")
    assert "偃师市某水泥厂" in page.locator("main").inner_text()
    accessible(page)
    page.get_by_role("link", name="偃师市某水泥厂").click()  # triage: the office resolves it itself
    assert "洛阳市" in page.locator("main dl").inner_text()
    page.get_by_label("不属实").check()
    page.get_by_label("处理情况说明（将公开）").fill("经省办核查，该厂立窑已于2015年拆除")
    accessible(page)
    page.get_by_role("button", name="提交办理结果").click()
    resolved = submission_seq(page)
    [event] = auditor.get("ledger", "/v1/events", params={"after": resolved - 1, "limit": 1}).json()["events"]
    assert event["type"] == "intake.tip_resolved.v1" and event["actor"].endswith("/user:office")
    nav(page, "举报管理")
    assert "偃师市某水泥厂" not in page.locator("main").inner_text()  # no longer awaiting resolution


def test_an_auditor_verifies_the_chain_browses_events_exports_and_checks_an_acknowledgement(
        person, campaign, shots, tmp_path):
    page = person("audit")
    assert page.url.endswith("/audit/")
    page.get_by_role("button", name="立即校验整条链").click()
    assert "哈希链完整" in page.locator("main").inner_text()
    accessible(page)
    shoot(page, "auditor-chain-1280", shots)

    nav(page, "事件浏览")
    page.get_by_label("地区").select_option("410100")
    page.get_by_label("事件类型").fill("intake.report_filed.v1")
    page.get_by_role("button", name="查看").click()
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(1)
    assert "intake.report_filed.v1" in rows.inner_text()
    accessible(page)
    rows.get_by_role("link").click()
    main = page.locator("main").inner_text()
    assert "第" in page.get_by_role("heading", level=1).inner_text() and "河南省第1钢铁有限公司" in main
    assert "其哈希即本事件的前一哈希" in main
    accessible(page)
    shoot(page, "auditor-event-1280", shots)

    nav(page, "导出")
    assert "python3 verify_export.py ledger-export.jsonl" in page.locator("main").inner_text()
    accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载导出文件").click()
    exported = tmp_path / "ledger-export.jsonl"
    download.value.save_as(exported)
    verdict = subprocess.run([sys.executable, Path(verify_export.__file__), str(exported)], capture_output=True,
                             text=True)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr

    nav(page, "时点回放")
    page.get_by_label("起始位置或日期").fill("1")
    page.get_by_label("截止位置或日期").fill("99999")
    page.get_by_role("button", name="比较").click()
    assert "请输入 1 至" in page.locator(".error-summary").inner_text()
    page.get_by_label("截止位置或日期").fill("2016-11-01")  # the end of that business day: the whole log so far
    page.get_by_role("button", name="比较").click()
    assert page.get_by_label("截止位置或日期").input_value().isdigit() and "状态摘要" in page.locator("main table").inner_text()
    page.get_by_label("截止位置或日期").fill(str(campaign["first_report"]))
    page.get_by_role("button", name="比较").click()
    table = page.locator("main table").inner_text()
    assert "状态摘要" in table and "不同" in table and "+2" in table  # 郑州's two lines registered
    expect(page.locator("main ol li")).to_have_count(campaign["first_report"] - 1)
    accessible(page)

    nav(page, "回执核验")
    ack = campaign["acknowledgement"]
    page.get_by_label("回执内容（下载文件的全文）").fill(json.dumps(ack, ensure_ascii=False))
    page.get_by_role("button", name="核验").click()
    result = page.locator("main").inner_text()
    assert "签名：有效" in result and f"第 {ack['ack']['seq']} 条事件的哈希与回执一致" in result
    accessible(page)
    forged = {**ack, "ack": {**ack["ack"], "hash": "0" * 64}}
    page.get_by_label("回执内容（下载文件的全文）").fill(json.dumps(forged))
    page.get_by_role("button", name="核验").click()
    assert "签名：无效" in page.locator("main").inner_text() and "哈希与回执不一致" in page.locator("main").inner_text()


def test_an_auditor_watches_the_walk_of_the_chain_move_on_and_picks_a_time_to_compare(person, running, campaign):
    page = person("audit", javascript=False)  # the walk moves on by a meta refresh: no script needed
    step = page.context.request.get("/audit/verify?step=3")  # one page of the walk, as the browser gets it
    assert step.status == 200 and "已校验事件：3 /" in step.text() and 'http-equiv="refresh"' in step.text()
    page.goto("/audit/verify?step=3")
    expect(page.locator("main")).to_contain_text("哈希链完整")
    on_log, checked = (page.locator(f"main {where} dd").first.inner_text() for where in ("> dl", ".panel dl"))
    assert checked == on_log and int(checked) > 3  # every event walked, a few a page

    checker = person("audit")  # axe runs as a script; the next page of the walk answers 204, so it stays
    checker.route(re.compile(r"/audit/verify\?after="), lambda route: route.fulfill(status=204))
    checker.goto("/audit/verify?step=3")
    assert "已校验事件：3 /" in checker.locator("main").inner_text()
    expect(checker.locator("progress")).to_have_attribute("value", "3")
    accessible(checker)
    checker.unroute(re.compile(r"/audit/verify\?after="))
    checker.get_by_role("link", name="继续校验").click()
    expect(checker.locator("main")).to_contain_text("哈希链完整")

    nav(checker, "时点回放")
    checker.get_by_label("起始位置或日期").fill("1")
    checker.get_by_label("或截止时间（北京时间）").fill("2016-11-01T07:59:59")  # 23:59:59 UTC, before the start
    checker.get_by_role("button", name="比较").click()
    assert "该时刻之前尚无记账事件" in checker.locator(".error-summary").inner_text()
    accessible(checker)
    checker.get_by_label("或截止时间（北京时间）").fill("2016-11-01T08:00:00")  # the start, Asia/Shanghai
    checker.get_by_role("button", name="比较").click()
    resolved = checker.get_by_label("截止位置或日期").input_value()
    assert resolved.isdigit() and int(resolved) >= campaign["first_report"]
    assert checker.get_by_label("或截止时间（北京时间）").input_value().startswith("2016-11-01T08:00")
    assert "状态摘要" in checker.locator("main table").inner_text()
    ledger = Api(running.urls, running.keys.create("auditor")[0])  # each count as the ledger's list gives it there
    for label, status in (("已登记", "registered"), ("列入淘汰计划", "scheduled"), ("已淘汰待验收", "eliminated"),
                          ("已验收", "verified"), ("逾期", "overdue")):
        shown = checker.locator("main tbody tr", has=checker.get_by_role("rowheader", name=label, exact=True))
        listed = ledger.get("ledger", "/v1/items", params={"status": status, "as_of": resolved, "count": "true",
                                                           "limit": 1}).json()["total"]
        assert shown.locator("td").nth(1).inner_text() == str(listed), label
    accessible(checker)


def test_a_region_person_gets_no_office_page_and_an_auditor_changes_nothing(person, campaign):
    region = person("zz")
    for path in ("/office/", "/office/verification", "/office/tips", "/office/assessment", "/office/circulars",
                 "/audit/", "/audit/verify", "/audit/events", "/audit/export", "/office/subscriptions/x/end"):
        assert region.goto(path).status == 403, path
    auditor = person("audit")
    item_id = campaign["items"][0]["item_id"]
    assert auditor.goto(f"/office/verification/{item_id}").status == 403
    assert auditor.goto("/office/subscriptions/x/end").status == 403
    token = csrf_of(auditor)
    refused = auditor.context.request.post(f"/office/verification/{item_id}", form={
        "csrf_token": token, "decision": "verified", "reason": ""})
    assert refused.status == 403
    for path, form in (("/office/assessment/publish?year=2016", {"confirm": "y"}),
                       ("/office/assessment/410100?year=2016", {"criterion": "2", "c2-score": "90", "c2-note": "x"}),
                       ("/office/circulars?year=2016", {})):
        assert auditor.context.request.post(path, form={"csrf_token": token, **form}).status == 403, path
    auditor.goto("/office/assessment")
    assert auditor.get_by_role("button").filter(has_text="发布").count() == 0  # read-only: no form to publish
    office = person("office")
    refused = office.context.request.post(f"/office/verification/{item_id}", form={"decision": "verified"})
    assert refused.status == 400  # no CSRF token: refused before anything is sent


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_office_subscribes_an_agency_to_the_circulars(person, shots):
    page = person("office")
    nav(page, "订阅")
    page.get_by_role("button", name="添加订阅").click()
    summary = page.locator(".error-summary").inner_text()
    assert "必填" in summary
    page.get_by_label("单位").fill("省生态环境厅")
    page.get_by_label("Webhook").check()
    page.get_by_label("地址（电子邮箱或 https 网址）").fill(f"http://127.0.0.1:{closed_port()}/hooks")
    page.get_by_role("button", name="添加订阅").click()
    assert "请至少选择一项订阅内容" in page.locator(".error-summary").inner_text()
    page.get_by_label("通报", exact=True).check()
    page.get_by_role("button", name="添加订阅").click()
    assert "签名密钥仅显示这一次" in page.locator("main").inner_text()
    listed = page.locator("main table").first.locator("tr", has_text="省生态环境厅").inner_text()
    assert "通报" in listed and "circulars" not in listed  # the topics in people's words, not the API's
    accessible(page)


def test_the_office_enters_scores_publishes_after_a_refusal_and_issues_a_circular(person, running, campaign, shots):
    page = person("office")
    nav(page, "考核评分")
    assert "草稿：办公室尚有评分未录入" in page.locator("main").inner_text()
    accessible(page)
    shoot(page, "office-assessment-1280", shots)
    page.get_by_role("button", name="发布 2016 年度考核结果").click()
    assert "请确认发布" in page.locator(".error-summary").inner_text()
    page.get_by_label("我确认按当前结果发布本年度考核").check()
    page.get_by_role("button", name="发布 2016 年度考核结果").click()
    assert "未发布：28 个地区尚缺办公室评分" in page.locator(".error-summary").inner_text()
    checklist = page.locator("#missing-inputs li")
    expect(checklist).to_have_count(28)
    assert "第 2 项, 第 3 项" in checklist.first.inner_text()
    accessible(page)

    page.locator("#missing-inputs").get_by_role("link", name="郑州市").click()
    page.locator("#c2-score").fill("150")
    page.locator("#c2-note").fill("组织有力")
    page.get_by_role("button", name="提交第 2 项评分").click()
    assert "应为 0 至 100 的数字" in page.locator(".error-summary").inner_text()
    assert page.locator("#c2-note").input_value() == "组织有力"  # what was typed is kept
    accessible(page)
    page.locator("#c2-score").fill("95")
    page.get_by_role("button", name="提交第 2 项评分").click()
    submission_seq(page)
    nav(page, "考核评分")
    page.get_by_role("link", name="录入郑州市评分").click()
    page.locator("#c3-score").fill("88.5")
    page.locator("#c3-note").fill("出台奖补政策")
    page.get_by_role("button", name="提交第 3 项评分").click()
    seq = submission_seq(page)

    office = Api(running.urls, running.keys.create("office")[0])  # the other 27 regions' scores, as an agency would
    for code in sorted(running.reference.regions):
        if code != "410100":
            for criterion in (2, 3):
                recorded_input = office.post("assessment", "/v1/assessment-inputs", json={
                    "region": code, "year": 2016, "criterion": criterion, "score": "80", "note": "良好"})
                assert recorded_input.status_code == 202, recorded_input.text
    [event] = office.get("ledger", "/v1/events", params={"after": seq - 1, "limit": 1}).json()["events"]
    assert event["payload"]["score"] == "88.50" and event["actor"].endswith("/user:office")

    nav(page, "考核评分")
    page.get_by_label("我确认按当前结果发布本年度考核").check()
    page.get_by_role("button", name="发布 2016 年度考核结果").click()
    published = submission_seq(page)
    nav(page, "考核评分")
    main = page.locator("main").inner_text()
    assert "正式结果" in main and "已发布" in main and str(published) in main
    digest = page.locator(".confirmation dd.mono").inner_text()
    assert len(digest) == 64
    accessible(page)

    nav(page, "通报")
    assert "无。" in page.locator("main").inner_text()
    page.get_by_label("文号（选填）").fill("豫淘汰办〔2016〕12号")
    page.get_by_role("button", name="发布通报").click()
    assert "通报已发布" in page.locator("main").inner_text()
    accessible(page)
    shoot(page, "office-circulars-1280", shots)
    html = page.context.request.get(page.get_by_role("link", name="阅读第 1 期").get_attribute("href"))
    assert html.status == 200 and "豫淘汰办〔2016〕12号" in html.text()
    pdf = page.context.request.get(page.get_by_role("link", name="第 1 期 PDF").get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")  # python3 dev.py installs the CJK font
    page.get_by_role("link", name="第 1 期变化").click()
    assert "这是本年度第一期通报" in page.locator("main").inner_text()

    lowered = office.post("assessment", "/v1/assessment-inputs", json={  # 郑州's leadership score revised
        "region": "410100", "year": 2016, "criterion": 2, "score": "60", "note": "复核下调"})
    assert office.get("assessment", f"/v1/submissions/{lowered.json()['submission_id']}",
                      params={"wait": 10}).json()["status"] == "recorded"
    nav(page, "通报")
    page.get_by_role("button", name="发布通报").click()
    page.get_by_role("link", name="第 2 期变化").click()
    changes = page.locator("main ul.list").inner_text()
    assert "与第 1 期" in page.locator("main").inner_text() and "郑州市：考核总分" in changes
    accessible(page)


def test_a_failed_delivery_is_seen_and_redriven(person):
    page = person("office")
    deadline = time.monotonic() + 30
    nav(page, "订阅")
    while "dead" not in page.locator("main").inner_text():  # the circular's webhook: nobody listens
        assert time.monotonic() < deadline, page.locator("main").inner_text()
        time.sleep(0.3)
        page.reload()
    row = page.locator("tr", has=page.get_by_role("button", name="重新投递")).first
    assert "circular" in row.inner_text() and "2" in row.locator("td").nth(4).inner_text()
    accessible(page)
    row.get_by_role("button", name="重新投递").click()
    assert "该投递将从第一次尝试重新开始" in page.locator("main").inner_text()


def test_the_office_sees_the_alerts_of_a_missed_deadline_and_whom_they_went_to(person, running, business_clock):
    business_clock.set(at("2016-11-20T02:00:00"))  # past the report deadline: the clock moved from outside
    office = Api(running.urls, running.keys.create("office")[0])
    assert office.post("notify", "/v1/alerts/check").status_code == 200
    page = person("office")
    nav(page, "预警")
    text = page.locator("main").inner_text()
    assert "未报送" in text and "洛阳市" in text and "郑州市" not in page.locator("main tbody").inner_text()
    accessible(page)
    page.get_by_label("地区").select_option("410300")
    page.get_by_label("规则").select_option("report_missing")
    page.get_by_role("button", name="查看").click()
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(1)
    assert "逾期未报送" in rows.inner_text() and "region:410300" in rows.inner_text()


def test_the_office_ends_a_subscription_after_confirming_it(person, running):
    office = Api(running.urls, running.keys.create("office")[0])
    made = office.post("notify", "/v1/subscriptions", json={
        "agency": "省应急管理厅", "region": "410300", "channel": "email", "address": "yingji@example.org",
        "topics": ["alerts"]})
    assert made.status_code == 201, made.text
    page = person("office")
    nav(page, "订阅")
    page.get_by_role("link", name="终止省应急管理厅的订阅").click()
    facts = page.locator("main dl").inner_text()
    assert "yingji@example.org" in facts and "电子邮件" in facts and "预警" in facts and "email" not in facts.split("yingji")[0]
    accessible(page)
    refused = page.context.request.post(page.url, form={"confirm": "y"})
    assert refused.status == 400  # no CSRF token: nothing is sent to notify
    page.get_by_role("button", name="终止订阅").click()
    assert "请确认终止该订阅" in page.locator(".error-summary").inner_text()
    accessible(page)
    page.get_by_label("我确认今后不再向该订阅发送任何内容").check()
    page.get_by_role("button", name="终止订阅").click()
    assert "订阅已终止" in page.locator("main").inner_text()
    row = page.locator("main tbody tr", has_text="省应急管理厅")
    assert row.locator("td").nth(5).inner_text() == "否" and row.get_by_role("link").count() == 0
    listed = office.get("notify", "/v1/subscriptions").json()["subscriptions"]
    assert [s["active"] for s in listed if s["agency"] == "省应急管理厅"] == [False]
    accessible(page)
    assert page.goto(f"/office/subscriptions/{made.json()['subscription_id']}/end").status == 404  # ended already
