"""Signing in and out, the language switch, the signed-in person's home, and following a
submission to its place on the ledger."""
from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..domain import navigation
from .forms import SignInForm
from .pages import SIGN_IN_COOKIE, clients, cookie_secure, requires, service

LANGUAGES = ("zh_CN", "en")


def _local(target: str | None) -> str | None:
    """Only a path on this site: never another site (an open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


bp = Blueprint("account", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    target = _local(request.values.get("next"))
    if request.method == "GET" or not form.validate():
        errors = [] if request.method == "GET" else [{"field": form[n].id, "message": m}
                                                     for n, ms in form.errors.items() for m in ms]
        return render_template("account/sign_in.html", form=form, errors=errors, next=target), 200 if not errors else 422
    outcome = service().handlers.sign_in(form.username.data, form.password.data)
    if outcome.token is None:
        if outcome.wait is not None and outcome.locked:
            message = _("Too many failed sign-ins: this account is locked for %(minutes)d minute(s).",
                        minutes=max(1, math.ceil(outcome.wait.total_seconds() / 60)))
        elif outcome.wait is not None:
            message = _("Too many failed sign-ins: wait %(seconds)d second(s) and try again.",
                        seconds=max(1, math.ceil(outcome.wait.total_seconds())))
        else:
            message = _("The user name or the password is wrong.")
        form.password.data = ""
        return render_template("account/sign_in.html", form=form, next=target,
                               errors=[{"field": form.username.id, "message": message}]), 401
    lang = session.get("lang")
    session.clear()  # a new CSRF token for the signed-in person
    if lang:
        session["lang"] = lang
    response = redirect(target or url_for(navigation.home(outcome.user.role)))
    response.set_cookie(SIGN_IN_COOKIE, outcome.token, httponly=True, samesite="Strict",
                        secure=cookie_secure(current_app), path="/")
    return response


@bp.post("/sign-out")
def sign_out():
    service().handlers.sign_out(request.cookies.get(SIGN_IN_COOKIE))
    session.pop("csrf_token", None)
    response = redirect(url_for("public.home"))
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


@bp.post("/language")
def language():
    chosen = request.form.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return redirect(_local(request.form.get("next")) or url_for("public.home"))


@bp.get("/home")
@requires("region", "department", "office", "auditor")
def home():
    if g.user.role in ("region", "department"):
        return redirect(url_for(navigation.home(g.user.role)))
    return render_template("account/home.html")


@bp.get("/submissions/<submission_id>")
@requires("region", "department", "office")
def submission(submission_id: str):
    """Where a filing stands: it waits briefly for the ledger's answer, so a person normally
    sees "recorded at position N" (or the reasons it was rejected) without reloading."""
    found = clients().intake.submission(g.key, submission_id, wait=8)
    if found is None:
        return render_template("error.html", status=404, title=_("Page not found"), detail=""), 404
    return render_template("account/submission.html", submission=found)

