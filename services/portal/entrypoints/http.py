"""The portal's web app: server-rendered pages in Chinese first (English by a switch on every
page), every form CSRF-protected, a strict Content-Security-Policy (no inline script or style),
no asset from elsewhere. Views are thin: a form, one client call, a template.

One shape for every page module (public, account, region, department, office, scoring, dispatch,
auditor): a module-level ``bp = Blueprint(...)`` and module-level views decorated with it, which
reach the portal's parts through ``pages.service()`` and ``pages.clients()`` (the app's
``PortalService``, kept in ``app.extensions``) instead of a factory's closure; helpers they share
are plain module functions. ``create_app`` registers each module's ``bp``, so a blueprint is
built once at import and may serve any number of apps (the tests build several)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g, jsonify, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..adapters.http import ApiProblem, Unavailable, timings
from ..bootstrap import PortalService
from . import account, auditor, department, dispatch, office, public, region, scoring
from .pages import SIGN_IN_COOKIE, cookie_secure, install_template_helpers

PACKAGE = Path(__file__).resolve().parents[1]
LANGUAGES = ("zh_CN", "en")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie keeps only the language and the CSRF token; Secure over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure(app)


def create_app(service: PortalService) -> Flask:
    app = Flask("zeroclear.portal", template_folder=str(PACKAGE / "templates"), static_folder=str(PACKAGE / "static"))
    app.config.update(
        SECRET_KEY=service.cookie_key, SESSION_COOKIE_NAME="zc_prefs", SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True, MAX_CONTENT_LENGTH=service.settings.max_body_bytes + 64 * 1024,
        # No Referer check over TLS: the pages send none (Referrer-Policy: no-referrer); the token
        # and SameSite=Strict cookies do the work.
        WTF_CSRF_TIME_LIMIT=4 * 3600, WTF_CSRF_SSL_STRICT=False, ZEROCLEAR_COOKIE_SECURE=service.settings.cookie_secure,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE / "translations"), BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE=service.reference.calendar.time_zone.key, SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.session_interface = CookieSessions()
    app.extensions["zeroclear.portal"] = service
    Babel(app, locale_selector=lambda: session.get("lang") if session.get("lang") in LANGUAGES else "zh_CN")
    CSRFProtect(app)
    install_template_helpers(app, service)
    for module in (public, account, region, department, office, scoring, dispatch, auditor):
        app.register_blueprint(module.bp)
    _register_hooks(app, service)
    _register_errors(app)
    _register_health(app, service)
    return app


def _register_hooks(app: Flask, service: PortalService) -> None:
    @app.before_request
    def who_is_it():
        g.timings = []
        g.timing_token = timings.set(g.timings)
        found = service.handlers.session_user(request.cookies.get(SIGN_IN_COOKIE))
        g.user, g.key = found if found else (None, None)

    @app.after_request
    def headers(response):
        response.headers.update(SECURITY_HEADERS)
        if g.get("user") is not None or request.method == "POST" or not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        spent = g.get("timings") or []
        if spent:
            response.headers["Server-Timing"] = ", ".join(
                f"{name};dur={ms:.1f}" for name, ms in _totals(spent).items())
        return response

    @app.teardown_request
    def forget_timings(_exc):
        token = g.pop("timing_token", None)
        if token is not None:
            timings.reset(token)


def _totals(spent: list[tuple[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for name, ms in spent:
        totals[name] = totals.get(name, 0.0) + ms
    return totals


def _register_errors(app: Flask) -> None:
    def page(status: int, title: str, detail: str = "", retry_after: int | None = None):
        response = app.make_response((render_template("error.html", status=status, title=title, detail=detail), status))
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    from flask_babel import gettext as _

    @app.errorhandler(CSRFError)
    def csrf(_error):
        return page(400, _("This form has expired"), _("Go back, reload the page and send the form again."))

    @app.errorhandler(Unavailable)
    def unavailable(error: Unavailable):
        return page(503, _("Service temporarily unavailable"), _("Please try again in a few minutes."),
                    error.retry_after or 5)

    @app.errorhandler(ApiProblem)
    def refused(error: ApiProblem):
        if error.status == 404:
            return page(404, _("Page not found"))
        if error.status in (401, 403):
            return page(403, _("You may not do this"))
        return page(400, _("The request could not be handled"), error.detail)

    titles = {403: lambda: _("You may not do this"), 404: lambda: _("Page not found"),
              405: lambda: _("Page not found"), 413: lambda: _("The file is too large")}
    for status, title in titles.items():
        app.register_error_handler(status, lambda _e, status=status, title=title: page(status, title()))


def _register_health(app: Flask, service: PortalService) -> None:
    @app.get("/health/live")
    def live():
        return jsonify(status="ok")

    @app.get("/health/ready")
    def ready():
        try:
            service.accounts.get("-")
        except Exception as exc:  # reported, not raised: readiness is a question
            return jsonify(status="unavailable", checks={"database": f"unavailable: {type(exc).__name__}"}), 503
        return jsonify(status="ok", checks={"database": "ok"})
