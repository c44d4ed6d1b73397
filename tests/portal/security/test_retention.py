"""Retention and erasure: `purge` deletes contact details and comments past their retention
(keeping every figure), `erase-customer` deletes one customer's, and deleted values are gone
from the SQLite file."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.admin.retention import erase_customer, phone_key, purge_expired
from portal.audit import CLI
from portal.cases.operations import add_note, open_case_manually
from portal.db import make_sessionmaker
from portal.models import (
    AuditEntry,
    Case,
    CaseEvent,
    DailyRollup,
    OutboxMessage,
    PhoneOutcome,
    Response,
    ResponseContact,
    Role,
    StoreDailyRollup,
    StoreMonthlyRollup,
    User,
)
from portal.phone.operations import record_phone_visit
from portal.rollups import rebuild_rollups
from portal.shopper.operations import record_response
from surveys.answers import Answers, ContactAnswer
from surveys.loader import receipt_survey
from tests.conftest import SETTINGS, add_store_with_cashier, issue_one_receipt

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=100)  # past the contact retention (90), within the comments'
ANCIENT = NOW - timedelta(days=800)  # past both
RECENT = NOW - timedelta(days=10)


def rollups(session: Session) -> list[tuple]:
    rows = []
    for model in (DailyRollup, StoreDailyRollup, StoreMonthlyRollup):
        columns = [c for c in model.__table__.columns]
        rows.append(sorted(tuple(r) for r in session.execute(select(*columns))))
    return rows


def scores(session: Session) -> list[tuple]:
    return list(
        session.execute(
            select(Response.id, Response.nps, Response.csat, Response.problem_category).order_by(
                Response.id
            )
        )
    )


@pytest.fixture
def history(make_store, make_staff, make_response, make_user):
    store = make_store("SH-001", name="徐汇店", timezone="Asia/Shanghai")
    staff = make_staff(store, "S001", name="李娜")
    make_user(Role.MANAGER, stores=[store], email="boss@sh.example")
    made = {}
    for label, when, phone in (
        ("ancient", ANCIENT, "13900000001"),
        ("old", OLD, "13900000002"),
        ("recent", RECENT, "13900000003"),
    ):
        made[label] = make_response(
            store,
            staff,
            nps=2,
            csat=1,
            category="service_attitude",
            comment=f"{label} comment, call {phone}",
            contact=ContactAnswer(phone, f"{label}@example.com"),
            now=when,
        )
    made["happy"] = make_response(store, staff, nps=10, comment="很好", now=ANCIENT)
    return store, made


def test_purge_deletes_contacts_and_comments_past_retention(db_session, history):
    store, made = history
    before_rollups, before_scores = rollups(db_session), scores(db_session)
    case_old = db_session.scalar(select(Case).where(Case.response_id == made["old"].id))
    assert case_old.contact_phone == "13900000002" and case_old.summary

    removed = purge_expired(db_session, CLI, contact_days=90, comment_days=730, now=NOW)

    contacts = dict(
        db_session.execute(select(ResponseContact.response_id, ResponseContact.phone)).all()
    )
    assert contacts == {made["recent"].id: "13900000003"}
    cases = {
        c.response_id: (c.contact_phone, c.contact_email, c.summary)
        for c in db_session.scalars(select(Case))
    }
    assert cases[made["ancient"].id] == (None, None, "")
    assert cases[made["old"].id] == (None, None, "old comment, call 13900000002")
    assert cases[made["recent"].id][0] == "13900000003"
    comments = dict(db_session.execute(select(Response.id, Response.comment)).all())
    assert comments[made["ancient"].id] is None and comments[made["happy"].id] is None
    assert comments[made["old"].id] and comments[made["recent"].id]
    assert (removed.contacts, removed.case_contacts, removed.comments) == (2, 2, 2)
    # Mail about the old cases (it may quote them) is gone; the recent case's stays.
    assert {m.case_id for m in db_session.scalars(select(OutboxMessage))} <= {
        c.id for c in db_session.scalars(select(Case).where(Case.response_id == made["recent"].id))
    }
    # The anonymous scores and every rolled-up figure are untouched, and still follow from
    # what is kept.
    assert scores(db_session) == before_scores
    assert rollups(db_session) == before_rollups
    rebuild_rollups(db_session)
    db_session.expire_all()
    assert rollups(db_session) == before_rollups
    (entry,) = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.purge"))
    assert entry.details["contacts"] == 2 and "13900000002" not in str(entry.details)


def without_csrf(page: bytes) -> bytes:
    """The page without its CSRF tokens, which are signed with the current second."""
    return re.sub(rb'name="csrf_token"[^>]*value="[^"]+"', b"", page)


def test_dashboard_figures_are_identical_after_a_purge(
    client, db_session, history, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    # The chain page shows at most two years: one window with the purged answers, one
    # with the recent ones.
    urls = [
        "/chain?from=2024-09-01&to=2026-08-31",
        "/chain?from=2024-12-01&to=2026-11-30",
        "/chain/nps.svg?days=365",
    ]
    pages = [client.get(url) for url in urls]
    assert [page.status_code for page in pages] == [200, 200, 200]
    before = [without_csrf(page.get_data()) for page in pages]
    purge_expired(db_session, CLI, contact_days=90, comment_days=730, now=NOW)
    assert [without_csrf(client.get(url).get_data()) for url in urls] == before


def test_case_notes_and_manual_case_texts_are_purged_with_the_comments(db_session, history):
    store, _made = history
    case = open_case_manually(
        db_session,
        SETTINGS,
        actor=CLI,
        store=store,
        staff_code=None,
        category="service_attitude",
        summary="顾客王先生 13912345678 投诉",
        contact_name="王先生",
        contact_phone="13912345678",
        contact_email=None,
        consent=True,
        now=ANCIENT,
    )
    add_note(db_session, case, note="已致电 13912345678", actor=CLI, now=ANCIENT)
    manager = db_session.scalars(select(User).where(User.email == "boss@sh.example")).one()
    call = record_phone_visit(
        db_session,
        SETTINGS,
        store=store,
        case=case,
        outcome=PhoneOutcome.UNREACHABLE,
        note="王先生让换个号码 13800000000 再打",
        user=manager,
        now=ANCIENT,
    )
    purge_expired(db_session, CLI, contact_days=90, comment_days=730, now=NOW)
    assert (case.contact_name, case.contact_phone, case.summary) == (None, None, "")
    notes = db_session.scalars(select(CaseEvent.note).where(CaseEvent.case_id == case.id))
    assert all(note == "" for note in notes)
    db_session.refresh(call)
    assert call.note is None


@pytest.mark.parametrize("named_by", ["code", "phone", "email"])
def test_erasure_removes_one_customers_details_everywhere(db_session, history, named_by):
    _store, made = history
    target = made["recent"]
    value = {
        "code": target.receipt.short_code,
        "phone": "+86 139-0000-0003",
        "email": "RECENT@example.com",
    }[named_by]
    before_rollups = rollups(db_session)
    removed = erase_customer(db_session, CLI, now=NOW, **{named_by: value})
    assert removed.contacts == 1 and removed.comments == 1 and removed.case_contacts == 1
    assert db_session.get(ResponseContact, target.id) is None
    assert db_session.get(Response, target.id).comment is None
    case = db_session.scalar(select(Case).where(Case.response_id == target.id))
    assert (case.contact_phone, case.contact_email, case.summary) == (None, None, "")
    assert not db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case.id)
    ).all()
    # The others keep theirs; the figures stay.
    assert db_session.get(ResponseContact, made["old"].id) is not None
    assert db_session.get(Response, made["old"].id).comment
    assert rollups(db_session) == before_rollups
    (entry,) = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.erase"))
    assert entry.details["named_by"] == named_by
    assert "0003" not in str(entry.details) and "recent" not in str(entry.details).lower()
    assert value not in entry.subject_id


def test_erasure_of_nobody_is_refused(db_session, history):
    from portal.admin.retention import NoSuchCustomer

    with pytest.raises(NoSuchCustomer):
        erase_customer(db_session, CLI, phone="13700000000", now=NOW)
    with pytest.raises(NoSuchCustomer):
        erase_customer(db_session, CLI, now=NOW)


def test_phone_key():
    assert phone_key("+86 138-1234-5678") == phone_key("13812345678") == "13812345678"
    assert phone_key("0086 13812345678") == "13812345678"
    assert phone_key("+44 20 7946 0958") == "442079460958"


def test_the_erase_customer_command(runner, db_session, history):
    _store, made = history
    result = runner.invoke(args=["erase-customer", "--email", "old@example.com"])
    assert result.exit_code == 0, result.output
    assert "old@example.com" not in result.output
    db_session.expire_all()
    assert db_session.get(ResponseContact, made["old"].id) is None
    refused = runner.invoke(args=["erase-customer", "--phone", "13700000000"])
    assert refused.exit_code != 0
    assert db_session.scalar(select(func.count()).select_from(ResponseContact)) == 2


# --- the file ------------------------------------------------------------------------------

PHONE = "13987654321"


def _stock_sqlite(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=OFF")


def database_bytes(engine) -> bytes:
    path = Path(engine.url.database)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_purged_values_are_gone_from_the_sqlite_file(fresh_engine, make_app, monkeypatch):
    if fresh_engine.dialect.name != "sqlite":
        pytest.skip("reads the SQLite file")
    # Stock SQLite leaves secure_delete off (some distributions' builds turn it on): start
    # every connection as stock SQLite would, before the portal's own connect hook runs.
    fresh_engine.dispose()
    event.listen(fresh_engine, "connect", _stock_sqlite, insert=True)
    app = make_app(fresh_engine)
    with make_sessionmaker(fresh_engine)() as session, session.begin():
        store = add_store_with_cashier(session)
        issued = issue_one_receipt(session, SETTINGS, store)
        record_response(
            session,
            settings=SETTINGS,
            receipt=issued.receipt,
            definition=receipt_survey(),
            answers=Answers(
                nps=1,
                csat=1,
                ratings={},
                problem_reported=False,
                problem_category=None,
                comment=f"my number is {PHONE}, zzcommentzz",
                contact=ContactAnswer(PHONE, "erase.me@example.com"),
            ),
            locale="zh_CN",
            now=issued.receipt.issued_at,
        )
    # Make the answer old enough for both retentions, then checkpoint it into the file.
    with fresh_engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE response_contacts SET consented_at = '2020-01-01 00:00:00.000000'"
        )
        conn.exec_driver_sql("UPDATE responses SET submitted_at = '2020-01-01 00:00:00.000000'")
        conn.exec_driver_sql("UPDATE cases SET opened_at = '2020-01-01 00:00:00.000000'")
    with fresh_engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert PHONE.encode() in database_bytes(fresh_engine)
    assert b"erase.me@example.com" in database_bytes(fresh_engine)

    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert re.search(r"contact details of 1 response", result.output)
    fresh_engine.dispose()
    raw = database_bytes(fresh_engine)
    assert PHONE.encode() not in raw
    assert b"erase.me@example.com" not in raw
    assert b"zzcommentzz" not in raw
