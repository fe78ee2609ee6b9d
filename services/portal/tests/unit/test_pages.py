"""The pages on the in-memory clients: the frame every page shares (security headers, language,
CSRF), who may open what, and forms that forgive (errors named beside their fields, what was
typed kept)."""
from __future__ import annotations

import re

import pytest

from services.portal.adapters.http import ApiProblem

PASSWORD = "correct horse battery"
PUBLIC = ("/", "/report", "/report/status", "/announcement", "/sign-in")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def sign_in(client, portal, name="zz", role="region", **scope):
    if role == "region" and not scope:
        scope = {"region": "410100"}
    if portal.accounts.get(name) is None:
        portal.handlers.add_user(name, PASSWORD, role, **scope)
    page = client.get("/sign-in")
    return client.post("/sign-in", data={"csrf_token": csrf(page.text), "username": name, "password": PASSWORD})


@pytest.mark.parametrize("path", PUBLIC)
def test_every_public_page_is_chinese_first_with_a_strict_policy_and_no_inline_code(app, path):
    page = app.test_client().get(path)
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", page.text), "inline code or style"
    assert not re.search(r'(src|href)="(https?:)?//', page.text), "an asset from elsewhere"
    assert 'name="lang" value="en"' in page.text  # the switch, on every page


def test_the_language_switch_turns_every_page_english_and_back(app):
    client = app.test_client()
    home = client.get("/")
    client.post("/language", data={"csrf_token": csrf(home.text), "lang": "en", "next": "/report"})
    page = client.get("/report")
    assert '<html lang="en">' in page.text and "Report outdated production capacity" in page.text
    client.post("/language", data={"csrf_token": csrf(page.text), "lang": "zh_CN", "next": "/"})
    assert "举报落后产能" in client.get("/report").text


def test_a_form_sent_without_its_csrf_token_is_refused_and_nothing_is_done(app, portal):
    portal.handlers.add_user("zz", PASSWORD, "office")
    client = app.test_client()
    answer = client.post("/sign-in", data={"username": "zz", "password": PASSWORD})
    assert answer.status_code == 400 and "zc_session" not in answer.headers.get("Set-Cookie", "")
    assert "表单已失效" in answer.text


def test_the_session_cookie_is_httponly_strict_and_secure_over_tls(app, portal):
    answer = sign_in(app.test_client(), portal)
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("zc_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    portal.handlers.add_user("tls", PASSWORD, "office")
    tls = app.test_client()
    page = tls.get("/sign-in", base_url="https://portal.example")
    answer = tls.post("/sign-in", base_url="https://portal.example",
                      data={"csrf_token": csrf(page.text), "username": "tls", "password": PASSWORD})
    assert "Secure" in next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("zc_session="))


def test_a_region_page_sends_a_stranger_to_sign_in_and_refuses_another_role(app, portal):
    client = app.test_client()
    answer = client.get("/region/items")
    assert answer.status_code == 302 and answer.headers["Location"] == "/sign-in?next=/region/items"
    sign_in(client, portal, "env", "department", department="environment")
    assert client.get("/region/").status_code == 403
    assert client.get("/department/").status_code == 200


def test_signing_in_goes_back_only_to_a_page_of_this_site(app, portal):
    portal.handlers.add_user("zz", PASSWORD, "region", region="410100")
    for target, lands in (("/region/items", "/region/items"), ("https://evil.example/", "/region/"),
                          ("//evil.example/", "/region/")):
        client = app.test_client()
        page = client.get("/sign-in")
        answer = client.post("/sign-in", data={"csrf_token": csrf(page.text), "username": "zz", "password": PASSWORD,
                                               "next": target})
        assert answer.headers["Location"] == lands


def test_a_wrong_password_is_said_plainly_beside_the_field(app, portal):
    portal.handlers.add_user("zz", PASSWORD, "office")
    client = app.test_client()
    page = client.get("/sign-in")
    answer = client.post("/sign-in", data={"csrf_token": csrf(page.text), "username": "zz", "password": "nope"})
    assert answer.status_code == 401 and "用户名或密码错误" in answer.text and 'href="#username"' in answer.text


def test_a_tip_with_fields_missing_names_each_and_keeps_what_was_typed(app):
    client = app.test_client()
    page = client.get("/report")
    answer = client.post("/report", data={"csrf_token": csrf(page.text), "enterprise": "某钢厂", "region": ""})
    assert answer.status_code == 422
    assert 'href="#region"' in answer.text and 'href="#location"' in answer.text and 'value="某钢厂"' in answer.text


def test_the_portal_limits_tips_per_visitor_and_says_so_in_chinese(app, portal):
    client = app.test_client()
    body = {"region": "410100", "enterprise": "某钢厂", "location": "中牟县", "description": "夜间生产"}
    answers = [client.post("/report", data={**body, "csrf_token": csrf(client.get("/report").text)}).status_code
               for _ in range(portal.tip_limiter.burst + 1)]
    assert answers[:-1] == [200] * portal.tip_limiter.burst and answers[-1] == 429
    last = client.post("/report", data={**body, "csrf_token": csrf(client.get("/report").text)})
    assert "提交过于频繁" in last.text
    assert all(call[1]["client"] == "127.0.0.1" for call in portal.clients.intake.calls)


def test_an_uploaded_form_with_bad_cells_lists_each_row_column_header_and_reason(app, portal):
    client = app.test_client()
    sign_in(client, portal)
    portal.clients.intake.refuse = ApiProblem(422, "The form has errors", "2 problem(s)", "form-errors", [
        {"field": "entries[0].uscc", "row": 5, "column": "C", "header": "统一社会信用代码",
         "message": "Not a valid unified social credit code", "message_zh": "统一社会信用代码校验位错误"},
        {"field": "entries[1].capacity", "row": 6, "column": "H", "header": "产能", "message": "Not a valid number.",
         "message_zh": "应为数字"}])
    page = client.get("/region/registration")
    from io import BytesIO

    answer = client.post("/region/registration", content_type="multipart/form-data", data={
        "csrf_token": csrf(page.text), "document_no": "郑政文〔2016〕88号", "signed_by": "张三",
        "file": (BytesIO(b"xlsx"), "form.xlsx")})
    assert answer.status_code == 422
    rows = re.findall(r"<tr><td>(\d+)</td><td>([A-Z])</td><td>([^<]+)</td><td>([^<]+)</td></tr>", answer.text)
    assert rows == [("5", "C", "统一社会信用代码", "统一社会信用代码校验位错误"), ("6", "H", "产能", "应为数字")]
    assert 'value="郑政文〔2016〕88号"' in answer.text


def test_a_filing_is_followed_to_its_place_on_the_ledger(app, portal):
    client = app.test_client()
    sign_in(client, portal)
    page = client.get("/region/zero-report")
    answer = client.post("/region/zero-report", data={"csrf_token": csrf(page.text), "document_no": "郑政文〔2016〕1号",
                                                      "signed_by": "张三", "confirm": "y"}, follow_redirects=True)
    assert "已记入台账，位置第 42 条" in answer.text
    assert portal.clients.intake.calls[-1] == ("file_report", {
        "region": "410100", "year": 2016, "document_no": "郑政文〔2016〕1号", "signed_by": "张三", "zero_report": True,
        "entries": []})


def test_signed_in_pages_show_the_business_date_and_the_demo_clock(app, portal):
    client = app.test_client()
    sign_in(client, portal)
    page = client.get("/region/")
    assert "业务日期：2016年11月1日" in page.text and "演示系统：业务时钟当前为 2016年11月1日" in page.text
    assert page.headers["Cache-Control"] == "no-store"
