"""The metrics API's optional ``channel`` arguments: absent, every channel (the body as it
always was); given, the figures of those channels; an unknown one, a 400 in JSON."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.api_tokens.operations import create_api_token
from portal.audit import CLI
from portal.db import utcnow
from portal.models import Role


@pytest.fixture
def token(db_session, make_store, answer, make_user):
    store = make_store("SH-001")
    when = utcnow() - timedelta(days=1)
    for _ in range(3):
        answer(store, "receipt", nps=10, csat=5, now=when)
    answer(store, "code", nps=8, csat=4, now=when)
    answer(store, "phone", nps=0, csat=1, now=when)
    return create_api_token(db_session, make_user(Role.ADMIN), actor=CLI, now=utcnow()).secret


def summary(client, token, query=""):
    return client.get(
        f"/api/v1/metrics/summary?store=SH-001{query}",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_without_channels_every_channel_counts_as_before(client, token):
    body = summary(client, token).get_json()
    assert (body["n"], body["promoters"], body["passives"], body["detractors"]) == (5, 3, 1, 1)
    assert "channels" not in body


def test_channels_limit_the_figures(client, token):
    body = summary(client, token, "&channel=receipt&channel=code").get_json()
    assert (body["n"], body["promoters"], body["passives"], body["detractors"]) == (4, 3, 1, 0)
    assert body["nps"] == 75.0 and body["channels"] == ["receipt", "code"]
    # Comma-separated works too.
    assert summary(client, token, "&channel=phone,code").get_json()["n"] == 2
    phone = summary(client, token, "&channel=phone").get_json()
    assert (phone["n"], phone["nps"], phone["csat"]) == (1, -100.0, 0.0)


def test_an_unknown_channel_is_a_400_in_json(client, token):
    response = summary(client, token, "&channel=receipt&channel=fax")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "unknown_channel" and error["field"] == "channel"
    assert "'fax'" in error["message"] and "receipt, code, kiosk, paper, phone" in error["message"]
