"""Staff import from CSV and XLSX: a preview of every row's outcome that writes nothing, then
an all-or-nothing apply that refuses when the staff changed meanwhile; the CLI shares it."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.admin.staff_import import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    plan_import,
    read_staff_file,
)
from portal.models import AuditEntry, Staff, Store
from tests.conftest import csrf_token_from

EN = {"Accept-Language": "en"}
HEADER = "store_code,staff_code,name,position,active\n"


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def preview(client, data: bytes, name: str = "staff.csv", headers=EN):
    token = csrf_token_from(client.get("/admin/staff/import").get_data(as_text=True))
    # Encoded in memory: the test client spools bodies over 500 KB to a file it leaves open.
    boundary, body = encode_multipart(
        {"csrf_token": token, "file": FileStorage(io.BytesIO(data), filename=name)}
    )
    return client.post(
        "/admin/staff/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def apply_form(html: str) -> dict[str, str]:
    form = html.split('id="apply-form"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'name="(csrf_token|upload|plan)"[^>]*value="([^"]*)"', form))


def staff_rows(db_session) -> list[tuple[str, str, str, str, bool]]:
    return list(
        db_session.execute(
            select(Store.code, Staff.code, Staff.name, Staff.position, Staff.active)
            .join(Store, Store.id == Staff.store_id)
            .order_by(Store.code, Staff.code)
        ).tuples()
    )


@pytest.fixture
def stores(make_store, make_staff):
    shanghai = make_store("SH-001")
    make_store("BJ-001")
    make_staff(shanghai, "S001", name="张伟", position="收银员")
    make_staff(shanghai, "S002", name="王芳", position="导购")
    return shanghai


MIXED = (
    (
        HEADER + "SH-001,S001,张伟,店长,\n"  # changed position
        "SH-001,S002,王芳,导购,\n"  # unchanged
        "BJ-001,B001,李娜,收银员,yes\n"  # new
    ).encode()
)


def test_the_preview_shows_every_outcome_and_writes_nothing(client, admin, db_session, stores):
    before = staff_rows(db_session)
    audited = db_session.scalar(select(func.count()).select_from(AuditEntry))
    page = preview(client, MIXED)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 new, 1 changed, 1 unchanged, 0 with errors." in html
    line = {n: html.split(f'id="line-{n}"', 1)[1].split("</tr>", 1)[0] for n in (2, 3, 4)}
    assert "changed" in line[2] and "position" in line[2]
    assert "unchanged" in line[3]
    assert "new" in line[4]
    assert 'id="apply-form"' in html
    assert staff_rows(db_session) == before
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == audited


def test_the_chinese_preview_names_each_outcome_as_an_import_does(
    client, admin, db_session, stores
):
    html = preview(client, MIXED, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    badges = re.findall(r'<span class="badge[^"]*">([^<]*)</span>', html)
    # "new" is also the ranking's "new on the list" (新上榜): a row is added, not ranked.
    assert badges == ["修改", "未变", "新增"]
    assert "新上榜" not in html


def test_apply_writes_the_previewed_rows(client, admin, db_session, stores):
    html = preview(client, MIXED).get_data(as_text=True)
    applied = client.post("/admin/staff/import/apply", data=apply_form(html), headers=EN)
    assert applied.status_code == 302
    assert staff_rows(db_session) == [
        ("BJ-001", "B001", "李娜", "收银员", True),
        ("SH-001", "S001", "张伟", "店长", True),
        ("SH-001", "S002", "王芳", "导购", True),
    ]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.import")).one()
    assert entry.details == {"created": 1, "updated": 1, "unchanged": 1}
    # The kept upload is gone: the same form cannot apply twice.
    again = client.post("/admin/staff/import/apply", data=apply_form(html), headers=EN)
    assert again.status_code == 400 and "upload it again" in again.get_data(as_text=True)


def test_one_bad_row_blocks_the_whole_file_and_the_preview_says_why(
    client, admin, db_session, stores
):
    data = (
        HEADER + "SH-001,S003,好人,收银员,\n"
        "ZZ-404,S004,某人,,\n"
        "SH-001,S 5,某人,,\n"
        "SH-001,S006,,,\n"
        "SH-001,S003,重复,,\n"
        "SH-001,S007,坏\x07字,,\n"
        "SH-001,S008,某人,,maybe\n"
    ).encode()
    page = preview(client, data)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="apply-form"' not in html and 'id="has-errors"' in html
    for line, reason in [
        (3, "unknown store &#39;ZZ-404&#39;"),
        (4, "The staff code &#39;S 5&#39; must be"),
        (5, "The name is empty."),
        (6, "appears twice for store SH-001 (also on line 2)"),
        (7, "name contains a character that cannot be stored"),
        (8, "active must be yes or no"),
    ]:
        assert reason in html.split(f'id="line-{line}"', 1)[1].split("</tr>", 1)[0], line
    # Applying it anyway (a forged form naming the upload and the true outcome of its
    # plan) writes nothing, not even the good line 2.
    assert 'name="upload"' not in html  # the page offers no apply form at all
    before = staff_rows(db_session)
    forged = client.post(
        "/admin/staff/import/apply",
        data={
            "csrf_token": csrf_token_from(html),
            "upload": hashlib.sha256(data).hexdigest(),
            "plan": plan_import(db_session, read_staff_file(data)).fingerprint,
        },
        headers=EN,
    )
    assert forged.status_code == 422
    assert "unknown store &#39;ZZ-404&#39;" in forged.get_data(as_text=True)
    assert staff_rows(db_session) == before


def test_an_xlsx_file_is_previewed_and_applied_like_a_csv(client, admin, db_session, stores):
    data = xlsx(
        [
            ["store_code", "staff_code", "name", "position", "active"],
            ["SH-001", 1001, "赵敏", "收银员", True],
            [None, None, None, None, None],
            ["BJ-001", "B002", "周杰", None, "no"],
        ]
    )
    html = preview(client, data, "staff.xlsx").get_data(as_text=True)
    assert "2 new, 0 changed, 0 unchanged, 0 with errors." in html
    assert 'id="line-2"' in html and 'id="line-4"' in html  # line numbers as in the sheet
    assert client.post("/admin/staff/import/apply", data=apply_form(html)).status_code == 302
    rows = staff_rows(db_session)
    assert ("SH-001", "1001", "赵敏", "收银员", True) in rows
    assert ("BJ-001", "B002", "周杰", "", False) in rows


def test_chinese_headings_and_a_gb18030_csv_are_read(client, admin, db_session, stores):
    data = "门店编码,工号,姓名,岗位\nSH-001,S009,钱七,理货员\n".encode("gb18030")
    html = preview(client, data).get_data(as_text=True)
    assert "1 new" in html and "钱七" in html


def test_the_apply_is_refused_when_the_staff_changed_since_the_preview(
    client, admin, db_session, stores
):
    html = preview(client, MIXED).get_data(as_text=True)
    # Meanwhile someone else adds B001 at BJ-001: the row would no longer be "new".
    db_session.add(
        Staff(
            store_id=db_session.scalar(select(Store.id).where(Store.code == "BJ-001")),
            code="B001",
            name="别人",
        )
    )
    db_session.flush()
    before = staff_rows(db_session)
    refused = client.post("/admin/staff/import/apply", data=apply_form(html), headers=EN)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "The staff changed since the preview" in body
    assert "0 new, 2 changed, 1 unchanged" in body  # the preview as it is now
    assert staff_rows(db_session) == before
    # The new preview's apply form works.
    assert client.post("/admin/staff/import/apply", data=apply_form(body)).status_code == 302
    assert ("BJ-001", "B001", "李娜", "收银员", True) in staff_rows(db_session)


def test_a_tampered_apply_form_is_refused(client, admin, db_session, stores):
    html = preview(client, MIXED).get_data(as_text=True)
    form = apply_form(html)
    before = staff_rows(db_session)
    for change in ({"plan": "f" * 64}, {"upload": "a" * 64}, {"upload": "../../etc/passwd"}):
        response = client.post("/admin/staff/import/apply", data={**form, **change})
        assert response.status_code in (400, 409), change
    assert staff_rows(db_session) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"x" * (MAX_IMPORT_BYTES + 1), "larger than 1024 KB"),
        ((HEADER + "SH-001,S1,x,,\n" * (MAX_IMPORT_ROWS + 1)).encode(), "more than 5000 rows"),
        (b"code,name\nS1,x\n", "missing: store_code, staff_code, position"),
        (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old Excel (.xls) file"),
        (b"PK\x03\x04not really a zip", "could not be read as an XLSX"),
        (b"\xff\xfe\xfa\xfb\x80\x81", "neither UTF-8 nor GB18030"),
    ],
)
def test_a_bad_file_is_refused_with_a_message(client, admin, db_session, stores, data, message):
    response = preview(client, data)
    assert 400 <= response.status_code < 500
    assert message in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Staff)) == 2


def test_a_zip_bomb_is_not_unpacked(client, admin, stores):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    response = preview(client, out.getvalue(), "bomb.xlsx")
    assert response.status_code == 400
    assert "could not be read as an XLSX" in response.get_data(as_text=True)


def test_the_import_is_for_admins_only(client, db_session, stores, region_manager, login_as):
    login_as(region_manager)
    assert client.get("/admin/staff/import").status_code == 403
    assert client.get("/admin/staff/import/template.csv").status_code == 403
    token = csrf_token_from(client.get("/admin/stores").get_data(as_text=True))
    data = {"csrf_token": token, "file": (io.BytesIO(MIXED), "staff.csv")}
    assert client.post("/admin/staff/import", data=data).status_code == 403
    data = {"csrf_token": token, "upload": "a" * 64, "plan": "b" * 64}
    assert client.post("/admin/staff/import/apply", data=data).status_code == 403


def test_the_upload_needs_its_csrf_token(client, admin, db_session, stores):
    data = {"file": (io.BytesIO(MIXED), "staff.csv")}
    response = client.post("/admin/staff/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 400


def test_the_template_has_the_headings(client, admin):
    response = client.get("/admin/staff/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.lstrip("\ufeff").splitlines()[0] == "store_code,staff_code,name,position,active"


def test_the_cli_imports_xlsx_through_the_same_rules(runner, db_session, stores, tmp_path):
    path = tmp_path / "staff.xlsx"
    path.write_bytes(
        xlsx([["store_code", "staff_code", "name", "position"], ["SH-001", "S010", "孙八", "导购"]])
    )
    result = runner.invoke(args=["import-staff", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 unchanged" in result.output
    path.write_bytes(
        xlsx([["store_code", "staff_code", "name", "position"], ["ZZ-404", "S011", "x", ""]])
    )
    bad = runner.invoke(args=["import-staff", str(path)])
    assert bad.exit_code != 0 and "line 2: unknown store 'ZZ-404'" in bad.output
    assert ("SH-001", "S010", "孙八", "导购", True) in staff_rows(db_session)
    assert len(staff_rows(db_session)) == 3


def test_a_file_without_the_active_column_keeps_leavers_inactive(
    runner, db_session, stores, tmp_path
):
    leaver = db_session.scalars(select(Staff).where(Staff.code == "S002")).one()
    leaver.active = False
    db_session.flush()
    path = tmp_path / "staff.csv"
    path.write_text(
        "store_code,staff_code,name,position\nSH-001,S002,王芳,导购\n", encoding="utf-8"
    )
    result = runner.invoke(args=["import-staff", str(path)])
    assert result.exit_code == 0 and "0 updated, 1 unchanged" in result.output
    db_session.refresh(leaver)
    assert leaver.active is False
