"""Settings come from the environment with one prefix; a missing or malformed one stops the
app at start-up with one line naming it."""
from __future__ import annotations

import os

import pytest

from app.config import ConfigurationError, settings_from_environment


@pytest.fixture
def clean_environment(monkeypatch):
    for name in [*(key for key in os.environ if key.startswith("LAGESBILD_")),
                 "DATABASE_URL", "SECRET_KEY"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _witness_settings(environment, tmp_path) -> None:
    environment.setenv("LAGESBILD_WITNESS_PATH", str(tmp_path / "witness.jsonl"))
    environment.setenv("LAGESBILD_WITNESS_KEY", str(tmp_path / "witness-key.pem"))


def test_development_defaults_to_a_local_database_and_a_generated_key(clean_environment,
                                                                      tmp_path):
    settings = settings_from_environment(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'lagesbild.sqlite'}"
    key = (tmp_path / "secret_key").read_text().strip()
    assert settings["SECRET_KEY"] == key and len(key) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # owner only
    assert settings["SESSION_COOKIE_SECURE"] is False and settings["TRUSTED_PROXIES"] == 0
    assert settings_from_environment(str(tmp_path))["SECRET_KEY"] == key  # kept


def test_production_needs_the_secret_key_and_sends_cookies_over_https_only(clean_environment,
                                                                           tmp_path):
    clean_environment.setenv("LAGESBILD_ENV", "production")
    with pytest.raises(ConfigurationError, match="LAGESBILD_SECRET_KEY must be set"):
        settings_from_environment(str(tmp_path))
    assert not (tmp_path / "secret_key").exists()
    clean_environment.setenv("LAGESBILD_SECRET_KEY", "k" * 40)
    with pytest.raises(ConfigurationError, match="LAGESBILD_WITNESS_PATH and "
                                                 "LAGESBILD_WITNESS_KEY must be set"):
        settings_from_environment(str(tmp_path))
    _witness_settings(clean_environment, tmp_path)
    clean_environment.setenv("LAGESBILD_DATABASE_URL", "postgresql+psycopg://app@db/lagesbild")
    clean_environment.setenv("LAGESBILD_TRUSTED_PROXIES", "1")
    settings = settings_from_environment(str(tmp_path))
    assert settings["SECRET_KEY"] == "k" * 40
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app@db/lagesbild"
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    assert settings["TRUSTED_PROXIES"] == 1 and settings["PREFERRED_URL_SCHEME"] == "https"


def test_the_unprefixed_names_still_work_and_the_prefixed_ones_win(clean_environment, tmp_path):
    clean_environment.setenv("DATABASE_URL", "sqlite:///old.sqlite")
    clean_environment.setenv("SECRET_KEY", "old")
    settings = settings_from_environment(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:///old.sqlite"
    assert settings["SECRET_KEY"] == "old"
    clean_environment.setenv("LAGESBILD_SECRET_KEY", "new")
    assert settings_from_environment(str(tmp_path))["SECRET_KEY"] == "new"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("LAGESBILD_ENV", "staging", "LAGESBILD_ENV must be production or development"),
    ("LAGESBILD_HTTPS", "maybe", "LAGESBILD_HTTPS must be 1 or 0, not 'maybe'"),
    ("LAGESBILD_TRUSTED_PROXIES", "two", "LAGESBILD_TRUSTED_PROXIES must be a whole number"),
    ("LAGESBILD_TRUSTED_PROXIES", "-1", "LAGESBILD_TRUSTED_PROXIES must be a whole number"),
    ("LAGESBILD_TRUSTED_PROXIES", "99", "LAGESBILD_TRUSTED_PROXIES must be a whole number"),
    ("LAGESBILD_LOGIN_LIMIT_PER_ACCOUNT", "ten", "must read like '10 per 15 minutes'"),
    ("LAGESBILD_LOGIN_LIMIT_PER_ADDRESS", "50 per fortnight", "must read like"),
    ("LAGESBILD_RATELIMIT_STORAGE_URL", "127.0.0.1:6379",
     "LAGESBILD_RATELIMIT_STORAGE_URL must be memory:// or redis://"),
    ("LAGESBILD_RATELIMIT_STORAGE_URL", "mongodb://db", "must be memory:// or redis://"),
    ("LAGESBILD_EXTERNAL_URL", "lagesbild.stad.se", "LAGESBILD_EXTERNAL_URL must be the app's"),
    ("LAGESBILD_REMIND_DAYS_BEFORE", "3,x", "must list days from 1 to 60"),
    ("LAGESBILD_REMIND_DAYS_BEFORE", "0", "must list days from 1 to 60"),
    ("LAGESBILD_MAX_UPLOAD_MB", "²", "LAGESBILD_MAX_UPLOAD_MB must be a whole number from 1"),
    ("LAGESBILD_MAX_UPLOAD_MB", "0", "LAGESBILD_MAX_UPLOAD_MB must be a whole number from 1"),
])
def test_a_malformed_setting_is_named(clean_environment, tmp_path, name, value, message):
    clean_environment.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        settings_from_environment(str(tmp_path))


def test_https_can_be_switched_off_behind_a_plain_http_proxy(clean_environment, tmp_path):
    clean_environment.setenv("LAGESBILD_ENV", "production")
    clean_environment.setenv("LAGESBILD_SECRET_KEY", "k" * 40)
    clean_environment.setenv("LAGESBILD_HTTPS", "0")
    _witness_settings(clean_environment, tmp_path)
    assert settings_from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is False


