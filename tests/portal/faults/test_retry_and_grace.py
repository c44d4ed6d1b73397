"""Item 16: a submit whose answer was lost shows the same browser its code again (and only
that browser); a receipt that expires while its survey page is open is still accepted within
the grace period."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import portal.shopper.views as views
from portal import create_app
from portal.config import Settings, SettingsError
from portal.models import Response
from surveys.codes import read_validation_code
from surveys.tokens import sign_opened_stamp
from tests.conftest import SECRET, csrf_token_from

GOOD = {"nps": "9", "csat": "5", "comment": "很快"}


@pytest.fixture
def issued(make_store, make_staff, make_receipt):
    store = make_store("SH-001")
    return make_receipt(store, make_staff(store, "S001"))


def responses(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Response)) or 0


def code_on(html: str, response_id: int) -> bool:
    """The page shows the validation code of ``response_id``."""
    found = re.search(r'id="validation-code">([^<]+)<', html)
    return found is not None and read_validation_code(SECRET, found.group(1)) == response_id


def test_a_retry_from_the_browser_that_answered_shows_its_code_again(client, issued, db_session):
    url = f"/r/{issued.token}"
    body = {**GOOD, "csrf_token": csrf_token_from(client.get(url).get_data(as_text=True))}
    first = client.post(url, data=body)  # stored, but say the answer never arrived
    assert first.status_code == 200
    retry = client.post(url, data=body)  # the browser sends the same form again
    response = db_session.scalars(select(Response)).one()
    assert retry.status_code == 200
    assert code_on(retry.get_data(as_text=True), response.id)
    assert responses(db_session) == 1


def test_a_stranger_holding_the_receipt_gets_already_answered_not_the_code(
    app, client, issued, db_session
):
    url = f"/r/{issued.token}"
    body = {**GOOD, "csrf_token": csrf_token_from(client.get(url).get_data(as_text=True))}
    assert client.post(url, data=body).status_code == 200
    response = db_session.scalars(select(Response)).one()
    stranger = app.test_client()
    token = csrf_token_from(stranger.get("/r").get_data(as_text=True))
    page = stranger.post(url, data={**GOOD, "csrf_token": token})
    assert page.status_code == 409
    assert not code_on(page.get_data(as_text=True), response.id)
    # Nor with the shopper's own form body (a copied request without their cookie).
    copied = app.test_client().post(url, data=body)
    assert copied.status_code == 409
    assert not code_on(copied.get_data(as_text=True), response.id)


def _clock(monkeypatch: pytest.MonkeyPatch, at) -> None:
    monkeypatch.setattr(views, "utcnow", lambda: at)


def test_a_page_opened_before_expiry_may_be_sent_within_the_grace(
    client, issued, db_session, monkeypatch
):
    url, expires = f"/r/{issued.token}", issued.receipt.expires_at
    _clock(monkeypatch, expires - timedelta(minutes=5))
    form = client.get(url).get_data(as_text=True)
    _clock(monkeypatch, expires + timedelta(minutes=10))
    page = client.post(url, data={**GOOD, "csrf_token": csrf_token_from(form), **_opened(form)})
    assert page.status_code == 200
    assert code_on(page.get_data(as_text=True), db_session.scalars(select(Response.id)).one())


def test_past_the_grace_or_without_a_page_opened_in_time_the_link_is_closed(
    client, issued, db_session, monkeypatch
):
    url, expires = f"/r/{issued.token}", issued.receipt.expires_at
    _clock(monkeypatch, expires - timedelta(minutes=5))
    form = client.get(url).get_data(as_text=True)
    csrf = csrf_token_from(form)
    _clock(monkeypatch, expires + timedelta(minutes=16))
    assert client.post(url, data={**GOOD, "csrf_token": csrf, **_opened(form)}).status_code == 410
    _clock(monkeypatch, expires + timedelta(minutes=1))
    # No stamp, a stamp made after expiry, a stamp of another receipt: all closed.
    late = sign_opened_stamp(SECRET, issued.receipt.token_id, expires + timedelta(seconds=1))
    other = sign_opened_stamp(SECRET, "another-receipt", expires - timedelta(minutes=5))
    for opened in ({}, {"opened": late}, {"opened": other}, {"opened": "forged.stamp"}):
        assert client.post(url, data={**GOOD, "csrf_token": csrf, **opened}).status_code == 410
    # The survey page itself is closed at expiry: the grace is for sending only.
    assert client.get(url).status_code == 410
    assert responses(db_session) == 0


def _opened(html: str) -> dict[str, str]:
    match = re.search(r'name="opened" value="([^"]+)"', html)
    assert match, "the survey page carries no opened-at stamp"
    return {"opened": match.group(1)}


def test_the_grace_is_a_setting_and_zero_turns_it_off(
    make_store, make_staff, make_receipt, settings, connection, monkeypatch
):
    env = {"PORTAL_SECRET_KEY": SECRET}
    assert Settings.from_env({**env, "PORTAL_EXPIRY_GRACE_MINUTES": "0"}).expiry_grace_minutes == 0
    assert Settings.from_env(env).expiry_grace_minutes == 15
    for wrong in ("-1", "121", "15.5", "fifteen"):
        with pytest.raises(SettingsError):
            Settings.from_env({**env, "PORTAL_EXPIRY_GRACE_MINUTES": wrong})
    store = make_store("SH-009")
    issued = make_receipt(store, make_staff(store, "S009"))
    app = create_app(replace(settings, expiry_grace_minutes=0), bind=connection)
    client = app.test_client()
    url, expires = f"/r/{issued.token}", issued.receipt.expires_at
    _clock(monkeypatch, expires - timedelta(minutes=5))
    form = client.get(url).get_data(as_text=True)
    _clock(monkeypatch, expires + timedelta(minutes=1))
    data = {**GOOD, "csrf_token": csrf_token_from(form), **_opened(form)}
    assert client.post(url, data=data).status_code == 410
