"""The default sender, the outbox: a text is written and shown (on the case and in the text
message list) but never leaves the machine; ``send-sms`` says so, and Twilio's webhooks do
not exist. Also: the settings that choose and configure the provider."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.config import Settings, SettingsError
from portal.models import Role, SmsStatus
from tests.conftest import SETTINGS, csrf_token_from
from tests.portal.sms.standin import ACCOUNT_SID, messages, signed_post


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return SETTINGS.with_instance(str(tmp_path / "instance"))


def test_the_outbox_keeps_the_text_and_shows_it(
    client, db_session, login_as, make_case, make_user, twilio, runner
):
    case = make_case()
    admin = make_user(Role.ADMIN, email="admin@example.com")
    login_as(admin)
    page = client.get(f"/cases/{case.id}?lang=en").get_data(as_text=True)
    assert "No text message provider is set up" in page
    version = re.search(r'name="text-return-visit-version"[^>]*value="(\d+)"', page).group(1)
    answer = client.post(
        f"/cases/{case.id}/text/return-visit",
        data={"text-return-visit-version": version, "csrf_token": csrf_token_from(page)},
    )
    assert answer.status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "with no provider set up it stays in the list" in page
    assert "waiting to be sent" in page
    (message,) = messages(db_session)
    assert message.status == SmsStatus.QUEUED and message.attempts == 0

    listed = client.get("/text-messages").get_data(as_text=True)
    assert message.body in listed and "nothing leaves this machine" in listed

    result = runner.invoke(args=["send-sms"])
    assert result.exit_code == 0 and "0 sent (PORTAL_SMS_PROVIDER=outbox" in result.output
    assert messages(db_session)[0].status == SmsStatus.QUEUED
    assert twilio.requests == []


def test_twilios_webhooks_do_not_exist_without_twilio(client):
    form = {"From": "+8613800138000", "Body": "STOP", "AccountSid": ACCOUNT_SID}
    assert signed_post(client, "/sms/inbound/twilio", form).status_code == 404
    assert signed_post(client, "/sms/status/twilio", {"MessageSid": "SM1"}).status_code == 404


TWILIO_ENV = {
    "PORTAL_SMS_PROVIDER": "twilio",
    "PORTAL_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "PORTAL_TWILIO_AUTH_TOKEN": "auth-value-kept-secret",
    "PORTAL_TWILIO_FROM": "+15005550006",
}


def test_the_provider_defaults_to_the_outbox():
    settings = Settings.from_env({})
    assert settings.sms_provider == "outbox"
    assert settings.twilio_api_base == "https://api.twilio.com"
    assert (settings.sms_per_number_per_day, settings.sms_max_attempts) == (3, 5)


def test_twilio_settings_are_read_and_the_token_is_never_shown():
    settings = Settings.from_env(
        {
            **TWILIO_ENV,
            "PORTAL_TWILIO_API_BASE": "http://127.0.0.1:8099/",
            "PORTAL_SMS_PER_NUMBER_PER_DAY": "5",
        }
    )
    assert settings.sms_provider == "twilio" and settings.twilio_from == "+15005550006"
    assert settings.twilio_api_base == "http://127.0.0.1:8099"
    assert settings.sms_per_number_per_day == 5
    assert settings.twilio_auth_token == "auth-value-kept-secret"
    assert "auth-value-kept-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"PORTAL_SMS_PROVIDER": "aliyun"}, "PORTAL_SMS_PROVIDER"),
        ({"PORTAL_TWILIO_ACCOUNT_SID": "not-a-sid"}, "PORTAL_TWILIO_ACCOUNT_SID"),
        ({"PORTAL_TWILIO_AUTH_TOKEN": ""}, "PORTAL_TWILIO_AUTH_TOKEN"),
        ({"PORTAL_TWILIO_FROM": "13800138000"}, "PORTAL_TWILIO_FROM"),
        ({"PORTAL_TWILIO_API_BASE": "ftp://api.twilio.com"}, "PORTAL_TWILIO_API_BASE"),
        ({"PORTAL_TWILIO_API_BASE": "https://api.twilio.com/v1"}, "PORTAL_TWILIO_API_BASE"),
        ({"PORTAL_SMS_PER_NUMBER_PER_DAY": "-1"}, "PORTAL_SMS_PER_NUMBER_PER_DAY"),
        ({"PORTAL_SMS_MAX_ATTEMPTS": "0"}, "PORTAL_SMS_MAX_ATTEMPTS"),
    ],
)
def test_a_bad_sms_setting_stops_the_start_naming_it(change, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({**TWILIO_ENV, **change})


def test_production_talks_to_the_provider_over_https_only():
    production = {
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "Zq8xv2Lr5Tn0Pw7Ks4Hy1Cm9Bd6Fg3Jk",
        **TWILIO_ENV,
    }
    with pytest.raises(SettingsError, match="HTTPS"):
        Settings.from_env({**production, "PORTAL_TWILIO_API_BASE": "http://api.twilio.com"})
    assert Settings.from_env(production).twilio_api_base == "https://api.twilio.com"
