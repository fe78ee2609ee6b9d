"""A whole 2016 campaign through the portal alone, in a real browser (issue 15): only the business
clock is moved from outside. Regions file the form and a zero report, a department files its list,
a citizen reports and the region resolves the tip, the region reports its eliminations, the office
verifies one and rejects the other, enters every region's scores, publishes and issues a circular;
an auditor verifies the chain, browses to the publication and downloads the export, which the
offline verifier accepts."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.ledger import verify_export
from shared.clock import SettableClock
from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START, system_on

from .helpers import at
from .portal_browser import DESK, PHONE, launch, new_context, submission_seq
from .test_portal_journeys import PASSWORD, fill_form, nav, sign_in, upload

pytestmark = pytest.mark.e2e


def test_a_whole_campaign_through_the_portal_alone(tmp_path, reference):
    from playwright.sync_api import sync_playwright

    clock = SettableClock(CAMPAIGN_START)
    with system_on("embedded", tmp_path / "system", clock=clock, reference=reference) as running, \
            sync_playwright() as playwright:
        handlers = running.services["portal"].handlers
        for name, role, scope in (("zz", "region", {"region": "410100"}), ("kf", "region", {"region": "410200"}),
                                  ("env", "department", {"department": "environment"}), ("office", "office", {}),
                                  ("audit", "auditor", {})):
            handlers.add_user(name, PASSWORD, role, **scope)
        browser = launch(playwright)
        contexts = []

        def person(name: str | None, viewport=DESK):
            context = new_context(browser, running.urls["portal"], viewport=viewport)
            contexts.append(context)
            page = context.new_page()
            if name:
                sign_in(page, name)
            return page

        # 郑州 files the form with two lines; 开封 a zero report.
        zz = person("zz")
        zz.get_by_role("link", name="报送排查登记表").click()
        with zz.expect_download() as download:
            zz.get_by_role("link", name="下载空白登记表").click()
        lines = [data.entry(1), data.entry(2, industry="水泥")]
        upload(zz, fill_form(download.value.path(), lines))
        submission_seq(zz)
        kf = person("kf")
        kf.get_by_role("link", name="零报告").first.click()
        kf.get_by_label("文号").fill("汴政文〔2016〕12号")
        kf.get_by_label("签发人").fill("王五")
        kf.get_by_label("我确认本地区本年度无落后产能").check()
        kf.get_by_role("button", name="报送零报告").click()
        submission_seq(kf)

        # The environment department lists an enterprise in 开封, which declared none.
        env = person("env")
        nav(env, "名单报送")
        first = env.locator("fieldset.entry").first
        first.get_by_label("企业名称").fill("开封某焦化厂")
        first.get_by_label("统一社会信用代码").fill(data.make_uscc(78, "410200"))
        first.get_by_label("所在地区").select_option("410200")
        first.get_by_label("行业").select_option("焦炭")
        first.get_by_label("具体情况").fill("超标排放")
        env.get_by_role("button", name="报送名单").click()
        submission_seq(env)

        # A citizen reports 郑州; the clerk finds the tip unfounded.
        citizen = person(None, PHONE)
        citizen.goto("/report")
        citizen.get_by_label("所在地区").select_option("410100")
        citizen.get_by_label("企业名称").fill("新郑市某水泥厂")
        citizen.get_by_label("具体位置").fill("新郑市某镇")
        citizen.get_by_label("举报内容").fill("立窑仍在生产")
        citizen.get_by_role("button", name="提交举报").click()
        receipt = citizen.locator("#receipt").inner_text().strip()
        with citizen.expect_download() as ack_download:
            citizen.get_by_role("button", name="下载签名回执").click()
        acknowledgement = Path(ack_download.value.path()).read_text(encoding="utf-8")
        nav(zz, "举报核查")
        zz.get_by_role("link", name="新郑市某水泥厂").click()
        zz.get_by_label("不属实").check()
        zz.get_by_label("处理情况说明（将公开）").fill("经现场核查，该厂已于2015年拆除")
        zz.get_by_role("button", name="提交办理结果").click()
        submission_seq(zz)

        # The clerk reports both lines eliminated.
        for line in lines:
            nav(zz, "台账")
            zz.get_by_role("link", name=line["enterprise"]).click()
            zz.get_by_label("淘汰日期").fill("2016-10-30")
            zz.get_by_label("淘汰方式").select_option("拆除")
            zz.get_by_label("已安置职工人数").fill("120")
            zz.get_by_label("佐证材料").fill(f"{line['enterprise']}拆除现场照片")
            zz.get_by_role("button", name="报告淘汰").click()
            submission_seq(zz)

        # A month on, the office verifies one elimination and rejects the other.
        clock.set(at("2016-12-01T02:00:00"))
        office = person("office")
        for decision, reason in (("通过：确认已淘汰", ""), ("不通过", "现场设备未拆除")):
            nav(office, "检查验收")
            office.locator("main tbody tr").first.get_by_role("link").click()
            office.get_by_label(decision, exact=True).check()
            if reason:
                office.get_by_label("理由（不通过时必填）").fill(reason)
            office.get_by_role("button", name="提交验收结论").click()
            submission_seq(office)
        nav(office, "检查验收")
        assert "无。" in office.locator("main").inner_text()

        # Every region's criteria 2 and 3, then the publication and a circular.
        for code in sorted(running.reference.regions):
            office.goto(f"/office/assessment/{code}?year=2016")
            for criterion, score in ((2, "90"), (3, "85")):
                office.locator(f"#c{criterion}-score").fill(score)
                office.locator(f"#c{criterion}-note").fill("按考核细则评定")
                office.get_by_role("button", name=f"提交第 {criterion} 项评分").click()
                submission_seq(office)
                office.goto(f"/office/assessment/{code}?year=2016")
        nav(office, "考核评分")
        assert "评分齐全，尚未发布" in office.locator("main").inner_text()
        office.get_by_label("我确认按当前结果发布本年度考核").check()
        office.get_by_role("button", name="发布 2016 年度考核结果").click()
        published = submission_seq(office)
        nav(office, "考核评分")
        digest = office.locator(".confirmation dd.mono").inner_text()
        nav(office, "通报")
        office.get_by_role("button", name="发布通报").click()
        assert "通报已发布" in office.locator("main").inner_text()

        # The citizen follows the tip up: unfounded, with the published explanation.
        citizen.goto("/report/status")
        citizen.get_by_label("举报回执码").fill(receipt)
        citizen.get_by_role("button", name="查询").click()
        assert "已于2015年拆除" in citizen.locator("main").inner_text()

        # The auditor: the chain holds, the publication is on it with its digest, the export verifies.
        audit = person("audit")
        audit.get_by_role("button", name="立即校验整条链").click()
        assert "哈希链完整" in audit.locator("main").inner_text()
        nav(audit, "事件浏览")
        audit.get_by_label("事件类型").fill("assessment.published.v1")
        audit.get_by_role("button", name="查看").click()
        audit.get_by_role("link", name=str(published), exact=True).click()
        payload = json.loads(audit.locator("pre.payload").inner_text())
        assert payload["digest"] == digest and payload["year"] == 2016
        assert audit.locator("main dl").inner_text().count("user:office") == 1  # recorded under the person
        nav(audit, "回执核验")
        audit.get_by_label("回执内容（下载文件的全文）").fill(acknowledgement)
        audit.get_by_role("button", name="核验").click()
        assert "签名：有效" in audit.locator("main").inner_text()
        nav(audit, "导出")
        with audit.expect_download() as export:
            audit.get_by_role("link", name="下载导出文件").click()
        exported = tmp_path / "ledger-export.jsonl"
        export.value.save_as(exported)
        verdict = subprocess.run([sys.executable, Path(verify_export.__file__), str(exported)], capture_output=True,
                                 text=True)
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
        types = [json.loads(line).get("type") for line in exported.read_text(encoding="utf-8").splitlines()[:-1]]
        for kind in ("intake.report_filed.v1", "intake.department_list_filed.v1", "intake.tip_filed.v1",
                     "intake.tip_resolved.v1", "intake.elimination_reported.v1", "intake.elimination_decided.v1",
                     "assessment.input_filed.v1", "assessment.published.v1"):
            assert kind in types, kind
        for context in contexts:
            assert context.elsewhere == []
        browser.close()
