"""What every page shares: who is signed in and what they may open, the business date and the demo
banner, dates and numbers as people read them, and the service's field errors put back beside
the fields of the form that caused them (GOV.UK's error summary and inline messages)."""
from __future__ import annotations

import functools
import secrets
from datetime import date, datetime
from typing import Callable, Mapping

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_babel import format_date, format_datetime, get_locale, gettext as _

from shared.clock import MOVABLE_MODES, parse_instant
from shared.forwarded import client_address

from ..adapters.http import ApiProblem
from ..domain import navigation
from ..domain.campaign import working_year, years


SIGN_IN_COOKIE = "zc_session"


def cookie_secure(app: Flask) -> bool:
    """Secure cookies over TLS (``auto``), always, or never (``ZEROCLEAR_PORTAL_COOKIE_SECURE``)."""
    setting = app.config["ZEROCLEAR_COOKIE_SECURE"]
    return setting == "always" or (setting == "auto" and request.is_secure)


def service():
    """The portal's composition (``bootstrap.PortalService``) of the app serving this request."""
    return current_app.extensions["zeroclear.portal"]


def clients():
    """One client per service (``adapters/clients.py``), for the request's views."""
    return service().clients


def english() -> bool:
    return str(get_locale()) == "en"


def today() -> date:
    svc = service()
    return svc.reference.calendar.business_date(svc.clock.now())


def current_year() -> int:
    calendar = service().reference.calendar
    inspection = lambda year: (calendar.stage(year, "inspection") or (None, None))[0]  # noqa: E731
    return working_year(today(), calendar.first_year, inspection)


def chosen_year() -> int:
    """``?year=`` when it is a year of the campaign, else the year being worked on."""
    asked = request.values.get("year", "")
    choices = years(service().reference.calendar.first_year, today())
    return int(asked) if asked.isdigit() and int(asked) in choices else current_year()


def client() -> str:
    """The visitor's address, only for the tip rate limits (never stored)."""
    return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                          service().settings.trusted_proxies)


def requires(*roles: str) -> Callable:
    """A signed-in person of one of ``roles``; others are sent to sign in, or refused (403)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if g.user is None:
                return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")))
            if g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def new_idempotency_key() -> str:
    """Rendered into a form as a hidden field: sending the same form twice records it once."""
    return secrets.token_urlsafe(32)


def apply_errors(form, problem: ApiProblem, fields: Mapping[str, str] | None = None) -> list[dict]:
    """Put the service's field errors beside the form's fields (``fields`` maps an API field path to
    a form field's name); returns every error for the summary, each with the field it links to."""
    summary = []
    for error in problem.errors or []:
        path = str(error.get("field") or "")
        message = error.get("message") if english() else error.get("message_zh") or error.get("message")
        name = (fields or {}).get(path, path)
        field = getattr(form, name, None) if name and hasattr(form, "_fields") and name in form._fields else None
        if field is not None:
            field.errors = [*list(field.errors or []), message]
        summary.append({"field": field.id if field is not None else None, "message": message, "path": path})
    if not summary:
        summary.append({"field": None, "message": problem.detail or problem.title, "path": ""})
    return summary


def form_summary(form) -> list[dict]:
    """Every field in error, in the form's order, each linking to its field (rows of a list too)."""
    summary = []
    for field in form:
        if hasattr(field, "entries"):  # a list of sub-forms: their fields in turn
            for entry in field.entries:
                summary.extend(form_summary(entry.form))
            continue
        summary.extend({"field": field.id, "message": str(message)} for message in field.errors
                       if not isinstance(message, (dict, list)))
    return summary


def install_template_helpers(app: Flask, svc) -> None:
    reference = svc.reference

    @app.context_processor
    def common():
        user = g.get("user")
        return {
            "user": user, "menu": navigation.menu(user.role) if user else (), "business_today": today(),
            "demo_clock": svc.settings.mode in MOVABLE_MODES, "locale": str(get_locale()),
            "html_lang": "en" if english() else "zh-CN", "province": reference.province,
            "contact_phone": svc.settings.contact_phone, "home_endpoint": navigation.home(user.role) if user else None,
            "regions": reference.regions, "region_name": region_name, "industries": reference.industries,
        }

    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(region_name, "region_name")
    app.add_template_global(_, "_")
    app.add_template_global(lambda attrs: {k: v for k, v in attrs.items() if v not in (None, "")}, "present")


def region_name(code: str | None) -> str:
    region = service().reference.regions.get(code or "")
    if region is None:
        return code or ""
    return region.name_en if english() and region.name_en else region.name


def long_date(value) -> str:
    """2016年11月15日 (English: November 15, 2016); accepts a date, an ISO date or an instant."""
    if not value:
        return ""
    if isinstance(value, str):
        value = parse_instant(value) if "T" in value else date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = service().reference.calendar.business_date(value)
    return format_date(value, "long")


def moment(value) -> str:
    """An instant in Asia/Shanghai, to the minute."""
    if not value:
        return ""
    instant = parse_instant(value) if isinstance(value, str) else value
    return format_datetime(instant, "MMMM d, y HH:mm" if english() else "y年M月d日 HH:mm")
