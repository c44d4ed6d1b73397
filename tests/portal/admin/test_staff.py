"""A store's staff in the admin console: add, edit, move (history stays where it was given),
deactivate and reactivate (the POS API names active staff only)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.audit import CLI
from portal.calendar import local_today, month_start
from portal.db import utcnow
from portal.hr.ranking import staff_inputs
from portal.models import AuditEntry, Receipt, Response, Staff, StoreDailyRollup
from portal.pos_api.operations import create_api_key
from tests.conftest import post_form

EN = {"Accept-Language": "en"}


@pytest.fixture
def shop(make_store, make_staff):
    store = make_store("SH-001")
    return store, make_staff(store, "S001", name="张伟", position="收银员")


def test_an_admin_adds_staff_to_a_store(client, admin, db_session, shop):
    store, _ = shop
    data = {"staff_code": "S002", "name": "李娜", "position": "导购"}
    response = post_form(client, "/admin/stores/SH-001/staff", data)
    assert response.status_code == 302
    added = db_session.scalars(select(Staff).where(Staff.code == "S002")).one()
    assert (added.store_id, added.name, added.position, added.active) == (
        store.id,
        "李娜",
        "导购",
        True,
    )
    listing = client.get("/admin/stores/SH-001/staff").get_data(as_text=True)
    assert 'id="staff-S001"' in listing and 'id="staff-S002"' in listing


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"staff_code": "S001", "name": "重复"}, 409, "already has a staff member"),
        ({"staff_code": "S 2", "name": "x"}, 400, "Use 1-32 letters"),
        ({"staff_code": "S002", "name": ""}, 400, "This field is required."),
        ({"staff_code": "S002", "name": "a\u2028b"}, 400, "Keep this on one line."),
    ],
)
def test_bad_staff_input_is_refused(client, admin, db_session, shop, data, status, message):
    response = post_form(client, "/admin/stores/SH-001/staff", data, headers=EN)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Staff)) == 1


def test_an_admin_edits_name_and_position(client, admin, db_session, shop):
    _, person = shop
    url = f"/admin/staff/{person.id}"
    assert post_form(client, url, {"name": "张伟伟", "position": "店长"}).status_code == 302
    db_session.refresh(person)
    assert (person.name, person.position) == ("张伟伟", "店长")
    assert client.get("/admin/staff/999999").status_code == 404


def test_moving_staff_keeps_their_history_in_the_store_it_was_given_in(
    client, admin, db_session, shop, make_store, make_response
):
    old, person = shop
    new = make_store("BJ-001")
    for _ in range(3):
        make_response(old, person, nps=10, comment="张伟服务很好")
    url = f"/admin/staff/{person.id}/move"
    assert (
        post_form(client, url, {"store": "BJ-001"}, page=f"/admin/staff/{person.id}").status_code
        == 302
    )
    db_session.refresh(person)
    assert person.store_id == new.id and person.code == "S001"
    # Receipts, answers and the store's figures stay with the old store.
    assert set(db_session.scalars(select(Receipt.store_id))) == {old.id}
    assert set(db_session.scalars(select(Response.store_id))) == {old.id}
    counted = db_session.scalar(
        select(func.sum(StoreDailyRollup.responses)).where(StoreDailyRollup.store_id == old.id)
    )
    assert counted == 3
    assert "张伟服务很好" in client.get("/stores/SH-001").get_data(as_text=True)
    assert "张伟服务很好" not in client.get("/stores/BJ-001").get_data(as_text=True)
    # The ranking still counts the person's own earlier answers (it reads them by person);
    # it lists the person under the store they work in now.
    rows, inputs = staff_inputs(db_session, month_start(local_today(None, utcnow())), "store")
    mine = next(i for i in inputs if i.staff_id == person.id)
    assert mine.promoters == 3 and mine.store_id == new.id
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.move")).one()
    assert entry.details["from_store"] == "SH-001" and entry.details["to_store"] == "BJ-001"


def test_a_move_needs_a_free_code_at_the_target_store(
    client, admin, db_session, shop, make_store, make_staff
):
    _, person = shop
    target = make_store("BJ-001")
    make_staff(target, "S001", name="王芳")
    page = f"/admin/staff/{person.id}"
    taken = post_form(client, f"{page}/move", {"store": "BJ-001"}, page=page, headers=EN)
    assert taken.status_code == 409
    assert "Store BJ-001 already has a staff member" in taken.get_data(as_text=True)
    db_session.refresh(person)
    assert person.store_id != target.id
    moved = post_form(client, f"{page}/move", {"store": "BJ-001", "new_code": "S101"}, page=page)
    assert moved.status_code == 302
    db_session.refresh(person)
    assert (person.store_id, person.code) == (target.id, "S101")


def test_a_move_to_the_same_or_a_closed_store_is_refused(
    client, admin, db_session, shop, make_store
):
    _, person = shop
    make_store("GZ-001", closed_at=utcnow())
    page = f"/admin/staff/{person.id}"
    for target in ("SH-001", "GZ-001", ""):
        response = post_form(client, f"{page}/move", {"store": target}, page=page)
        assert response.status_code == 400, target
    db_session.refresh(person)
    assert person.store.code == "SH-001"


def test_an_inactive_staff_member_gets_no_new_receipts(client, admin, db_session, shop):
    store, person = shop
    key = create_api_key(db_session, store, actor=CLI, now=utcnow())
    db_session.flush()
    page = f"/admin/staff/{person.id}"

    def till(transaction: str) -> int:
        return client.post(
            "/api/v1/receipts",
            json={"transaction_id": transaction, "staff_code": "S001"},
            headers={"Authorization": f"Bearer {key.secret}"},
        ).status_code

    assert post_form(client, f"{page}/deactivate", {}, page=page).status_code == 302
    db_session.refresh(person)
    assert person.active is False
    assert till("T-1") == 422
    listing = client.get("/admin/stores/SH-001/staff", headers=EN).get_data(as_text=True)
    assert "inactive" in listing
    twice = post_form(client, f"{page}/deactivate", {}, page=page, headers=EN)
    assert twice.status_code == 409 and "already inactive" in twice.get_data(as_text=True)
    assert post_form(client, f"{page}/reactivate", {}, page=page).status_code == 302
    assert till("T-2") == 201
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["staff.deactivate", "staff.reactivate"]


@pytest.mark.parametrize("action", ["", "/move", "/deactivate", "/reactivate"])
def test_staff_forms_need_their_csrf_token(client, admin, db_session, shop, action):
    _, person = shop
    response = client.post(f"/admin/staff/{person.id}{action}", data={"name": "x", "store": "x"})
    assert response.status_code == 400
    db_session.refresh(person)
    assert (person.name, person.active) == ("张伟", True)
    assert (
        client.post(
            "/admin/stores/SH-001/staff", data={"staff_code": "S9", "name": "x"}
        ).status_code
        == 400
    )


def test_a_region_manager_cannot_change_staff(
    client, region_manager, login_as, make_store, make_staff
):
    store = make_store("BJ-001", region="华北")
    person = make_staff(store, "S001")
    login_as(region_manager)
    page = "/admin/stores/BJ-001/staff"
    assert client.get(page).status_code == 200
    assert client.get(f"/admin/staff/{person.id}").status_code == 403
    for action in ("/move", "/deactivate"):
        assert (
            post_form(client, f"/admin/staff/{person.id}{action}", {}, page=page).status_code == 403
        )
    data = {"staff_code": "S9", "name": "x"}
    assert post_form(client, page, data).status_code == 403
