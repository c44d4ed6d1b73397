"""Production refuses a secret key an attacker could guess; development keeps its
generated key under the instance folder."""

from __future__ import annotations

import secrets

import pytest

from portal.config import SECRET_KEY_RECIPE, Settings, SettingsError
from tests.conftest import SECRET

WEAK = [
    "changeme",
    "secret",
    "dev",
    "development",
    "test",
    SECRET,  # the tests' own key
    "0123456789abcdef",  # 16 characters
    secrets.token_hex(8),  # 16 random characters: still too short
    "x" * 64,
    "ab" * 24,
    "correct-horse-" * 4,
    "changeme-please-in-production-2026!",
    "my-super-secret-production-key-for-the-portal",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb",
    "1111111111222222222233333333334444444444",
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
]


def _production(secret: str, tmp_path, **more: str) -> Settings:
    return Settings.from_env(
        {
            "PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": secret,
            "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
            "PORTAL_BASE_URL": "https://feedback.example.com",
            **more,
        }
    )


@pytest.mark.parametrize("secret", WEAK)
def test_production_refuses_a_weak_secret_key_and_says_how_to_make_one(secret, tmp_path):
    with pytest.raises(SettingsError) as refused:
        _production(secret, tmp_path)
    assert SECRET_KEY_RECIPE in str(refused.value)
    message = str(refused.value).replace(SECRET_KEY_RECIPE, "")
    assert len(secret) < 8 or secret not in message  # the error never echoes the key


def test_production_refuses_a_missing_secret_key(tmp_path):
    with pytest.raises(SettingsError, match="secrets.token_urlsafe"):
        Settings.from_env({"PORTAL_ENV": "production"})


def test_production_refuses_the_development_key_of_its_instance(tmp_path):
    development = Settings.from_env({"PORTAL_INSTANCE_PATH": str(tmp_path / "instance")})
    with pytest.raises(SettingsError, match="development key"):
        _production(development.secret_key, tmp_path)


@pytest.mark.parametrize("attempt", range(20))
def test_production_accepts_a_key_made_the_documented_way(attempt, tmp_path):
    key = secrets.token_urlsafe(32)
    assert _production(key, tmp_path).secret_key == key


def test_development_generates_and_keeps_its_own_key(tmp_path):
    first = Settings.from_env({"PORTAL_INSTANCE_PATH": str(tmp_path / "instance")})
    again = Settings.from_env({"PORTAL_INSTANCE_PATH": str(tmp_path / "instance")})
    assert len(first.secret_key) >= 32 and first.secret_key == again.secret_key


def test_allowed_hosts_default_to_the_base_url_host(tmp_path):
    key = secrets.token_urlsafe(32)
    assert _production(key, tmp_path).served_hosts == ("feedback.example.com",)
    configured = _production(key, tmp_path, PORTAL_ALLOWED_HOSTS="a.example.com, .example.cn")
    assert configured.served_hosts == ("a.example.com", ".example.cn")
    with pytest.raises(SettingsError, match="PORTAL_ALLOWED_HOSTS"):
        _production(key, tmp_path, PORTAL_ALLOWED_HOSTS="https://a.example.com/")


def test_trusted_proxies_is_a_small_whole_number(tmp_path):
    key = secrets.token_urlsafe(32)
    assert _production(key, tmp_path).trusted_proxies == 0
    assert _production(key, tmp_path, PORTAL_TRUSTED_PROXIES="2").trusted_proxies == 2
    with pytest.raises(SettingsError, match="PORTAL_TRUSTED_PROXIES"):
        _production(key, tmp_path, PORTAL_TRUSTED_PROXIES="-1")
