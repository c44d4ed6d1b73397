"""Item 19, "disk full": the database file cannot grow, and SQLite answers a write that
needs a new page with SQLITE_FULL, "database or disk is full" (the very error a full file
system gives it). ``PRAGMA max_page_count`` at the file's present size, set on every
connection of the portal's engine, makes that real without root or a small file system.

The shopper gets the "please send again" page with every answer kept, the till a 503 JSON,
a manager's case note is kept on its page; nothing is half-written; once there is room
again, sending again stores each thing once.

On PostgreSQL a real full disk is not practical in a test: the server reports it as SQLSTATE
53100 (disk_full), which the driver raises as an ``OperationalError``, and that error is
one of the faults of ``test_database_unavailable.py`` (shopper, till, case note, mystery
report), run on both databases. These tests run on SQLite only.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.auth.operations import create_user
from portal.db import Base, utcnow
from portal.models import Case, CaseEvent, Receipt, Response, Role
from portal.pos_api.operations import create_api_key
from portal.shopper.operations import record_response
from surveys.answers import Answers
from surveys.loader import receipt_survey
from tests.conftest import (
    PASSWORD,
    add_store_with_cashier,
    csrf_token_from,
    issue_one_receipt,
    post_form,
)
from tests.portal.faults.live_server import check_consistent, issue_receipts
from tests.portal.faults.test_database_unavailable import _action_form

FULL = "database or disk is full"
#: A comment as long as the survey allows, too long for the free space of any page.
LONG_COMMENT = ("价格标签和收银台的价格不一致，店员说会马上改。" * 100)[:2000]
EN = {"Accept-Language": "en"}


class Disk:
    """How far the database file of ``engine`` may grow, for every new connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pages: int | None = None
        #: The driver's message of every database error the portal met.
        self.errors: list[str] = []
        event.listen(engine, "connect", self._limit)
        event.listen(engine, "handle_error", self._record)

    def _limit(self, dbapi_connection: Any, _record: Any) -> None:
        if self.pages is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count={self.pages}")

    def _record(self, context: Any) -> None:
        self.errors.append(str(context.original_exception))

    def fill(self) -> None:
        """No room left: the file may not grow past its present size."""
        # Pages on the free list (left by migrations that copy a table) would be reused
        # before the file grows: give them back first, so that none is left.
        self.engine.dispose()
        with closing(sqlite3.connect(str(self.engine.url.database), isolation_level=None)) as db:
            db.execute("VACUUM")
        with self.engine.connect() as conn:
            self.pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
        self.engine.dispose()  # every connection from now on has the limit

    def free(self) -> None:
        self.pages = None
        self.engine.dispose()


@pytest.fixture
def disk(fresh_engine: Engine) -> Disk:
    if fresh_engine.dialect.name != "sqlite":
        pytest.skip(
            "a real full disk is made with SQLite's max_page_count; on PostgreSQL the "
            "disk_full OperationalError takes the path tested in test_database_unavailable"
        )
    return Disk(fresh_engine)


def rows_per_table(engine: Engine) -> dict[str, int]:
    """Row counts of every table but the throttle's (its counts commit on their own)."""
    with Session(engine) as session:
        return {
            name: session.scalar(select(func.count()).select_from(table)) or 0
            for name, table in Base.metadata.tables.items()
            if name != "rate_limit_hits"
        }


