"""Settings from the environment: the service's own variable wins over the shared one, which
wins over the default; an unusable value is refused naming the variable."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import DEFAULT_PORTS, MEMORY_BROKER, Settings, SettingsError


def test_with_an_empty_environment_every_service_runs_embedded_in_one_data_folder(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path)}
    for service, port in DEFAULT_PORTS.items():
        settings = Settings.from_env(service, env)
        assert settings.data_dir == tmp_path / "zeroclear"
        assert settings.database_url == f"sqlite:///{tmp_path / 'zeroclear' / (service + '.db')}"
        assert settings.auth_database_url == f"sqlite:///{tmp_path / 'zeroclear' / 'keys.db'}"
        assert settings.broker_url == MEMORY_BROKER and settings.embedded_broker
        assert (settings.host, settings.port) == ("127.0.0.1", port)
        assert settings.ledger_url == "http://127.0.0.1:8002"
        assert (settings.mode, settings.batch_size, settings.service_key) == ("embedded", 500, None)


def test_a_service_variable_beats_the_shared_variable_which_beats_the_default():
    env = {"ZEROCLEAR_BATCH_SIZE": "200", "ZEROCLEAR_INTAKE_BATCH_SIZE": "50",
           "ZEROCLEAR_BROKER_URL": "amqp://shared//", "ZEROCLEAR_LEDGER_BROKER_URL": "amqp://ledger-only//"}
    intake = Settings.from_env("intake", env)
    ledger = Settings.from_env("ledger", env)
    notify = Settings.from_env("notify", env)
    assert (intake.batch_size, ledger.batch_size, notify.batch_size) == (50, 200, 200)
    assert (intake.broker_url, ledger.broker_url, notify.broker_url) == ("amqp://shared//", "amqp://ledger-only//", "amqp://shared//")
    assert Settings.from_env("assessment", {}).batch_size == 500
    assert not intake.embedded_broker


def test_an_empty_service_variable_still_counts_as_set():
    env = {"ZEROCLEAR_SERVICE_KEY": "shared-key", "ZEROCLEAR_NOTIFY_SERVICE_KEY": ""}
    assert Settings.from_env("notify", env).service_key is None
    assert Settings.from_env("intake", env).service_key == "shared-key"


def test_the_data_folder_setting_moves_every_default_database(tmp_path):
    env = {"ZEROCLEAR_DATA_DIR": str(tmp_path / "d"), "ZEROCLEAR_LEDGER_DATABASE_URL": "postgresql://db/ledger"}
    assert Settings.from_env("intake", env).database_url == f"sqlite:///{tmp_path / 'd' / 'intake.db'}"
    assert Settings.from_env("ledger", env).database_url == "postgresql://db/ledger"
    assert Settings.from_env("ledger", env).data_dir == Path(tmp_path / "d")


def test_the_other_services_find_the_ledger_on_its_port_and_a_given_url_loses_its_trailing_slash():
    assert Settings.from_env("intake", {"ZEROCLEAR_LEDGER_PORT": "9102"}).ledger_url == "http://127.0.0.1:9102"
    assert Settings.from_env("ledger", {"ZEROCLEAR_LEDGER_PORT": "9102"}).port == 9102
    assert Settings.from_env("intake", {"ZEROCLEAR_LEDGER_URL": "http://ledger:8002/"}).ledger_url == "http://ledger:8002"


def test_overrides_given_in_code_win_over_the_environment():
    assert Settings.from_env("intake", {"ZEROCLEAR_INTAKE_PORT": "1"}, port=0).port == 0


@pytest.mark.parametrize("env, named", [
    ({"ZEROCLEAR_INTAKE_BATCH_SIZE": "many"}, "ZEROCLEAR_INTAKE_BATCH_SIZE"),
    ({"ZEROCLEAR_BATCH_SIZE": "5.5"}, "ZEROCLEAR_BATCH_SIZE"),
    ({"ZEROCLEAR_BATCH_SIZE": "10", "ZEROCLEAR_INTAKE_PORT": ""}, "ZEROCLEAR_INTAKE_PORT"),
    ({"ZEROCLEAR_MAX_BODY_BYTES": "2MB"}, "ZEROCLEAR_MAX_BODY_BYTES"),
    ({"ZEROCLEAR_LEDGER_PORT": "eight"}, "ZEROCLEAR_LEDGER_PORT"),
    ({"ZEROCLEAR_INTAKE_MODE": "turbo"}, "ZEROCLEAR_INTAKE_MODE"),
    ({"ZEROCLEAR_INTAKE_API_NICE": "20"}, "ZEROCLEAR_INTAKE_API_NICE"),
    ({"ZEROCLEAR_API_NICE": "-5"}, "ZEROCLEAR_API_NICE"),
])
def test_an_unusable_value_is_refused_naming_the_variable(env, named):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env("intake", env)
    assert named in str(refused.value)


def test_only_the_ledgers_api_which_only_reads_runs_at_a_lower_cpu_priority_unless_told_otherwise():
    assert {service: Settings.from_env(service, {}).api_nice for service in DEFAULT_PORTS} == {
        "intake": 0, "ledger": 19, "assessment": 0, "notify": 0, "portal": 0}
    env = {"ZEROCLEAR_API_NICE": "5", "ZEROCLEAR_LEDGER_API_NICE": "0"}
    assert (Settings.from_env("portal", env).api_nice, Settings.from_env("ledger", env).api_nice) == (5, 0)


def test_an_unknown_service_is_refused():
    with pytest.raises(SettingsError, match="unknown service"):
        Settings.from_env("billing", {})


def test_settings_are_frozen():
    settings = Settings.from_env("intake", {})
    with pytest.raises(AttributeError):
        settings.port = 1


def test_trusted_proxies_are_addresses_or_blocks_and_anything_else_is_named():
    settings = Settings.from_env("intake", {"ZEROCLEAR_INTAKE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
    assert Settings.from_env("intake", {}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="ZEROCLEAR_INTAKE_TRUSTED_PROXIES"):
        Settings.from_env("intake", {"ZEROCLEAR_INTAKE_TRUSTED_PROXIES": "localhost"})


def test_the_portal_finds_each_service_on_its_port_or_at_its_url():
    settings = Settings.from_env("portal", {"ZEROCLEAR_NOTIFY_URL": "http://notify:8004/", "ZEROCLEAR_INTAKE_PORT": "9001"})
    assert settings.port == 8000
    assert settings.service_urls == {"intake": "http://127.0.0.1:9001", "ledger": "http://127.0.0.1:8002",
                                     "assessment": "http://127.0.0.1:8003", "notify": "http://notify:8004"}


# -- secrets ---------------------------------------------------------------------------------

STRONG = "s3cret-Of-Thirty-Two-Characters-x"


def test_a_secret_may_come_from_a_file_named_by_its_FILE_variable(tmp_path):
    (tmp_path / "key").write_text("k" * 40 + "\n")
    (tmp_path / "db").write_text("pg-password-from-a-file")
    env = {"ZEROCLEAR_SERVICE_KEY_FILE": str(tmp_path / "key"),
           "ZEROCLEAR_LEDGER_DATABASE_URL": "postgresql://zc_ledger@db:5432/ledger",
           "ZEROCLEAR_AUTH_DATABASE_URL": "postgresql://zc_ledger@db:5432/keys",
           "ZEROCLEAR_LEDGER_DATABASE_PASSWORD_FILE": str(tmp_path / "db")}
    settings = Settings.from_env("ledger", env)
    assert settings.service_key == "k" * 40  # one trailing line break is not part of it
    assert settings.database_url == "postgresql://zc_ledger:pg-password-from-a-file@db:5432/ledger"
    assert settings.auth_database_url == "postgresql://zc_ledger:pg-password-from-a-file@db:5432/keys"
    assert "pg-password" not in repr(settings) and "k" * 40 not in repr(settings)


def test_a_password_with_url_characters_is_quoted_into_the_url_and_a_url_keeps_its_own(tmp_path):
    env = {"ZEROCLEAR_BROKER_URL": "amqp://zc-intake@mq:5672/zeroclear", "ZEROCLEAR_BROKER_PASSWORD": "a/b@c:d%"}
    assert Settings.from_env("intake", env).broker_url == "amqp://zc-intake:a%2Fb%40c%3Ad%25@mq:5672/zeroclear"
    env["ZEROCLEAR_BROKER_URL"] = "amqp://zc-intake:inline@mq:5672/zeroclear"
    assert Settings.from_env("intake", env).broker_url == "amqp://zc-intake:inline@mq:5672/zeroclear"


@pytest.mark.parametrize("env, named", [
    ({"ZEROCLEAR_SERVICE_KEY": "x", "ZEROCLEAR_SERVICE_KEY_FILE": "/dev/null"}, "ZEROCLEAR_SERVICE_KEY_FILE"),
    ({"ZEROCLEAR_INTAKE_DATABASE_PASSWORD_FILE": "/nonexistent/secret"}, "ZEROCLEAR_INTAKE_DATABASE_PASSWORD_FILE"),
])
def test_a_secret_file_that_cannot_be_used_is_refused_naming_its_variable(env, named):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env("intake", env)
    assert named in str(refused.value)


def _production(**extra) -> dict:
    return {"ZEROCLEAR_MODE": "production", "ZEROCLEAR_SERVICE_KEY": STRONG,
            "ZEROCLEAR_DATABASE_URL": f"postgresql://zc:{STRONG}@db/x", "ZEROCLEAR_AUTH_DATABASE_URL": f"postgresql://zc:{STRONG}@db/k",
            "ZEROCLEAR_BROKER_URL": f"amqp://zc-intake:{STRONG}@mq//",
            "ZEROCLEAR_INBOX_SENDERS": "intake:zc-intake", **extra}


def test_production_runs_with_real_secrets():
    for service in ("intake", "ledger"):
        assert Settings.from_env(service, _production()).mode == "production"


@pytest.mark.parametrize("change, named", [
    ({"ZEROCLEAR_SERVICE_KEY": "replace-me-with-a-long-random-secret"}, "ZEROCLEAR_SERVICE_KEY"),
    ({"ZEROCLEAR_SERVICE_KEY": "short"}, "ZEROCLEAR_SERVICE_KEY"),
    ({"ZEROCLEAR_DATABASE_URL": "postgresql://zeroclear:zeroclear@db/x"}, "ZEROCLEAR_DATABASE_URL"),
    ({"ZEROCLEAR_INTAKE_AUTH_DATABASE_URL": "postgresql://zc:postgres@db/k"}, "ZEROCLEAR_INTAKE_AUTH_DATABASE_URL"),
    ({"ZEROCLEAR_BROKER_URL": "amqp://guest:guest@mq//"}, "ZEROCLEAR_BROKER_URL"),
    ({"ZEROCLEAR_BROKER_URL": "amqp://mq//"}, "ZEROCLEAR_BROKER_URL"),  # names nobody: guest/guest
    ({"ZEROCLEAR_BROKER_URL": "amqp://zc-intake@mq//", "ZEROCLEAR_BROKER_PASSWORD": "zeroclear"}, "ZEROCLEAR_BROKER_URL"),
])
def test_production_refuses_placeholders_and_default_passwords_naming_the_variable(change, named):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env("intake", _production(**change))
    assert named in str(refused.value) and "production" in str(refused.value)
    assert "zeroclear:zeroclear" not in str(refused.value)
    Settings.from_env("intake", {**_production(**change), "ZEROCLEAR_MODE": "embedded"})  # only production refuses


def test_the_ledger_in_production_on_rabbitmq_must_know_who_may_send_each_producers_filings():
    env = _production()
    del env["ZEROCLEAR_INBOX_SENDERS"]
    with pytest.raises(SettingsError, match="ZEROCLEAR_LEDGER_INBOX_SENDERS"):
        Settings.from_env("ledger", env)
    senders = Settings.from_env("ledger", {**env, "ZEROCLEAR_LEDGER_INBOX_SENDERS": "intake:zc-intake, notify:zc-notify"})
    assert senders.inbox_senders == {"intake": "zc-intake", "notify": "zc-notify"}
    with pytest.raises(SettingsError, match="producer:user"):
        Settings.from_env("ledger", {"ZEROCLEAR_LEDGER_INBOX_SENDERS": "intake"})


def test_smtp_host_and_port_win_over_the_smtp_url_and_the_other_smtp_settings_are_read():
    env = {"ZEROCLEAR_NOTIFY_SMTP_URL": "smtp://old:2525", "ZEROCLEAR_SMTP_HOST": "mail.example.gov.cn",
           "ZEROCLEAR_SMTP_PORT": "587", "ZEROCLEAR_SMTP_SECURITY": "starttls", "ZEROCLEAR_SMTP_USER": "zc",
           "ZEROCLEAR_SMTP_PASSWORD": "pw", "ZEROCLEAR_MAIL_FROM": "noreply@example.gov.cn"}
    s = Settings.from_env("notify", env)
    assert (s.smtp_url, s.smtp_security, s.smtp_user, s.smtp_password, s.mail_from) == (
        "smtp://mail.example.gov.cn:587", "starttls", "zc", "pw", "noreply@example.gov.cn")
    assert Settings.from_env("notify", {"ZEROCLEAR_SMTP_URL": "smtp://old:2525"}).smtp_url == "smtp://old:2525"
    with pytest.raises(SettingsError, match="ZEROCLEAR_SMTP_SECURITY"):
        Settings.from_env("notify", {"ZEROCLEAR_SMTP_SECURITY": "ssl3"})


def test_the_operators_command_line_reads_production_settings_the_services_would_refuse():
    env = {"ZEROCLEAR_MODE": "production", "ZEROCLEAR_BROKER_URL": "amqp://guest:guest@mq//"}
    assert Settings.from_env("cli", env).mode == "production"  # e.g. to say that the clock does not move
    with pytest.raises(SettingsError):
        Settings.from_env("intake", env)
