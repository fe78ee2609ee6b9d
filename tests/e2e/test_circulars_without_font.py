"""Without a CJK TrueType font installed, notify still issues circulars — JSON and HTML, their
hashes on the ledger — and says clearly that the PDF is unavailable (SPEC §7, issue 5)."""
from __future__ import annotations

import pytest

from shared.testing import data

from .test_circulars import ZZ, caught_up, on_ledger, recorded

pytestmark = pytest.mark.e2e


@pytest.fixture
def backend():
    return "embedded"  # what a missing font changes is in notify's process, whatever the backend


def test_without_a_cjk_font_the_service_runs_and_says_pdf_is_unavailable(system, api, keys, monkeypatch):
    import services.notify.circulars.fonts as fonts

    monkeypatch.setattr(fonts, "KNOWN_FONTS", ())
    monkeypatch.delenv("ZEROCLEAR_NOTIFY_FONT", raising=False)
    office = api.as_key(keys("office"))
    zz = api.as_key(keys("region", region=ZZ))
    recorded(zz, zz.file_report(data.report(ZZ)))
    caught_up(api, office)
    issued = office.post("notify", "/v1/circulars", json={"year": 2016}).json()
    assert issued["pdf_sha256"] is None and issued["html_sha256"]
    pdf = office.get("notify", f"/v1/circulars/{issued['circular_id']}.pdf")
    assert pdf.status_code == 503 and "fonts-wqy-zenhei" in pdf.json()["detail"]
    assert office.get("notify", f"/v1/circulars/{issued['circular_id']}.html").status_code == 200
    assert on_ledger(office, issued["circular_id"])["payload"]["pdf_sha256"] is None
