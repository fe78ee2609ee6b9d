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
])
def test_an_unusable_value_is_refused_naming_the_variable(env, named):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env("intake", env)
    assert named in str(refused.value)


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
