"""Tablets in the admin console: added with a code shown once, listed with their state and
last contact, renamed and switched off with the version the page showed (of two admins,
the second is told), given a new code; every action audited; region managers only read."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import AuditEntry, Kiosk, Role
from tests.conftest import csrf_token_from, post_form
from tests.portal.kiosk.conftest import EN, enrol


@pytest.fixture
def admin(make_user, login_as):
    user = make_user(Role.ADMIN)
    login_as(user)
    return user


def code_on(html: str) -> str:
    return re.search(r'id="enrol-code">([^<]+)<', html)[1]


def actions(db_session) -> list[str]:
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "kiosk"))
    return [entry.action for entry in entries]


def test_an_admin_adds_a_tablet_and_sees_its_code_once(client, app, admin, store, db_session):
    created = post_form(
        client, "/admin/kiosks", {"store": "SH-001", "name": " 收银台 1 "}, headers=EN
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    code = code_on(html)
    assert "http://portal.test/kiosk/enrol" in html and "will not be shown again" in html
    kiosk = db_session.scalars(select(Kiosk)).one()
    assert kiosk.name == "收银台 1" and kiosk.store_id == store.id
    assert kiosk.created_by_user_id == admin.id
    listed = client.get("/admin/kiosks", headers=EN).get_data(as_text=True)
    assert "收银台 1" in listed and "waiting to be enrolled" in listed and code not in listed
    assert code not in client.get(f"/admin/kiosks/{kiosk.id}").get_data(as_text=True)
    # The code works on a tablet.
    tablet = app.test_client()
    assert enrol(tablet, code).status_code == 302
    listed = client.get("/admin/kiosks", headers=EN).get_data(as_text=True)
    assert "enrolled" in listed and "waiting to be enrolled" not in listed
    assert actions(db_session) == ["kiosk.create", "kiosk.enrol"]
    audit = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "Counter tablet enrolled" in audit and "a counter tablet" in audit


def test_a_tablet_needs_a_name_and_an_open_store(client, admin, store, make_store, now, db_session):
    empty = post_form(client, "/admin/kiosks", {"store": "SH-001", "name": "  "}, headers=EN)
    assert empty.status_code == 400 and "Give the tablet a name" in empty.get_data(as_text=True)
    make_store("SH-009", closed_at=now)
    closed = post_form(client, "/admin/kiosks", {"store": "SH-009", "name": "1"}, headers=EN)
    assert closed.status_code == 400  # a closed store is not among the choices
    assert db_session.scalars(select(Kiosk)).all() == []


def _device_form(client, kiosk_id: int, form_action: str) -> dict[str, str]:
    html = client.get(f"/admin/kiosks/{kiosk_id}").get_data(as_text=True)
    form = html[html.index(f'action="/admin/kiosks/{kiosk_id}/{form_action}"') :]
    version = re.search(r'name="version"[^>]*value="(\d+)"', form)[1]
    return {"csrf_token": csrf_token_from(html), "version": version}


def test_of_two_admins_renaming_at_once_the_second_is_told(client, admin, new_kiosk, db_session):
    kiosk, _code = new_kiosk()
    first = _device_form(client, kiosk.id, "rename")
    second = dict(first)
    renamed = client.post(f"/admin/kiosks/{kiosk.id}/rename", data={**first, "name": "入口"})
    assert renamed.status_code == 302
    refused = client.post(
        f"/admin/kiosks/{kiosk.id}/rename", data={**second, "name": "出口"}, headers=EN
    )
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "This changed while you were looking at it" in html
    db_session.refresh(kiosk)
    assert kiosk.name == "入口"
    # The page now carries the current version: sending again applies.
    again = client.post(
        f"/admin/kiosks/{kiosk.id}/rename",
        data={**_device_form(client, kiosk.id, "rename"), "name": "出口"},
    )
    assert again.status_code == 302
    db_session.refresh(kiosk)
    assert kiosk.name == "出口"
    assert actions(db_session) == ["kiosk.create", "kiosk.rename", "kiosk.rename"]
    audit = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "Counter tablet renamed" in audit and "Name before: <bdi>入口</bdi>" in audit


def test_a_rename_after_the_tablet_synced_still_applies(client, app, admin, new_kiosk, db_session):
    kiosk, code = new_kiosk()
    tablet = app.test_client()
    enrol(tablet, code)
    form = _device_form(client, kiosk.id, "rename")
    response = tablet.post(
        "/kiosk/api/answers", json={"answers": []}, headers={"X-Kiosk-Sync": "1"}
    )
    assert response.status_code == 200
    renamed = client.post(f"/admin/kiosks/{kiosk.id}/rename", data={**form, "name": "入口"})
    assert renamed.status_code == 302


def test_revoking_needs_the_current_version_and_stops_the_tablet(
    client, app, admin, new_kiosk, db_session
):
    kiosk, code = new_kiosk()
    tablet = app.test_client()
    form = _device_form(client, kiosk.id, "revoke")
    enrol(tablet, code)  # the tablet enrols meanwhile: the page's version is old
    stale = client.post(f"/admin/kiosks/{kiosk.id}/revoke", data=form, headers=EN)
    assert stale.status_code == 409
    assert tablet.get("/kiosk/").status_code == 200
    revoked = client.post(
        f"/admin/kiosks/{kiosk.id}/revoke", data=_device_form(client, kiosk.id, "revoke")
    )
    assert revoked.status_code == 302
    assert tablet.get("/kiosk/").status_code == 403
    page = client.get(f"/admin/kiosks/{kiosk.id}", headers=EN).get_data(as_text=True)
    assert "switched off" in page
    assert f"/admin/kiosks/{kiosk.id}/revoke" not in page
    assert f"/admin/kiosks/{kiosk.id}/code" not in page
    assert actions(db_session) == ["kiosk.create", "kiosk.enrol", "kiosk.revoke"]


def test_a_new_code_is_shown_once_and_the_old_one_stops(client, app, admin, new_kiosk, db_session):
    kiosk, old_code = new_kiosk()
    form = _device_form(client, kiosk.id, "code")
    made = client.post(f"/admin/kiosks/{kiosk.id}/code", data=form)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    new_code = code_on(made.get_data(as_text=True))
    tablet = app.test_client()
    assert enrol(tablet, old_code).status_code == 400
    assert enrol(tablet, new_code).status_code == 302
    assert actions(db_session) == ["kiosk.create", "kiosk.code", "kiosk.enrol"]


def test_a_region_manager_reads_but_changes_nothing(
    client, make_user, login_as, new_kiosk, make_store, db_session
):
    kiosk, _code = new_kiosk()
    elsewhere, _ = new_kiosk(name="北京的平板", at=make_store("BJ-001", region="华北"))
    manager = make_user(Role.MANAGER, region="华东")
    login_as(manager)
    listed = client.get("/admin/kiosks", headers=EN).get_data(as_text=True)
    assert "收银台平板" in listed and "北京的平板" not in listed and "Add tablet" not in listed
    page = client.get(f"/admin/kiosks/{kiosk.id}", headers=EN).get_data(as_text=True)
    assert "/rename" not in page and "/revoke" not in page
    assert client.get(f"/admin/kiosks/{elsewhere.id}").status_code == 404
    html = client.get("/admin/kiosks").get_data(as_text=True)
    token = csrf_token_from(html)
    for url in ("/admin/kiosks", f"/admin/kiosks/{kiosk.id}/revoke"):
        assert client.post(url, data={"csrf_token": token, "version": "1"}).status_code == 403


def test_other_roles_get_no_console(client, make_user, login_as):
    login_as(make_user(Role.HR))
    assert client.get("/admin/kiosks").status_code == 403


def test_an_action_without_its_csrf_token_is_refused(client, admin, new_kiosk, db_session):
    kiosk, _code = new_kiosk()
    response = client.post(f"/admin/kiosks/{kiosk.id}/revoke", data={"version": "1"})
    assert response.status_code == 400
    db_session.refresh(kiosk)
    assert kiosk.revoked_at is None
