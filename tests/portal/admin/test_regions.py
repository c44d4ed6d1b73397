"""The regions list: add, rename (on its stores and region managers at once), delete only
when unused."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import AuditEntry, Region, Role, Store
from tests.conftest import post_form

EN = {"Accept-Language": "en"}


def region(db_session, name: str) -> Region:
    row = Region(name=name)
    db_session.add(row)
    db_session.flush()
    return row


def names(db_session) -> list[str]:
    return list(db_session.scalars(select(Region.name).order_by(Region.name)))


def test_an_admin_adds_a_region_and_it_is_offered_for_stores(client, admin, db_session):
    assert post_form(client, "/admin/regions", {"name": "西北"}).status_code == 302
    assert names(db_session) == ["西北"]
    form = client.get("/admin/stores/new").get_data(as_text=True)
    assert '<option value="西北">西北</option>' in form
    duplicate = post_form(client, "/admin/regions", {"name": "西北"}, headers=EN)
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.get_data(as_text=True)
    empty = post_form(client, "/admin/regions", {"name": "  "}, headers=EN)
    assert empty.status_code == 400
    assert names(db_session) == ["西北"]


def test_renaming_a_region_renames_its_stores_and_managers_in_one_go(
    client, admin, db_session, make_store, make_user
):
    east = region(db_session, "华东")
    shanghai, suzhou = make_store("SH-001", region="华东"), make_store("SZ-001", region="华东")
    other = make_store("BJ-001", region="华北")
    manager = make_user(Role.MANAGER, stores=[other])
    manager.region = "华东"
    db_session.flush()
    url = f"/admin/regions/{east.id}/rename"
    assert post_form(client, url, {"name": "华东区"}, page="/admin/regions").status_code == 302
    for row in (shanghai, suzhou, other, manager):
        db_session.refresh(row)
    assert (shanghai.region, suzhou.region, other.region) == ("华东区", "华东区", "华北")
    assert manager.region == "华东区"
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "region.rename")).one()
    assert entry.details == {"before": "华东", "stores": 2}


def test_a_rename_onto_an_existing_name_changes_nothing(client, admin, db_session, make_store):
    region(db_session, "华北")
    east = region(db_session, "华东")
    store = make_store("SH-001", region="华东")
    url = f"/admin/regions/{east.id}/rename"
    response = post_form(client, url, {"name": "华北"}, page="/admin/regions", headers=EN)
    assert response.status_code == 409
    db_session.refresh(store)
    assert store.region == "华东" and names(db_session) == ["华东", "华北"]


def test_a_region_in_use_cannot_be_deleted(client, admin, db_session, make_store):
    east, west = region(db_session, "华东"), region(db_session, "西北")
    make_store("SH-001", region="华东")
    refused = post_form(
        client, f"/admin/regions/{east.id}/delete", {}, page="/admin/regions", headers=EN
    )
    assert refused.status_code == 409
    assert "still has 1 store(s)" in refused.get_data(as_text=True)
    deleted = post_form(client, f"/admin/regions/{west.id}/delete", {}, page="/admin/regions")
    assert deleted.status_code == 302
    assert names(db_session) == ["华东"]
    assert (
        post_form(client, "/admin/regions/999999/delete", {}, page="/admin/regions").status_code
        == 404
    )


def test_a_region_scoping_a_manager_cannot_be_deleted(
    client, admin, db_session, make_store, make_user
):
    north = region(db_session, "华北")
    manager = make_user(Role.MANAGER, stores=[make_store("SH-001", region="")])
    manager.region = "华北"
    db_session.flush()
    response = post_form(
        client, f"/admin/regions/{north.id}/delete", {}, page="/admin/regions", headers=EN
    )
    assert response.status_code == 409 and "manager(s)" in response.get_data(as_text=True)
    assert names(db_session) == ["华北"]


def test_the_cli_adds_a_new_region_of_a_store_to_the_list(runner, db_session):
    result = runner.invoke(args=["create-store", "CD-001", "成都店", "--region", "西南"])
    assert result.exit_code == 0, result.output
    assert names(db_session) == ["西南"]
    assert db_session.scalar(select(Store.region)) == "西南"
