"""Item 15: a database that is locked or unreachable gives a 503 with ``Retry-After`` that
keeps what the user typed, and leaves nothing half-written."""

from __future__ import annotations

import html as html_lib
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.calendar import zone
from portal.db import utcnow
from portal.models import AuditEntry, Case, CaseEvent, MysteryVisit, Receipt, Response, Role
from portal.pos_api.operations import create_api_key
from tests.conftest import add_store_with_cashier, csrf_token_from, issue_one_receipt, post_form
from tests.portal.mystery.test_mystery_pages import EN, _act, setup  # noqa: F401 (fixture)

LOCKED = OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))
DROPPED = DBAPIError(
    "COMMIT",
    {},
    Exception("server closed the connection unexpectedly"),
    connection_invalidated=True,
)
#: PostgreSQL's full disk (SQLSTATE 53100), wrapped as SQLAlchemy wraps the driver's errors;
#: SQLite's is made for real in test_disk_full.py.
DISK_FULL = DBAPIError.instance(
    "COMMIT",
    {},
    psycopg.errors.DiskFull('could not extend file "base/16384/16400": No space left on device'),
    psycopg.Error,
)
FAULTS = pytest.mark.parametrize(
    "fault", [LOCKED, DROPPED, DISK_FULL], ids=["locked", "disconnected", "disk-full"]
)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def fail_commit(monkeypatch: pytest.MonkeyPatch, fault: Exception) -> None:
    """Every commit fails after its flush: the statements ran, the commit did not."""

    def commit(self: Session) -> None:
        self.flush()
        raise fault

    monkeypatch.setattr(Session, "commit", commit)


@pytest.fixture
def survey_url(make_store, make_staff, make_receipt) -> str:
    store = make_store("SH-001")
    return f"/r/{make_receipt(store, make_staff(store, 'S001')).token}"


