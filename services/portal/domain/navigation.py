"""What each role finds in the portal's navigation. A page's role check and its menu entry come
from the same table, so a person never sees a link to a page they may not open. The office's
and the auditors' pages (issue 15) are here too."""
from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:
    """Marks a message id for the catalogue (pybabel extracts ``N_``); the page translates it."""
    return message


@dataclass(frozen=True)
class Entry:
    endpoint: str  # the Flask endpoint of the page
    label: str  # the catalogue's message id


MENUS: dict[str, tuple[Entry, ...]] = {
    "region": (
        Entry("region.home", N_("Workbench")),
        Entry("region.registration", N_("Registration form")),
        Entry("region.zero_report", N_("Zero report")),
        Entry("region.items", N_("Ledger")),
        Entry("region.tips", N_("Tip verification")),
        Entry("region.alerts", N_("Alerts")),
    ),
    "department": (
        Entry("department.home", N_("Workbench")),
        Entry("department.file_list", N_("File a list")),
        Entry("department.findings", N_("Cross-check results")),
    ),
    "office": (
        Entry("office.dashboard", N_("Overview")),
        Entry("office.verification_queue", N_("Verification")),
        Entry("office.tips", N_("Tip management")),
        Entry("scoring.assessment_year", N_("Assessment")),
        Entry("scoring.circulars", N_("Circulars")),
        Entry("dispatch.alerts", N_("Alerts")),
        Entry("dispatch.subscriptions", N_("Subscriptions")),
        Entry("auditor.events", N_("Events")),
    ),
    "auditor": (
        Entry("auditor.chain", N_("Chain verification")),
        Entry("auditor.events", N_("Events")),
        Entry("auditor.as_of", N_("As of")),
        Entry("auditor.export", N_("Export")),
        Entry("auditor.acknowledgement", N_("Acknowledgement check")),
        Entry("office.dashboard", N_("Overview")),
        Entry("scoring.assessment_year", N_("Assessment")),
    ),
}
HOME = {"region": "region.home", "department": "department.home", "office": "office.dashboard",
        "auditor": "auditor.chain"}


def menu(role: str) -> tuple[Entry, ...]:
    return MENUS.get(role, ())


def home(role: str) -> str:
    return HOME.get(role, "public.home")
