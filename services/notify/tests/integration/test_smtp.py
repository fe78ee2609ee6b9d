"""Notify's SMTP settings (issue 16.3) against a real SMTP server on loopback (aiosmtpd): the
host and port it is given, a login when a user is set, a clear error when none is configured."""
from __future__ import annotations

import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from shared.config import Settings
from services.notify.smtp import SmtpNotConfigured, open_smtp, smtp_check


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((session.authenticated, envelope.mail_from, envelope.rcpt_tos))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"zc-notify" and auth_data.password == b"s3cret-smtp-password"
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _settings(port: int, **env) -> Settings:
    return Settings.from_env("notify", {"ZEROCLEAR_SMTP_HOST": "127.0.0.1", "ZEROCLEAR_SMTP_PORT": str(port),
                                        "ZEROCLEAR_SMTP_SECURITY": "none", **env})


def test_notify_logs_in_with_the_user_and_password_file_it_is_given_and_sends(smtp_server, tmp_path):
    inbox, port = smtp_server
    (tmp_path / "smtp_password").write_text("s3cret-smtp-password\n")
    settings = _settings(port, ZEROCLEAR_SMTP_USER="zc-notify", ZEROCLEAR_SMTP_PASSWORD_FILE=str(tmp_path / "smtp_password"),
                         ZEROCLEAR_MAIL_FROM="noreply@example.gov.cn")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, "office@example.gov.cn", "督办提醒"
    message.set_content("逾期")
    with open_smtp(settings) as smtp:
        smtp.send_message(message)
    assert inbox.messages == [(True, "noreply@example.gov.cn", ["office@example.gov.cn"])]
    smtp_check(settings)()  # ready


def test_an_empty_smtp_host_means_none_is_configured_and_says_so():
    settings = Settings.from_env("notify", {"ZEROCLEAR_NOTIFY_SMTP_HOST": ""})
    assert settings.smtp_url == ""
    with pytest.raises(SmtpNotConfigured, match="ZEROCLEAR_NOTIFY_SMTP_HOST"):
        open_smtp(settings)
