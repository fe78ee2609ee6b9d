"""The main journey of the portal on RabbitMQ and PostgreSQL (the portal's own database too): a
clerk signs in, downloads the blank form, uploads it filled in and sees it recorded on the ledger
under them as well as their region."""
from __future__ import annotations

import pytest

from shared.clock import SettableClock
from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import CAMPAIGN_START, system_on

from .portal_browser import launch, new_context, submission_seq
from .test_portal_journeys import PASSWORD, fill_form, sign_in, upload

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]


def test_a_clerk_files_the_form_through_the_portal_on_the_real_backend(tmp_path, reference):
    from playwright.sync_api import sync_playwright

    with system_on("real", tmp_path, clock=SettableClock(CAMPAIGN_START), reference=reference) as running, \
            sync_playwright() as playwright:
        running.services["portal"].handlers.add_user("zz", PASSWORD, "region", region="410100")
        browser = launch(playwright)
        context = new_context(browser, running.urls["portal"])
        page = context.new_page()
        sign_in(page, "zz")
        page.get_by_role("link", name="报送排查登记表").click()
        with page.expect_download() as download:
            page.get_by_role("link", name="下载空白登记表").click()
        upload(page, fill_form(download.value.path(), [data.entry(1)]))
        seq = submission_seq(page)
        assert context.elsewhere == []
        browser.close()
        office = Api(running.urls, running.keys.create("office")[0])
        [event] = office.get("ledger", "/v1/events", params={"after": seq - 1, "limit": 1}).json()["events"]
        assert event["type"] == "intake.report_filed.v1"
        assert event["actor"].startswith("region/410100/") and event["actor"].endswith("/user:zz")
