"""Notify's SMTP connection, as the settings say (issue 16.3): host and port, plain, STARTTLS or
TLS, an optional login; and a readiness check that reports an unreachable server without making
the API unready (alerts and circulars are recorded and retried meanwhile)."""
from __future__ import annotations

import smtplib
import ssl
from urllib.parse import urlsplit

from shared.config import Settings
from shared.health import cached_check

CHECK_EVERY = 30.0  # seconds between two real checks: readiness is asked every few seconds


class SmtpNotConfigured(RuntimeError):
    """No SMTP host is set (ZEROCLEAR_NOTIFY_SMTP_HOST is empty)."""


def open_smtp(settings: Settings, timeout: float = 10.0) -> smtplib.SMTP:
    """A connected (and, if configured, encrypted and logged-in) SMTP session; the caller closes it."""
    if not settings.smtp_url:
        raise SmtpNotConfigured("no SMTP server is configured (ZEROCLEAR_NOTIFY_SMTP_HOST)")
    where = urlsplit(settings.smtp_url)
    host, port = where.hostname or "127.0.0.1", where.port
    context = ssl.create_default_context()
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(host, port or 465, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port or (587 if settings.smtp_security == "starttls" else 25), timeout=timeout)
    try:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def smtp_check(settings: Settings):
    """A readiness check of the SMTP server (connect, EHLO, quit), remembered for ``CHECK_EVERY``."""
    return cached_check(lambda: open_smtp(settings, timeout=3.0).quit(), CHECK_EVERY)
