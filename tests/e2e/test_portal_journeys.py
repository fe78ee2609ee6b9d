"""The portal in a real browser (Debian's chromium), through the whole system: portal → intake,
ledger and notify over HTTP → broker → stores. A citizen on a phone with JavaScript off reports
and follows the tip up; a region's clerk files the form (a bad cell first), a zero report, an
elimination and a tip's resolution; a department files its list; the role and CSRF checks; a
disabled account. Every page the journeys open passes the accessibility check; the main ones are
photographed at 1280 and 390 pixels. One system and one browser for the module."""
from __future__ import annotations

import io
from datetime import date

import pytest
from playwright.sync_api import expect
from openpyxl import load_workbook

from shared.clock import SettableClock
from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START, system_on

from .portal_browser import (
    DESK, PHONE, accessible, csrf_of, launch, new_context, screenshot_folder, shoot, submission_seq,
)

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
FIELDS = ("enterprise", "uscc", "county", "industry", "equipment", "equipment_count", "capacity", "unit",
          "target_source", "planned_date", "method", "workers_affected", "remarks")


@pytest.fixture(scope="module")
def running(tmp_path_factory, reference):
    with system_on("embedded", tmp_path_factory.mktemp("portal"), clock=SettableClock(CAMPAIGN_START),
                   reference=reference) as running:
        handlers = running.services["portal"].handlers
        handlers.add_user("zz", PASSWORD, "region", region="410100", display_name="郑州市工信局 张三")
        handlers.add_user("ly", PASSWORD, "region", region="410300", display_name="洛阳市工信局 李四")
        handlers.add_user("kf", PASSWORD, "region", region="410200", display_name="开封市工信局 王五")
        handlers.add_user("env", PASSWORD, "department", department="environment", display_name="省环保厅 赵六")
        yield running


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
    """A browser for one person at a desk; checked to load nothing from elsewhere."""
    contexts = []

    def make(name: str | None = None, viewport=DESK, javascript: bool = True):
        context = new_context(browser, running.urls["portal"], viewport=viewport, javascript=javascript)
        contexts.append(context)
        page = context.new_page()
        if name:
            sign_in(page, name)
        return page
    yield make
    for context in contexts:
        assert context.elsewhere == []
        context.close()


def nav(page, name: str) -> None:
    """Follow a menu entry and wait for the page to load (a click returns once the navigation commits)."""
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state()


