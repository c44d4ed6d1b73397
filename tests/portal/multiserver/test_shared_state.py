"""What app servers must share beside the database, checked without starting servers: the
development key (one per instance folder, whichever worker writes it first) and the staff
import file kept between the preview and Apply (``PORTAL_UPLOAD_DIR``)."""

from __future__ import annotations

import re
from dataclasses import replace
from io import BytesIO
from pathlib import Path

from portal import create_app
from portal.config import Settings, _development_secret
from portal.models import Role, Staff
from tests.conftest import PASSWORD, post_form


def test_a_worker_that_finds_the_key_written_meanwhile_keeps_that_key(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    first = _development_secret(str(instance))
    # The race: a second worker looked before the first wrote, and writes its own now.
    real_exists = Path.exists
    monkeypatch.setattr(
        Path, "exists", lambda path: False if path.name == "dev-secret-key" else real_exists(path)
    )
    assert _development_secret(str(instance)) == first
    assert [p.name for p in instance.iterdir()] == ["dev-secret-key"]


def test_the_upload_folder_setting():
    assert Settings(instance_path="/srv/a").upload_folder == Path("/srv/a/staff-imports")
    env = {"PORTAL_SECRET_KEY": "k" * 8, "PORTAL_UPLOAD_DIR": "/mnt/shared/uploads"}
    assert Settings.from_env(env).upload_folder == Path("/mnt/shared/uploads")


def test_a_staff_import_previewed_on_one_server_is_applied_on_another(
    settings, connection, db_session, make_user, make_store, tmp_path
):
    make_store("SH-001")
    admin = make_user(Role.ADMIN)
    shared = str(tmp_path / "shared-uploads")
    one = create_app(replace(settings, upload_dir=shared), bind=connection).test_client()
    other_settings = replace(settings, instance_path=str(tmp_path / "other"), upload_dir=shared)
    other = create_app(other_settings, bind=connection).test_client()
    assert post_form(one, "/login", {"email": admin.email, "password": PASSWORD}).status_code == 302

    page = one.get("/admin/staff/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    data = "store_code,staff_code,name,position,active\nSH-001,S009,李娜,收银员,yes\n".encode()
    preview = one.post(
        "/admin/staff/import",
        data={"csrf_token": token.group(1), "file": (BytesIO(data), "staff.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    form = preview.split('id="apply-form"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="(csrf_token|upload|plan)"[^>]*value="([^"]*)"', form))

    cookie = one.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    applied = other.post("/admin/staff/import/apply", data=fields)
    assert applied.status_code == 302, applied.get_data(as_text=True)
    assert db_session.query(Staff).filter_by(code="S009").one().name == "李娜"
