"""Enrolling a tablet: the one-time code (once, for 24 hours, only its digest kept), the
credential cookie it gives (HttpOnly, SameSite=Strict, scoped to /kiosk, Secure over
HTTPS), wrong and expired codes, and a revoked tablet refused everywhere."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import create_app
from portal.audit import CLI
from portal.db import utcnow
from portal.kiosk.devices import ENROL_HOURS, revoke_kiosk
from portal.models import AuditEntry, Kiosk, Response
from surveys.codes import normalize_short_code
from tests.portal.kiosk.conftest import EN, enrol, page_version, queued, sync


def test_a_code_enrols_one_tablet_once_and_only_its_digest_is_kept(
    client, app, new_kiosk, db_session
):
    kiosk, code = new_kiosk()
    assert kiosk.enrol_code_hash == hashlib.sha256(normalize_short_code(code).encode()).hexdigest()
    assert code not in (kiosk.enrol_code_hash, kiosk.name)

    enrolled = enrol(client, code.lower(), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert enrolled.status_code == 302 and enrolled.headers["Location"].endswith("/kiosk/")
    cookie = enrolled.headers["Set-Cookie"]
    credential = cookie.split(";")[0].split("=", 1)[1]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/kiosk;" in cookie
    assert "Secure" not in cookie  # plain http in development
    db_session.refresh(kiosk)
    assert kiosk.credential_hash == hashlib.sha256(credential.encode()).hexdigest()
    assert kiosk.enrol_code_hash is None and kiosk.enrolled_at is not None
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "kiosk.enrol")).one()
    assert entry.details["address"] == "10.1.2.3" and entry.details["store"] == "SH-001"
    survey = client.get("/kiosk/", headers=EN)
    assert survey.status_code == 200 and "form" in survey.get_data(as_text=True)

    # The same code on a second tablet: refused, and the first tablet keeps working.
    other = app.test_client()
    again = enrol(other, code, headers=EN)
    assert again.status_code == 400
    assert "was used already or has expired" in again.get_data(as_text=True)
    assert other.get("/kiosk/").status_code == 302
    assert client.get("/kiosk/").status_code == 200


def test_an_expired_code_is_refused(client, new_kiosk, db_session):
    _kiosk, code = new_kiosk(now=utcnow() - timedelta(hours=ENROL_HOURS, minutes=1))
    response = enrol(client, code, headers=EN)
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)
    assert "kiosk_device" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("typed", ["", "ABCDE-FGHJ0-1", "00000-00000", "12345"])
def test_a_wrong_code_is_refused_with_a_message(client, new_kiosk, typed):
    new_kiosk()
    response = enrol(client, typed, headers=EN)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Type the enrolment code" in text or "This enrolment code is not right" in text
    assert client.get("/kiosk/").headers["Location"].endswith("/kiosk/enrol")


def test_guessing_codes_is_throttled(client, new_kiosk):
    new_kiosk()
    for _ in range(10):
        assert enrol(client, "00000-00000").status_code == 400
    assert enrol(client, "00000-00000").status_code == 429


def test_the_cookie_is_secure_over_https(connection, settings, new_kiosk):
    _kiosk, code = new_kiosk()
    app = create_app(replace(settings, base_url="https://portal.test"), bind=connection)
    client = app.test_client()
    enrolled = enrol(client, code, base_url="https://portal.test")
    assert enrolled.status_code == 302
    assert "Secure" in enrolled.headers["Set-Cookie"]


def test_without_a_credential_the_tablet_is_sent_to_enrol(client, store):
    assert client.get("/kiosk/").headers["Location"].endswith("/kiosk/enrol")
    assert client.get("/kiosk/sw.js").status_code == 401
    refused = sync(client, [])
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "kiosk_not_enrolled"
    client.set_cookie("kiosk_device", "ksk_forged", path="/kiosk")
    assert client.get("/kiosk/").headers["Location"].endswith("/kiosk/enrol")


def test_a_revoked_tablet_is_refused_everywhere_and_its_queue_too(client, kiosk, db_session):
    version = page_version(client)
    revoke_kiosk(db_session, kiosk, expected_version=None, actor=CLI, now=utcnow())
    db_session.flush()
    page = client.get("/kiosk/", headers=EN)
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "switched off in the admin console" in html
    # The kiosk's own layout: no way out of the kiosk.
    assert 'href="/' not in html.replace('href="/static/', "")
    assert client.get("/kiosk/sw.js").status_code == 403
    refused = sync(client, [queued(version)], headers=EN)
    assert refused.status_code == 403
    assert refused.get_json()["error"] == {
        "code": "kiosk_revoked",
        "message": "This tablet has been switched off in the admin console and takes no more "
        "answers.",
    }
    assert db_session.scalars(select(Response)).all() == []
    assert client.post("/kiosk/", data={"nps": "9", "csat": "5"}).status_code in (400, 403)


def test_a_new_code_moves_the_tablet_to_whoever_types_it(client, app, kiosk, db_session):
    from portal.kiosk.devices import issue_enrol_code

    code = issue_enrol_code(db_session, kiosk, expected_version=None, actor=CLI, now=utcnow())
    db_session.flush()
    # Until the new code is used, the enrolled tablet keeps working.
    assert client.get("/kiosk/").status_code == 200
    replacement = app.test_client()
    assert enrol(replacement, code).status_code == 302
    assert replacement.get("/kiosk/").status_code == 200
    assert client.get("/kiosk/").headers["Location"].endswith("/kiosk/enrol")
    assert db_session.scalars(select(Kiosk)).one().id == kiosk.id