def test_a_full_disk_keeps_the_shoppers_answers_and_the_resubmit_is_stored_once(
    fresh_engine, make_app, settings, disk
):
    (_, earlier), (receipt_id, token) = issue_receipts(fresh_engine, settings, 2)
    client = make_app(fresh_engine).test_client()
    # The portal has been in use: an earlier shopper answered (the survey is published).
    assert post_form(client, f"/r/{earlier}", {"nps": "9", "csat": "5"}).status_code == 200
    url = f"/r/{token}"
    answers = {
        "nps": "2",
        "csat": "1",
        "problem": "y",
        "problem_category": "price",
        "comment": LONG_COMMENT,
        "csrf_token": csrf_token_from(client.get(url).get_data(as_text=True)),
    }
    before = rows_per_table(fresh_engine)
    disk.fill()
    full = client.post(url, data=answers, headers=EN)
    html = full.get_data(as_text=True)
    assert full.status_code == 503, html
    assert full.headers["Retry-After"].isdigit()
    assert FULL in disk.errors
    assert "Please press Send again" in html
    assert LONG_COMMENT in html
    assert re.search(r'name="nps"[^>]*value="2"[^>]*checked', html)
    assert re.search(r'value="price"[^>]*checked', html)
    assert rows_per_table(fresh_engine) == before

    disk.free()
    again = client.post(url, data={**answers, "csrf_token": csrf_token_from(html)}, headers=EN)
    assert again.status_code == 200
    assert 'id="validation-code"' in again.get_data(as_text=True)
    with Session(fresh_engine) as session:
        stored = session.scalars(select(Response).where(Response.receipt_id == receipt_id)).one()
        assert stored.comment == LONG_COMMENT
        assert session.scalar(select(func.count()).select_from(Response)) == 2
        assert check_consistent(session) == 1  # the unhappy answer's one case


def test_a_full_disk_gives_the_till_503_json_and_its_retry_is_stored_once(
    fresh_engine, make_app, disk
):
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        key = create_api_key(session, store, actor=CLI, now=utcnow()).secret
    client = make_app(fresh_engine).test_client()

    def print_receipt(n: int) -> Any:
        body = {"transaction_id": f"T-{n:04d}", "staff_code": "S001"}
        return client.post(
            "/api/v1/receipts", json=body, headers={"Authorization": f"Bearer {key}"}
        )

    disk.fill()
    # The till prints receipt after receipt, each fitting in the room left in the file's
    # pages, until one needs a new page.
    printed = 0
    while (answer := print_receipt(printed)).status_code == 201:
        printed += 1
        assert printed < 2000, "the database never filled up"
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.headers["Retry-After"].isdigit()
    assert answer.get_json()["error"]["code"] == "unavailable"
    assert FULL in disk.errors
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Receipt)) == printed
        check_consistent(session)

    disk.free()
    assert print_receipt(printed).status_code == 201
    assert print_receipt(printed).status_code == 200  # a reprint: the same receipt
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Receipt)) == printed + 1
        check_consistent(session)


def test_a_full_disk_keeps_a_managers_case_note_and_the_resend_is_stored_once(
    fresh_engine, make_app, settings, disk
):
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        email = "manager@example.com"
        create_user(
            session,
            email=email,
            role=str(Role.MANAGER),
            password=PASSWORD,
            stores=[store],
            actor=CLI,
            now=utcnow(),
        )
        receipt = issue_one_receipt(session, settings, store).receipt
        unhappy = Answers(1, 1, {}, False, None, None, None)
        record_response(
            session,
            settings=settings,
            receipt=receipt,
            definition=receipt_survey(),
            answers=unhappy,
            locale="zh_CN",
            now=utcnow(),
        )
    with Session(fresh_engine) as session:
        case_id = session.scalars(select(Case.id)).one()
    client = make_app(fresh_engine).test_client()
    assert post_form(client, "/login", {"email": email, "password": PASSWORD}).status_code == 302
    url = f"/cases/{case_id}/note"
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    note = ("给顾客回了电话，她说价格标签还是不对，明天再去店里看看。" * 80)[:2000]
    before = rows_per_table(fresh_engine)
    disk.fill()
    full = client.post(url, data={**_action_form(page, "note"), "note-note": note}, headers=EN)
    html = full.get_data(as_text=True)
    assert full.status_code == 503, html
    assert FULL in disk.errors
    assert note in html and "nothing was saved" in html
    assert rows_per_table(fresh_engine) == before

    disk.free()
    again = client.post(url, data={**_action_form(html, "note"), "note-note": note}, headers=EN)
    assert again.status_code in (200, 302)
    with Session(fresh_engine) as session:
        notes = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()
        assert [event.note for event in notes].count(note) == 1
