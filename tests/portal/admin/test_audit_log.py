"""The audit log page and its CSV export: filters by who, what, when and store, newest first,
every action the code writes named in words (both languages), contact details masked, the
CSV neutralised with a translated header; region managers see their region's entries only."""

from __future__ import annotations

import ast
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.admin.audit_words import ACTION_LABELS
from portal.audit import CLI, Actor, record_audit
from portal.models import Role
from portal.pos_api.operations import create_api_key

ROOT = Path(__file__).resolve().parents[3]
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def admin(make_user, login_as):
    user = make_user(Role.ADMIN, email="boss@example.com")
    login_as(user)
    return user


def page(client, query: str = "", headers=EN) -> str:
    """The entries' table of the page (and the pagination after it), not the filter form,
    whose choices name every action."""
    response = client.get(f"/admin/audit{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    return html[html.index('id="audit"') :]


def rows_of(client, query: str = "", headers=EN) -> list[list[str]]:
    response = client.get(f"/admin/audit.csv{query}", headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8").lstrip("\ufeff"))))


def at(day: int, hour: int = 4) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def entries(db_session, make_store, make_user):
    """Three entries: an admin creates a store (Nov 2), a key of another store (Nov 5), and
    the CLI imports staff (Nov 8)."""
    east, north = make_store("EAST-1", region="华东"), make_store("NORTH-1", region="华北")
    ops = make_user(Role.ADMIN, email="ops@example.com")
    record_audit(
        db_session, Actor.of_user(ops), "store.create", "store", "EAST-1", at(2), name="东"
    )
    key = create_api_key(db_session, north, actor=Actor.of_user(ops), now=at(5))
    record_audit(db_session, CLI, "staff.import", "staff", "*", at(8), created=3, updated=1)
    db_session.flush()
    return east, north, ops, key


def test_entries_are_shown_newest_first_in_words(client, admin, entries):
    html = page(client, "?from=2026-11-01&to=2026-11-30")
    imported, key, store = (
        html.index(t) for t in ("Staff imported from a file", "POS key created", "Store created")
    )
    assert imported < key < store
    assert "Added: <bdi>3</bdi>" in html and "Changed: <bdi>1</bdi>" in html
    assert "command line" in html and "ops@example.com" in html
    assert "NORTH-1" in html  # the key's store, found from the key


def test_filters_by_who_what_when_and_store(client, admin, entries):
    east, north, ops, _key = entries
    by_ops = page(client, f"?who=user-{ops.id}&from=2026-11-01&to=2026-11-30")
    assert "Store created" in by_ops and "POS key created" in by_ops
    assert "Staff imported" not in by_ops
    by_cli = page(client, "?who=cli&from=2026-11-01&to=2026-11-30")
    assert "Staff imported" in by_cli and "Store created" not in by_cli
    keys_only = page(client, "?action=api_key.create")
    assert "POS key created" in keys_only and "Store created" not in keys_only
    early = page(client, "?from=2026-11-01&to=2026-11-04")
    assert "Store created" in early and "POS key created" not in early
    north_only = page(client, "?store=NORTH-1")
    assert "POS key created" in north_only and "Store created" not in north_only
    east_only = page(client, "?store=EAST-1")
    assert "Store created" in east_only and "POS key created" not in east_only


def test_days_are_the_chain_calendar_or_the_store_own(client, admin, db_session, make_store):
    make_store("URC-1", timezone="Asia/Urumqi")  # UTC+6
    # 17:30 UTC on Nov 10 is Nov 11 in Shanghai (UTC+8) but still Nov 10 in Urumqi.
    record_audit(
        db_session,
        CLI,
        "store.create",
        "store",
        "URC-1",
        datetime(2026, 11, 10, 17, 30, tzinfo=UTC),
    )
    db_session.flush()
    assert "Store created" in page(client, "?from=2026-11-11&to=2026-11-11")
    assert "Store created" not in page(client, "?from=2026-11-10&to=2026-11-10")
    assert "Store created" in page(client, "?from=2026-11-10&to=2026-11-10&store=URC-1")


def test_bad_filters_are_a_400_with_the_field_message(client, admin, entries):
    for query in (
        "?from=11/01/2026",
        "?action=drop.tables",
        "?who=user-999999",
        "?from=2026-11-09&to=2026-11-01",
    ):
        response = client.get(f"/admin/audit{query}", headers=EN)
        assert response.status_code == 400, query
    assert "YYYY-MM-DD" in client.get("/admin/audit?from=x", headers=EN).get_data(as_text=True)
    assert client.get("/admin/audit?store=NOPE").status_code == 404
    assert client.get("/admin/audit.csv?from=x").status_code == 400


def test_pages_keep_the_filter(client, admin, db_session):
    for n in range(55):
        record_audit(db_session, CLI, "staff.import", "staff", "*", at(3), created=n, updated=0)
    db_session.flush()
    first = page(client, "?action=staff.import")
    assert 'href="/admin/audit?page=2&amp;action=staff.import"' in first
    assert "Page 2 of 2" in page(client, "?action=staff.import&page=2")


def test_contact_details_in_notes_are_masked(client, admin, db_session, make_store):
    store = make_store("SH-7")
    record_audit(
        db_session,
        CLI,
        "case.contacted",
        "case",
        1,
        at(4),
        from_state="open",
        to_state="in_progress",
        note="Called 13812345678, wrote to li@example.com",
    )
    db_session.flush()
    html = page(client)
    assert "13812345678" not in html and "li@example.com" not in html
    assert "Case: first contact made" in html and "open → in progress" in html
    csv_text = str(rows_of(client))
    assert "13812345678" not in csv_text and "li@example.com" not in csv_text
    del store


def test_the_csv_has_a_translated_header_the_filtered_rows_and_no_formulas(
    client, admin, entries, db_session
):
    record_audit(
        db_session, CLI, "store.create", "store", "EAST-1", at(9), name='=HYPERLINK("http://x")'
    )
    db_session.flush()
    rows = rows_of(client, "?who=cli&from=2026-11-01&to=2026-11-30")
    assert rows[0] == ["Time", "Who", "What", "About", "Store", "Details"]
    assert [row[2] for row in rows[1:]] == ["Store created", "Staff imported from a file"]
    assert rows[1][5] == 'Name: =HYPERLINK("http://x")'  # not at the cell's start: harmless
    zh = rows_of(client, "?who=cli&from=2026-11-01&to=2026-11-30", headers=ZH)
    assert zh[0] == ["时间", "操作人", "操作", "对象", "门店", "详情"]
    assert zh[1][2] == "创建门店"


def test_a_formula_in_a_cell_start_is_neutralised(client, admin, db_session, make_store):
    make_store("EAST-9")
    record_audit(
        db_session, Actor(label="=cmd|' /C calc'!A0"), "store.create", "store", "EAST-9", at(9)
    )
    db_session.flush()
    rows = rows_of(client, "?action=store.create")
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][0].startswith("2026-11-09T12:00:00+08:00")


def test_the_csv_streams_long_logs_in_batches_newest_first(client, admin, db_session):
    for n in range(1203):
        record_audit(
            db_session,
            CLI,
            "staff.import",
            "staff",
            "*",
            at(1) + timedelta(minutes=n),
            created=n,
            updated=0,
        )
    db_session.flush()
    rows = rows_of(client, "?action=staff.import")
    assert len(rows) == 1 + 1203
    added = [int(row[5].split("Added: ")[1].split(";")[0]) for row in rows[1:]]
    assert added == list(range(1202, -1, -1))


@pytest.fixture
def region_manager(make_user, login_as, db_session, entries):
    east, _north, _ops, _key = entries
    user = make_user(Role.MANAGER, stores=[east])
    user.region = "华东"
    db_session.flush()
    login_as(user)
    return user


def test_a_region_manager_sees_only_their_region_entries(client, region_manager, db_session):
    html = page(client, "?from=2026-11-01&to=2026-11-30")
    assert "Store created" in html
    assert (
        "POS key created" not in html and "Staff imported" not in html
    )  # another region, chain-wide
    assert client.get("/admin/audit?store=NORTH-1").status_code == 404
    rows = rows_of(client, "?from=2026-11-01&to=2026-11-30")
    assert [row[2] for row in rows[1:]] == ["Store created"]


def test_a_region_manager_sees_entries_about_rows_of_their_stores(
    client, region_manager, db_session, entries, now
):
    east, _north, ops, _key = entries
    create_api_key(db_session, east, actor=Actor.of_user(ops), now=at(6))
    db_session.flush()
    html = page(client, "?action=api_key.create")
    assert html.count("POS key created") == 1 and "EAST-1" in html


@pytest.mark.parametrize("role", [Role.HR, Role.REVIEWER, Role.MYSTERY])
def test_other_roles_are_refused(client, make_user, login_as, role):
    login_as(make_user(role))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_a_manager_without_a_region_is_refused(client, make_user, make_store, login_as):
    login_as(make_user(Role.MANAGER, stores=[make_store()]))
    assert client.get("/admin/audit").status_code == 403


def test_the_page_is_in_chinese(client, admin, entries):
    html = page(client, "?from=2026-11-01&to=2026-11-30", headers=ZH)
    for english in ("Store created", "POS key created", "Staff imported", "command line", "Added:"):
        assert english not in html
    full = client.get("/admin/audit", headers=ZH).get_data(as_text=True)
    assert "审计日志" in full and "Anyone" not in full and "Download" not in full


def _written_actions() -> set[str]:
    """Every action key the code writes: record_audit's literal or module-constant action,
    and each workflow's name joined to the literal kinds passed to record_change (or
    record_nomination_change); kinds chosen at run time are listed by the test below."""
    from portal.awards.operations import CYCLES, NOMINATIONS
    from portal.cases.operations import CASES
    from portal.mystery.visits import VISITS
    from portal.training.operations import TRAININGS

    flows = {
        "CASES": CASES.name,
        "VISITS": VISITS.name,
        "CYCLES": CYCLES.name,
        "NOMINATIONS": NOMINATIONS.name,
        "TRAININGS": TRAININGS.name,
    }
    found: set[str] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and isinstance(node.value.value, str)
        }
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = getattr(call.func, "id", getattr(call.func, "attr", None))
            if name == "record_audit" and len(call.args) >= 3:
                action = call.args[2]
                if isinstance(action, ast.Constant):
                    found.add(action.value)
                elif isinstance(action, ast.Name) and action.id in constants:
                    found.add(constants[action.id])
            elif (
                name == "record_change"
                and len(call.args) >= 5
                and isinstance(call.args[1], ast.Name)
            ):
                flow = flows.get(call.args[1].id)
                kind = call.args[4]
                if isinstance(kind, ast.IfExp):
                    kinds = [getattr(kind.body, "value", None), getattr(kind.orelse, "value", None)]
                else:
                    kinds = [getattr(kind, "value", None)]
                found |= {f"{flow}.{k}" for k in kinds if flow and isinstance(k, str)}
            elif name == "record_nomination_change" and len(call.args) >= 4:
                kind = call.args[3]
                if isinstance(kind, ast.Constant):
                    found.add(f"{NOMINATIONS.name}.{kind.value}")
    return found