def test_login_limits_and_their_store_default_to_one_process_and_can_be_shared(
        clean_environment, tmp_path):
    settings = settings_from_environment(str(tmp_path))
    assert settings["LOGIN_LIMIT_PER_ACCOUNT"] == "10 per 15 minutes"
    assert settings["LOGIN_LIMIT_PER_ADDRESS"] == "50 per 15 minutes"
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    clean_environment.setenv("LAGESBILD_RATELIMIT_STORAGE_URL", "redis://cache.example.se:6379/2")
    clean_environment.setenv("LAGESBILD_LOGIN_LIMIT_PER_ACCOUNT", "5 per hour")
    settings = settings_from_environment(str(tmp_path))
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache.example.se:6379/2"
    assert settings["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per hour"


def test_mail_settings_default_to_an_outbox_that_only_fills(clean_environment, tmp_path):
    settings = settings_from_environment(str(tmp_path))
    assert settings["SMTP_HOST"] is None and settings["SMTP_PORT"] == 25
    assert settings["SMTP_STARTTLS"] is False
    assert settings["EXTERNAL_URL"] == "http://127.0.0.1:5000"
    clean_environment.setenv("LAGESBILD_ENV", "production")
    clean_environment.setenv("LAGESBILD_SECRET_KEY", "k" * 40)
    _witness_settings(clean_environment, tmp_path)
    clean_environment.setenv("LAGESBILD_SMTP_HOST", "smtp.stad.se")
    clean_environment.setenv("LAGESBILD_SMTP_PORT", "587")
    clean_environment.setenv("LAGESBILD_EXTERNAL_URL", "https://lagesbild.stad.se")
    settings = settings_from_environment(str(tmp_path))
    assert (settings["SMTP_HOST"], settings["SMTP_PORT"]) == ("smtp.stad.se", 587)
    assert settings["SMTP_STARTTLS"] is True  # in production unless switched off
    assert settings["EXTERNAL_URL"] == "https://lagesbild.stad.se"
    clean_environment.setenv("LAGESBILD_SMTP_PORT", "smtp")
    with pytest.raises(ConfigurationError, match="LAGESBILD_SMTP_PORT must be a whole number"):
        settings_from_environment(str(tmp_path))


def test_request_bodies_are_limited_to_the_largest_upload_and_its_form(clean_environment,
                                                                       tmp_path):
    settings = settings_from_environment(str(tmp_path))
    assert settings["MAX_UPLOAD_BYTES"] == 10 * 2**20  # the document import's own limit
    assert settings["MAX_CONTENT_LENGTH"] == 11 * 2**20
    clean_environment.setenv("LAGESBILD_MAX_UPLOAD_MB", "2")
    assert settings_from_environment(str(tmp_path))["MAX_CONTENT_LENGTH"] == 3 * 2**20


def test_the_identity_provider_is_off_by_default_and_local_passwords_on(clean_environment,
                                                                         tmp_path):
    settings = settings_from_environment(str(tmp_path))
    assert settings["OIDC_ISSUER"] is None and settings["LOCAL_PASSWORDS"] is True


def test_the_identity_provider_settings(clean_environment, tmp_path):
    for name, value in {"OIDC_ISSUER": "https://login.example.se/tenant/v2.0",
                        "OIDC_CLIENT_ID": "lagesbild", "OIDC_CLIENT_SECRET": "s3cret",
                        "OIDC_SCOPES": "openid,email", "LOCAL_PASSWORDS": "0",
                        "ADMIN_CONTACT": "Servicedesk"}.items():
        clean_environment.setenv(f"LAGESBILD_{name}", value)
    settings = settings_from_environment(str(tmp_path))
    assert settings["OIDC_SCOPES"] == "openid email"
    assert settings["OIDC_GROUPS_CLAIM"] == "groups"
    assert settings["OIDC_PROVIDER_NAME"] == "login.example.se"
    assert settings["OIDC_LINK_BY_EMAIL"] is False and settings["LOCAL_PASSWORDS"] is False
    assert settings["ADMIN_CONTACT"] == "Servicedesk"


@pytest.mark.parametrize(("variables", "message"), [
    ({"OIDC_ISSUER": "login.example.se"}, "LAGESBILD_OIDC_ISSUER must be the provider's"),
    ({"OIDC_ISSUER": "https://login.example.se"}, "LAGESBILD_OIDC_CLIENT_ID and "),
    ({"OIDC_ISSUER": "https://login.example.se", "OIDC_CLIENT_ID": "x",
      "OIDC_CLIENT_SECRET": "y", "OIDC_SCOPES": "email"}, "must include openid"),
    ({"LOCAL_PASSWORDS": "0"}, "LAGESBILD_LOCAL_PASSWORDS=0 needs LAGESBILD_OIDC_ISSUER"),
    ({"LOCAL_PASSWORDS": "nej"}, "LAGESBILD_LOCAL_PASSWORDS must be 1 or 0"),
])
def test_malformed_identity_provider_settings_are_named(clean_environment, tmp_path,
                                                        variables, message):
    for name, value in variables.items():
        clean_environment.setenv(f"LAGESBILD_{name}", value)
    with pytest.raises(ConfigurationError, match=message):
        settings_from_environment(str(tmp_path))
