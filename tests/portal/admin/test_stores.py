"""The admin console's stores: list and search, create, edit, close and reopen; a closed store
issues no receipts but keeps its history; who may see and change what."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.access import store_choices
from portal.audit import CLI
from portal.db import utcnow
from portal.models import AuditEntry, Receipt, Region, Role, Store
from portal.pos_api.operations import create_api_key
from tests.conftest import post_form

EN = {"Accept-Language": "en"}
GOOD_STORE = {
    "code": "GZ-010",
    "name": "广州天河店",
    "region": "华南",
    "timezone": "Asia/Shanghai",
    "address": "广州市天河路 1 号",
    "format": "convenience",
}


def audit_actions(db_session) -> list[str]:
    return list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def south(db_session):
    db_session.add(Region(name="华南"))
    db_session.flush()


def test_an_admin_creates_a_store_with_its_details(client, admin, db_session, south):
    response = post_form(client, "/admin/stores/new", GOOD_STORE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/stores/GZ-010/staff"
    store = db_session.scalars(select(Store).where(Store.code == "GZ-010")).one()
    assert (store.name, store.region, store.timezone, store.address, store.format) == (
        "广州天河店",
        "华南",
        "Asia/Shanghai",
        "广州市天河路 1 号",
        "convenience",
    )
    assert store.closed_at is None
    assert audit_actions(db_session)[-1] == "store.create"


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"code": "GZ 010"}, 400, "Use 1-32 letters"),
        ({"name": ""}, 400, "This field is required."),
        ({"timezone": "Mars/Olympus"}, 400, "Not a valid choice"),
        ({"region": "火星"}, 400, "Not a valid choice"),
        ({"format": "kiosk"}, 400, "Not a valid choice"),
        ({"address": "x" * 301}, 400, "longer than 300"),
        ({"name": "bad\x00name"}, 400, "cannot be stored"),
        ({"address": "line\nbreak"}, 400, "Keep this on one line."),
    ],
)
def test_a_bad_store_form_is_refused_with_a_message(
    client, admin, db_session, south, change, status, message
):
    response = post_form(client, "/admin/stores/new", {**GOOD_STORE, **change}, headers=EN)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert count(db_session, Store) == 0


def test_a_duplicate_store_code_is_a_conflict(client, admin, db_session, make_store, south):
    make_store("GZ-010")
    response = post_form(client, "/admin/stores/new", GOOD_STORE, headers=EN)
    assert response.status_code == 409
    assert "A store with code &#39;GZ-010&#39; already exists." in response.get_data(as_text=True)


def test_the_store_list_searches_code_name_region_and_address(client, admin, make_store):
    make_store("SH-001", name="上海徐汇店", region="华东", address="漫步路 1 号")
    make_store("BJ-001", name="北京朝阳店", region="华北", address="建国路 8 号")
    make_store("GZ-001", name="广州天河店", region="华南", address="天河路 100_% 号")

    def codes(query: str) -> list[str]:
        html = client.get(f"/admin/stores?q={query}").get_data(as_text=True)
        return [c for c in ("SH-001", "BJ-001", "GZ-001") if f'id="store-{c}"' in html]

    assert codes("") == ["SH-001", "BJ-001", "GZ-001"]
    assert codes("bj-") == ["BJ-001"]
    assert codes("徐汇") == ["SH-001"]
    assert codes("华南") == ["GZ-001"]
    assert codes("建国路") == ["BJ-001"]
    assert codes("100_%25") == ["GZ-001"]  # a literal % and _, not wildcards
    assert codes("_") == ["GZ-001"]


def test_the_store_list_is_paginated(client, admin, make_store):
    for n in range(30):
        make_store(f"ST-{n:03d}")
    first = client.get("/admin/stores").get_data(as_text=True)
    second = client.get("/admin/stores?page=2").get_data(as_text=True)
    assert 'id="store-ST-024"' in first and 'id="store-ST-025"' not in first
    assert 'id="store-ST-025"' in second
    assert client.get("/admin/stores?page=x").status_code == 400


def test_an_admin_edits_a_store_and_the_change_is_audited(client, admin, db_session, make_store):
    store = make_store("SH-001", region="华东")
    db_session.add(Region(name="华东"))
    db_session.flush()
    data = {**GOOD_STORE, "region": "华东", "timezone": "Asia/Urumqi", "format": "supermarket"}
    response = post_form(client, "/admin/stores/SH-001/edit", data)
    assert response.status_code == 302
    db_session.refresh(store)
    assert (store.name, store.timezone, store.format) == (
        "广州天河店",
        "Asia/Urumqi",
        "supermarket",
    )
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "store.update")).one()
    assert entry.details["changed"]["timezone"] == ["Asia/Shanghai", "Asia/Urumqi"]
    assert client.get("/admin/stores/NOPE/edit").status_code == 404


def test_closing_and_reopening_ask_for_confirmation_and_are_audited(
    client, admin, db_session, make_store
):
    store = make_store("SH-001")
    page = client.get("/admin/stores/SH-001/close", headers=EN).get_data(as_text=True)
    assert "Yes, close the store" in page
    db_session.refresh(store)
    assert store.closed_at is None  # showing the confirmation changed nothing
    assert post_form(client, "/admin/stores/SH-001/close", {}).status_code == 302
    db_session.refresh(store)
    assert store.closed_at is not None
    listing = client.get("/admin/stores", headers=EN).get_data(as_text=True)
    assert "closed since" in listing and "Reopen" in listing
    again = post_form(client, "/admin/stores/SH-001/close", {}, headers=EN)
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)
    assert post_form(client, "/admin/stores/SH-001/reopen", {}).status_code == 302
    db_session.refresh(store)
    assert store.closed_at is None
    assert audit_actions(db_session)[-2:] == ["store.close", "store.reopen"]


def test_a_closed_store_issues_no_receipts_and_its_figures_stay(
    client, admin, db_session, make_store, make_staff, make_response
):
    store = make_store("SH-001")
    make_response(store, make_staff(store, "S001"), nps=10, comment="很好")
    key = create_api_key(db_session, store, actor=CLI, now=utcnow())
    db_session.flush()
    post_form(client, "/admin/stores/SH-001/close", {})
    before = count(db_session, Receipt)
    refused = client.post(
        "/api/v1/receipts",
        json={"transaction_id": "T-9", "staff_code": "S001"},
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "store_closed"
    assert "closed" in refused.get_json()["error"]["message"]
    assert count(db_session, Receipt) == before
    dashboard = client.get("/stores/SH-001", headers=EN)
    assert dashboard.status_code == 200 and "很好" in dashboard.get_data(as_text=True)
    # Reopened, the till is served again.
    post_form(client, "/admin/stores/SH-001/reopen", {})
    served = client.post(
        "/api/v1/receipts",
        json={"transaction_id": "T-9", "staff_code": "S001"},
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    assert served.status_code == 201


def test_the_issue_receipts_command_refuses_a_closed_store(
    runner, db_session, make_store, tmp_path
):
    make_store("SH-001", closed_at=utcnow())
    result = runner.invoke(
        args=["issue-receipts", "SH-001", "--count", "2", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code != 0
    assert "Store SH-001 is closed and issues no receipts." in result.output
    assert count(db_session, Receipt) == 0


def test_closed_stores_are_marked_in_store_choices(app, make_user, make_store, db_session):
    make_store("SH-001")
    make_store("SH-002", closed_at=utcnow())
    with app.test_request_context(headers=EN):
        labels = [c.label for c in store_choices(db_session, make_user(Role.HR))]
    assert labels[0].endswith("1") and labels[1].endswith("(closed)")


# -- who may do what ---------------------------------------------------------------------

WRITES = [
    ("/admin/stores/new", GOOD_STORE),
    ("/admin/stores/SH-001/edit", GOOD_STORE),
    ("/admin/stores/SH-001/close", {}),
    ("/admin/stores/SH-001/reopen", {}),
    ("/admin/regions", {"name": "西北"}),
]


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_every_console_form_needs_its_csrf_token(client, admin, db_session, make_store, url, data):
    make_store("SH-001")
    before = audit_actions(db_session)
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert audit_actions(db_session) == before


@pytest.mark.parametrize("role", [Role.HR, Role.REVIEWER, Role.MYSTERY, Role.MANAGER])
def test_other_roles_and_managers_without_a_region_get_403(
    client, make_user, make_store, login_as, role
):
    store = make_store("SH-001")
    login_as(make_user(role, stores=[store]))
    for url in ("/admin/stores", "/admin/regions", "/admin/stores/SH-001/staff"):
        assert client.get(url).status_code == 403, url
    for url in ("/admin/stores/new", "/admin/stores/SH-001/close", "/admin/staff/import"):
        assert client.get(url).status_code == 403, url


def test_a_region_manager_reads_their_region_only_without_forms(
    client, db_session, region_manager, make_store, login_as
):
    make_store("BJ-001", region="华北")
    make_store("GZ-001", region="华南")
    login_as(region_manager)
    listing = client.get("/admin/stores", headers=EN)
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert 'id="store-BJ-001"' in html and 'id="store-SH-009"' in html
    assert 'id="store-GZ-001"' not in html
    assert "Add a store" not in html and "/close" not in html and "/edit" not in html
    staff = client.get("/admin/stores/BJ-001/staff", headers=EN).get_data(as_text=True)
    assert "<form" not in staff.split("</header>", 1)[1]
    assert client.get("/admin/stores/GZ-001/staff").status_code == 404
    regions = client.get("/admin/regions").get_data(as_text=True)
    assert "<form" not in regions.split("</header>", 1)[1]
    # The region's stores are theirs everywhere: the store page opens, the other region's not.
    assert client.get("/stores/BJ-001").status_code == 200
    assert client.get("/stores/GZ-001").status_code == 404


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_a_region_manager_cannot_write(client, region_manager, login_as, make_store, url, data):
    make_store("SH-001", region="华北")
    login_as(region_manager)
    assert post_form(client, url, data, page="/admin/stores").status_code == 403