def test_every_action_the_code_writes_has_a_name():
    from portal.models import DisputeOutcome, NominationState

    written = _written_actions()
    assert {
        "api_key.create",
        "case.open",
        "mystery.scheduled",
        "award.nominated",
        "login.failed",
        "training.done",
    } <= written
    # Kinds decided at run time: the verdicts of a review, a dispute's outcome, a decision.
    written |= {"mystery.returned", "mystery.rejected"}
    written |= {f"mystery.{outcome}" for outcome in DisputeOutcome}
    written |= {f"award.{state}" for state in (NominationState.APPROVED, NominationState.REJECTED)}
    missing = written - set(ACTION_LABELS)
    assert not missing, f"actions written without a name in ACTION_LABELS: {sorted(missing)}"


def test_every_action_name_is_translated(client, admin, db_session):
    for n, action in enumerate(ACTION_LABELS):
        record_audit(db_session, CLI, action, "demo", n, at(1))
    db_session.flush()
    rows = rows_of(client, "?from=2026-11-01&to=2026-11-01", headers=ZH)[1:]
    assert len(rows) == len(ACTION_LABELS)
    english = {str(label) for label in ACTION_LABELS.values()} | set(ACTION_LABELS)
    assert not [row[2] for row in rows if row[2] in english]
    assert "已提出申诉" in page(client, "?action=award.appealed", headers=ZH)