@FAULTS
def test_a_shopper_whose_submit_meets_a_database_fault_keeps_every_answer(
    client, survey_url, db_session, monkeypatch, fault
):
    fail_commit(monkeypatch, fault)
    answers = {"nps": "3", "csat": "2", "problem_category": "price", "comment": "价格标签不对"}
    page = post_form(client, survey_url, answers, headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 503
    assert page.headers["Retry-After"].isdigit()
    assert "Please press Send again" in html
    assert "价格标签不对" in html
    assert re.search(r'name="nps"[^>]*value="3"[^>]*checked', html)
    assert re.search(r'value="price"[^>]*checked', html)
    # The flushed response, its case and its rollups were rolled back with the commit.
    assert (count(db_session, Response), count(db_session, Case)) == (0, 0)
    assert db_session.scalars(select(Receipt.answered_at)).one() is None


@FAULTS
def test_the_pos_api_answers_503_json_on_a_database_fault(
    client, db_session, settings, monkeypatch, fault
):
    store = add_store_with_cashier(db_session)
    key = create_api_key(db_session, store, actor=CLI, now=utcnow()).secret
    fail_commit(monkeypatch, fault)
    answer = client.post(
        "/api/v1/receipts",
        json={"transaction_id": "T-1", "staff_code": "S001"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert answer.get_json()["error"]["code"] == "unavailable"
    assert count(db_session, Receipt) == 0


def test_an_error_that_is_not_an_outage_is_still_a_server_error(client, survey_url, monkeypatch):
    bug = DBAPIError("INSERT", {}, Exception("syntax error"))
    fail_commit(monkeypatch, bug)
    with pytest.raises(DBAPIError):
        post_form(client, survey_url, {"nps": "9", "csat": "5"})


def _action_form(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the case page's form posting to ``action``."""
    form = re.search(rf'<form[^>]*action="[^"]*/{action}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no {action} form"
    hidden = re.findall(r'<input[^>]*type="hidden"[^>]*>', form.group(1))
    fields = {}
    for tag in hidden:
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = html_lib.unescape(value.group(1) if value else "")
    return fields


@FAULTS
def test_a_case_note_meets_a_database_fault_and_is_kept(
    client,
    db_session,
    make_store,
    make_staff,
    make_user,
    make_response,
    login_as,
    monkeypatch,
    fault,
):
    store = make_store("SH-001")
    make_response(store, make_staff(store, "S001"), nps=1, csat=1, category="price")
    case = db_session.scalars(select(Case)).one()
    login_as(make_user(Role.MANAGER, stores=[store]))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    events = count(db_session, CaseEvent)
    audit = count(db_session, AuditEntry)
    fail_commit(monkeypatch, fault)
    data = {**_action_form(page, "note"), "note-note": "给顾客回了电话，明天再联系"}
    answer = client.post(f"/cases/{case.id}/note", data=data, headers={"Accept-Language": "en"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert "给顾客回了电话，明天再联系" in html
    assert "nothing was saved" in html
    assert (count(db_session, CaseEvent), count(db_session, AuditEntry)) == (events, audit)


@contextmanager
def write_lock_held_by_another_process(engine: Engine) -> Iterator[None]:
    """Another process holds SQLite's write lock on the file; the portal waits 100 ms for
    it (its busy_timeout), not 15 s."""
    if engine.dialect.name != "sqlite":
        pytest.skip("a file lock held by another connection is SQLite's busy state")

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection, _record) -> None:
        # After make_engine's own listener: wait 100 ms for the lock, not 15 s.
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    engine.dispose()
    holder = sqlite3.connect(str(engine.url.database), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_locked_database_file_gives_503_then_the_resubmit_is_stored_once(
    fresh_engine, make_app, settings
):
    with Session(fresh_engine) as session, session.begin():
        issued = issue_one_receipt(session, settings, add_store_with_cashier(session))
    client = make_app(fresh_engine).test_client()
    url = f"/r/{issued.token}"
    form = client.get(url).get_data(as_text=True)
    answers = {
        "nps": "10",
        "csat": "5",
        "comment": "收银员很耐心",
        "csrf_token": csrf_token_from(form),
    }
    with write_lock_held_by_another_process(fresh_engine):
        busy = client.post(url, data=answers, headers={"Accept-Language": "en"})
        html = busy.get_data(as_text=True)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"].isdigit()
        assert "收银员很耐心" in html
        assert re.search(r'name="nps"[^>]*value="10"[^>]*checked', html)
    retry = client.post(url, data={**answers, "csrf_token": csrf_token_from(html)})
    assert retry.status_code == 200
    with Session(fresh_engine) as session:
        assert count(session, Response) == 1
        assert session.scalars(select(Response.comment)).one() == "收银员很耐心"


def test_a_locked_database_file_gives_the_till_503_json_then_its_retry_is_stored_once(
    fresh_engine, make_app
):
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        key = create_api_key(session, store, actor=CLI, now=utcnow()).secret
    client = make_app(fresh_engine).test_client()
    receipt = {"transaction_id": "T-1", "staff_code": "S001"}
    headers = {"Authorization": f"Bearer {key}"}
    with write_lock_held_by_another_process(fresh_engine):
        busy = client.post("/api/v1/receipts", json=receipt, headers=headers)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"].isdigit()
        assert busy.get_json()["error"]["code"] == "unavailable"
    assert client.post("/api/v1/receipts", json=receipt, headers=headers).status_code == 201
    with Session(fresh_engine) as session:
        assert count(session, Receipt) == 1


@FAULTS
def test_a_mystery_report_page_meets_a_database_fault_and_keeps_the_typed_values(
    client,
    login_as,
    setup,  # noqa: F811 (the imported fixture)
    monkeypatch,
    fault,
):
    visit, store = setup["visit"], setup["store"]
    login_as(setup["shopper"])
    assert _act(client, visit.id, "accept").status_code == 302
    started = utcnow().astimezone(zone(store.timezone)).replace(tzinfo=None) - timedelta(hours=2)
    facts = {
        "started_at": started.strftime("%Y-%m-%dT%H:%M"),
        "ended_at": (started + timedelta(minutes=25)).strftime("%Y-%m-%dT%H:%M"),
        "served_by": "",
        "served_by_description": "戴眼镜的高个子店员",
        "transaction_id": "TX-4711",
    }
    url = f"/mystery/visits/{visit.id}/report/visit"
    form = client.get(url).get_data(as_text=True)
    fail_commit(monkeypatch, fault)
    page = client.post(url, data={**facts, "csrf_token": csrf_token_from(form)}, headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 503
    assert page.headers["Retry-After"].isdigit()
    assert "戴眼镜的高个子店员" in html and 'value="TX-4711"' in html
    assert "nothing was saved" in html
    setup["session"].expire_all()
    assert setup["session"].get(MysteryVisit, visit.id).transaction_id is None
