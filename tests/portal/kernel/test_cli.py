"""The admin CLI, with the arguments DESIGN.md section 4 gives."""

from __future__ import annotations

import csv
import shutil
import subprocess

import click
import pytest
from sqlalchemy import func, select

from portal.models import ApiKey, AuditEntry, Receipt, Staff, Store, User


def run(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input)


def test_create_store_staff_user_and_key(runner, db_session, client):
    assert run(runner, "create-store", "SH-001", "上海徐汇店", "--region", "华东").exit_code == 0
    assert (
        run(runner, "create-staff", "SH-001", "S001", "张伟", "--position", "收银员").exit_code == 0
    )
    created = run(
        runner,
        "create-user",
        "Boss@Example.com",
        "--role",
        "manager",
        "--store",
        "SH-001",
        "--password",
        "long enough pw",
    )
    assert created.exit_code == 0, created.output
    key_out = run(runner, "create-api-key", "SH-001")
    assert key_out.exit_code == 0
    secret = key_out.output.strip().splitlines()[-1]
    assert secret.startswith("pos_") and " " not in secret
    store = db_session.scalars(select(Store)).one()
    assert (store.code, store.name, store.region, store.timezone) == (
        "SH-001",
        "上海徐汇店",
        "华东",
        "Asia/Shanghai",
    )
    user = db_session.scalars(select(User)).one()
    assert user.email == "boss@example.com" and [s.code for s in user.stores] == ["SH-001"]
    # The printed key works against the API.
    response = client.post(
        "/api/v1/receipts",
        json={"transaction_id": "T", "staff_code": "S001"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    # The store's new region joins the regions list (the admin console offers that list).
    assert actions == [
        "region.create",
        "store.create",
        "staff.create",
        "user.create",
        "api_key.create",
    ]


def test_create_user_prompts_for_the_password(runner, db_session):
    result = run(
        runner,
        "create-user",
        "hr@example.com",
        "--role",
        "hr",
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(User.role)) == "hr"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-store", "SH 001", "x"], "must be 1-32 letters"),
        (["create-store", "SH-002", "x", "--timezone", "Mars/Olympus"], "Unknown time zone"),
        (["create-staff", "NOPE", "S1", "x"], "No store with code"),
        (
            ["create-user", "m@example.com", "--role", "manager", "--password", "long enough pw"],
            "needs at least one store",
        ),
        (["create-user", "m@example.com", "--role", "hr", "--password", "short"], "at least 10"),
        (
            ["create-user", "m@example.com", "--role", "boss", "--password", "long enough pw"],
            "boss",
        ),
        (["create-api-key", "NOPE"], "No store with code"),
        (["revoke-api-key", "999"], "No API key"),
    ],
)
def test_bad_input_exits_non_zero_with_a_message_and_writes_nothing(
    runner, db_session, args, message
):
    result = run(runner, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_duplicates_are_refused(runner):
    assert run(runner, "create-store", "SH-001", "a").exit_code == 0
    again = run(runner, "create-store", "SH-001", "b")
    assert again.exit_code != 0 and "already exists" in again.output


def test_import_staff_creates_and_updates(runner, db_session, tmp_path):
    run(runner, "create-store", "SH-001", "a")
    run(runner, "create-store", "BJ-001", "b")
    path = tmp_path / "staff.csv"
    path.write_text(
        "store_code,staff_code,name,position\nSH-001,S001,张伟,收银员\nBJ-001,S001,李娜,导购\n",
        encoding="utf-8-sig",
    )
    first = run(runner, "import-staff", str(path))
    assert first.exit_code == 0 and "2 created, 0 updated" in first.output
    path.write_text(
        "store_code,staff_code,name,position,active\nSH-001,S001,张伟,店长,yes\n"
        "SH-001,S002,王芳,收银员,no\n",
        encoding="utf-8",
    )
    second = run(runner, "import-staff", str(path))
    assert second.exit_code == 0 and "1 created, 1 updated" in second.output
    rows = db_session.execute(
        select(Staff.code, Staff.position, Staff.active)
        .join(Store)
        .where(Store.code == "SH-001")
        .order_by(Staff.code)
    ).all()
    assert rows == [("S001", "店长", True), ("S002", "收银员", False)]


def test_a_bad_import_names_every_bad_line_and_imports_nothing(runner, db_session, tmp_path):
    run(runner, "create-store", "SH-001", "a")
    path = tmp_path / "staff.csv"
    path.write_text(
        "store_code,staff_code,name,position\nSH-001,S001,好,x\nZZ-404,S002,坏,x\n"
        "SH-001,bad code,坏,x\nSH-001,S001,重复,x\n",
        encoding="utf-8",
    )
    result = run(runner, "import-staff", str(path))
    assert result.exit_code != 0
    assert "line 3: unknown store 'ZZ-404'" in result.output
    assert "line 4:" in result.output and "line 5:" in result.output
    assert db_session.scalar(select(func.count()).select_from(Staff)) == 0


def test_import_staff_needs_the_columns(runner, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("code,name\nS1,x\n", encoding="utf-8")
    result = run(runner, "import-staff", str(path))
    assert result.exit_code != 0 and "missing: store_code, staff_code, position" in result.output


def test_keys_can_be_listed_and_revoked(runner, db_session):
    run(runner, "create-store", "SH-001", "a")
    run(runner, "create-api-key", "SH-001", "--label", "till 1")
    key_id = db_session.scalar(select(ApiKey.id))
    assert "live" in run(runner, "list-api-keys", "SH-001").output
    assert run(runner, "revoke-api-key", str(key_id)).exit_code == 0
    assert "revoked" in run(runner, "list-api-keys", "SH-001").output


def test_issue_receipts_writes_qr_files_and_an_index(runner, db_session, tmp_path):
    run(runner, "create-store", "SH-001", "a")
    out = tmp_path / "batch"
    result = run(runner, "issue-receipts", "SH-001", "--count", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    with (out / "receipts.csv").open(encoding="utf-8") as index:
        rows = list(csv.DictReader(index))
    assert len(rows) == 3
    assert db_session.scalar(select(func.count()).select_from(Receipt)) == 3
    for row in rows:
        assert (out / row["qr_png"]).stat().st_size > 100
        assert (out / row["qr_svg"]).read_bytes().lstrip().startswith(b"<")
        assert row["survey_url"].startswith("http://portal.test/r/")
    if shutil.which("zbarimg"):
        decoded = subprocess.run(
            ["zbarimg", "--raw", "-q", str(out / rows[0]["qr_png"])],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert decoded == rows[0]["survey_url"]


def test_issue_receipts_refuses_a_zero_count(runner, tmp_path):
    run(runner, "create-store", "SH-001", "a")
    assert (
        run(runner, "issue-receipts", "SH-001", "--count", "0", "--out", str(tmp_path)).exit_code
        != 0
    )


#: DESIGN.md section 4, with the arguments it gives.
DESIGN_COMMANDS = {
    "init-db": [],
    "demo": [],
    "create-store": ["code", "name", "--region", "--timezone"],
    "create-staff": ["store_code", "staff_code", "name", "--position"],
    "import-staff": ["file"],
    "create-user": ["email", "--role", "--store", "--password"],
    "create-api-key": ["store_code"],
    "create-api-token": ["email"],
    "issue-receipts": ["store_code", "--count", "--out"],
    "check-code": ["code", "--redeem"],
    "rebuild-rollups": [],
    "purge": [],
    "backup": ["file"],
    "restore": ["file"],
    "classify-comment": ["text"],
    "export": ["file", "--kind", "--from", "--to", "--store"],
    "monthly-review": ["--month"],
    "check-alerts": [],
    "reclassify-comments": ["--all"],
    "worker": ["--threads"],
}
#: Commands beyond DESIGN.md: key upkeep and the cron jobs of cases, mystery and awards.
EXTRA_COMMANDS = {
    "list-api-keys",
    "revoke-api-key",
    "overdue",
    "send-mail",
    "send-sms",
    "finalise-visits",
    "award-cycle",
    "verify-awards",
    "rank",
    "erase-customer",
}


def test_the_cli_registers_the_design_commands_and_the_jobs(app):
    assert set(app.cli.commands) == set(DESIGN_COMMANDS) | EXTRA_COMMANDS


@pytest.mark.parametrize(("name", "params"), DESIGN_COMMANDS.items())
def test_design_commands_take_the_design_arguments(app, name, params):
    command = app.cli.commands[name]
    given = [
        param.name if isinstance(param, click.Argument) else param.opts[0]
        for param in command.params
    ]
    assert [p for p in given if p in params] == params
    required = {p.opts[0] for p in command.params if isinstance(p, click.Option) and p.required}
    assert required <= {"--role", "--count", "--out"}