def sign_in(page, name: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_a_citizen_on_a_phone_reports_keeps_the_receipt_and_follows_it_up(person, shots):
    page = person(viewport=PHONE, javascript=False)  # Tor Browser's safest mode: no JavaScript at all
    page.goto("/")
    page.get_by_role("link", name="我要举报").first.click()
    page.get_by_role("button", name="提交举报").click()  # nothing filled in: each field named
    expect(page.locator(".error-summary a")).to_have_count(4)
    page.get_by_label("所在地区").select_option("410100")
    page.get_by_label("企业名称").fill("中牟县某焦化厂")
    page.get_by_label("具体位置").fill("中牟县某村东")
    page.get_by_label("举报内容").fill("夜间偷偷生产，烟很大")
    page.get_by_label("所属行业（选填）").select_option("焦炭")
    page.get_by_role("button", name="提交举报").click()
    receipt = page.locator("#receipt").inner_text().strip()
    assert receipt.startswith("TIP-") and "只显示这一次" in page.locator("main").inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载签名回执").click()
    assert b'"signature"' in open(download.value.path(), "rb").read()

    page.goto("/report/status")
    page.get_by_label("举报回执码").fill(receipt)
    page.get_by_role("button", name="查询").click()
    assert "待核查" in page.locator("main").inner_text()


def test_every_public_page_is_accessible_and_photographed_at_both_widths(person, shots):
    for viewport, width in ((PHONE, 390), (DESK, 1280)):
        page = person(viewport=viewport)
        for path, name in (("/", "home"), ("/report", "report"), ("/report/status", "follow"),
                           ("/announcement", "announcement"), ("/sign-in", "sign-in")):
            page.goto(path)
            accessible(page)
            shoot(page, f"public-{name}-{width}", shots)
        page.goto("/report")
        page.get_by_role("button", name="提交举报").click()
        accessible(page)
        shoot(page, f"public-report-errors-{width}", shots)
        page.get_by_label("所在地区").select_option("410300")
        page.get_by_label("企业名称").fill("偃师市某水泥厂")
        page.get_by_label("具体位置").fill("偃师市某镇")
        page.get_by_label("举报内容").fill("立窑仍在生产")
        page.get_by_role("button", name="提交举报").click()
        accessible(page)
        shoot(page, f"public-receipt-{width}", shots)


def fill_form(path: str, entries: list[dict]) -> bytes:
    with open(path, "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    sheet = book.active
    for row, entry in enumerate(entries, start=5):
        sheet.cell(row, 1, row - 4)
        for column, name in enumerate(FIELDS, start=2):
            sheet.cell(row, column, entry[name])
        sheet.cell(row, 2 + FIELDS.index("planned_date"), date(2016, 12, 31))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(page, content: bytes) -> None:
    page.get_by_label("填好的排查登记表（.xlsx）").set_input_files(
        {"name": "登记表.xlsx", "mimeType": "application/octet-stream", "buffer": content})
    page.get_by_label("文号").fill("郑政文〔2016〕88号")
    page.get_by_label("签发人").fill("张三")
    page.get_by_role("button", name="上传并报送").click()


def test_a_clerk_files_the_form_fixes_a_bad_cell_reports_an_elimination_and_resolves_a_tip(person, running, shots):
    page = person("zz")
    accessible(page)
    shoot(page, "region-home-1280", shots)
    page.get_by_role("link", name="报送排查登记表").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载空白登记表").click()
    good = [data.entry(1), data.entry(2, industry="水泥")]
    bad = [good[0], {**good[1], "uscc": good[1]["uscc"][:-1] + ("0" if good[1]["uscc"][-1] != "0" else "1")}]
    upload(page, fill_form(download.value.path(), bad))
    table = page.locator("table.cell-errors")
    assert "统一社会信用代码" in table.inner_text() and "6" in table.locator("td").first.inner_text()
    accessible(page)
    shoot(page, "region-registration-errors-1280", shots)
    upload(page, fill_form(download.value.path(), good))
    assert submission_seq(page) > 0
    accessible(page)
    shoot(page, "region-recorded-1280", shots)

    nav(page, "台账")
    page.get_by_role("link", name=good[0]["enterprise"]).click()
    page.get_by_label("淘汰日期").fill("2016-10-30")
    page.get_by_label("淘汰方式").select_option("拆除")
    page.get_by_label("已安置职工人数").fill("120")
    page.get_by_label("佐证材料").fill("拆除现场照片、验收记录")
    accessible(page)
    shoot(page, "region-item-1280", shots)
    page.get_by_role("button", name="报告淘汰").click()
    assert submission_seq(page) > 0
    nav(page, "台账")
    page.get_by_role("link", name=good[0]["enterprise"]).click()
    assert "已淘汰待验收" in page.locator("main").inner_text()
    assert "intake.elimination_reported.v1" in page.locator(".history").inner_text()

    citizen = person(viewport=PHONE)  # a tip for 郑州, then the clerk finds and resolves it
    citizen.goto("/report")
    citizen.get_by_label("所在地区").select_option("410100")
    citizen.get_by_label("企业名称").fill("新密市某造纸厂")
    citizen.get_by_label("具体位置").fill("新密市某镇")
    citizen.get_by_label("举报内容").fill("造纸机仍在运转")
    citizen.get_by_role("button", name="提交举报").click()
    receipt = citizen.locator("#receipt").inner_text().strip()
    page.get_by_role("link", name="举报核查").click()
    page.get_by_role("link", name="新密市某造纸厂").click()
    page.get_by_label("不属实").check()
    page.get_by_label("处理情况说明（将公开）").fill("经现场核查，该厂已于2015年关停")
    accessible(page)
    shoot(page, "region-tip-1280", shots)
    page.get_by_role("button", name="提交办理结果").click()
    assert submission_seq(page) > 0
    citizen.goto("/report/status")
    citizen.get_by_label("举报回执码").fill(receipt)
    citizen.get_by_role("button", name="查询").click()
    assert "不属实" in citizen.locator("main").inner_text() and "已于2015年关停" in citizen.locator("main").inner_text()
    page.goto("/region/")
    accessible(page)
    page.set_viewport_size(PHONE)
    shoot(page, "region-home-390", shots)


def test_a_zero_report_is_filed_with_its_confirmation(person, shots):
    page = person("kf")
    page.get_by_role("link", name="零报告").first.click()
    page.get_by_label("文号").fill("汴政文〔2016〕12号")
    page.get_by_label("签发人").fill("王五")
    page.get_by_role("button", name="报送零报告").click()
    assert "请确认零报告" in page.locator(".error-summary").inner_text()  # the confirmation is explicit
    page.get_by_label("我确认本地区本年度无落后产能").check()
    accessible(page)
    page.get_by_role("button", name="报送零报告").click()
    assert submission_seq(page) > 0
    nav(page, "工作台")
    assert "按时报送" in page.locator("main").inner_text() and "（零报告）" in page.locator("main").inner_text()


def test_a_department_files_its_list_and_sees_what_it_revealed(person, running, shots):
    page = person("env")
    nav(page, "名单报送")
    first = page.locator("fieldset.entry").first
    first.get_by_label("企业名称").fill("郑州某焦化厂")
    first.get_by_label("统一社会信用代码").fill(data.make_uscc(77))
    first.get_by_label("所在地区").select_option("410100")
    first.get_by_label("行业").select_option("焦炭")
    first.get_by_label("具体情况").fill("超标排放")
    accessible(page)
    shoot(page, "department-list-1280", shots)
    page.get_by_role("button", name="报送名单").click()
    assert submission_seq(page) > 0
    nav(page, "核查结果")
    text = page.locator("main").inner_text()
    assert "郑州某焦化厂" in text or "无。" in text  # 郑州's report decides whether it is a discrepancy
    accessible(page)


def test_a_region_person_cannot_open_another_regions_item_nor_post_without_the_csrf_token(person, running):
    office = running.keys.create("office")[0]
    from shared.testing.client import Api

    items = Api(running.urls, office).get("ledger", "/v1/items", params={"region": "410100"}).json()["items"]
    page = person("ly")
    answer = page.goto(f"/region/items/{items[0]['item_id']}")
    assert answer.status == 404 and "页面不存在" in page.locator("main").inner_text()
    refused = page.context.request.post("/region/zero-report", form={"document_no": "洛政〔2016〕1号",
                                                                      "signed_by": "李四", "confirm": "y"})
    assert refused.status == 400
    page.goto("/region/")
    assert "尚未报送" in page.locator("main").inner_text()  # nothing was filed
    token = csrf_of(page)
    assert page.context.request.post("/sign-out", form={"csrf_token": token}).ok


def test_a_disabled_account_cannot_sign_in_and_its_open_session_ends(person, running):
    running.services["portal"].handlers.add_user("gone", PASSWORD, "region", region="410500")
    page = person("gone")
    assert page.url.endswith("/region/")
    running.services["portal"].handlers.disable_user("gone")
    page.goto("/region/")
    assert "/sign-in" in page.url
    sign_in(page, "gone")
    assert "用户名或密码错误" in page.locator(".error-summary").inner_text()
