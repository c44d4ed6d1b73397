"""The demo chain (portal.demo): a small build into a fresh migrated database, checked for
the properties the pages and the analysis rely on.

The database is a new SQLite file, or, when ``PORTAL_TEST_DATABASE_URL`` names a
PostgreSQL server (the suite's second run), a new schema there that is dropped afterwards:
the bulk inserts differ enough between the two drivers to be worth building on both.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import Engine, Select, func, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from portal.calendar import Period
from portal.cases.operations import FOLLOW_UP_DAYS, case_trigger, is_overdue
from portal.cases.service_level import service_level
from portal.config import Settings
from portal.db import make_engine, utcnow
from portal.demo import (
    DEMO_PASSWORD,
    DemoExists,
    DemoSummary,
    build_demo,
    demo_exists,
    demo_logins,
)
from portal.demo.answers import _CATEGORY_WEIGHTS
from portal.demo.cases import _RESOLUTIONS
from portal.demo.chain import issue_receipt_to_try
from portal.demo.commands import demo_command
from portal.demo.mystery_plan import SHOPPERS
from portal.demo.mystery_texts import (
    NA_COMMENTS,
    RETAIL_NO,
    RETURNS_NO,
    THIN_COMMENTS,
    THIN_NARRATIVES,
)
from portal.models import (
    RELEASED_STATES,
    AuditEntry,
    AwardCycle,
    Case,
    CaseEvent,
    CaseState,
    Channel,
    FollowUp,
    MysteryVisit,
    Nomination,
    NominationState,
    OutboxMessage,
    Receipt,
    Resolution,
    Response,
    ResponseContact,
    ReturnVisit,
    Role,
    SnapshotRow,
    Staff,
    StaffObservation,
    Store,
    StoreFormat,
    SurveyVersion,
    User,
    VisitDispute,
    VisitEvent,
    VisitState,
)
from portal.models.mystery import DAYPART_HOURS
from portal.mystery.photos import average_hash, photo_path
from portal.mystery.report import DAYPART_GRACE_HOURS, RECEIPT_GRACE
from portal.mystery.visits import checklist_of, visit_answers
from portal.schema import upgrade_database
from surveys.checklists import MIN_COMMENT_CHARS, completeness_errors
from surveys.codes import normalize_short_code
from surveys.loader import receipt_survey

NOW = datetime(2026, 3, 4, 15, 30, 12, tzinfo=UTC)
SETTINGS = Settings(secret_key="demo-test-secret", token_days=30)
DAYS = 10
RESPONSES = 1500
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Built:
    engine: Engine
    summary: DemoSummary
    progress: tuple[int, ...]
    photos: Path


@contextmanager
def fresh_engine(path: Path) -> Iterator[Engine]:
    """A migrated, empty database of its own, whatever the other tests left behind."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        engine = make_engine(f"sqlite:///{path}")
        upgrade_database(engine)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    schema = f"demo_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade_database(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    folder = tmp_path_factory.mktemp("demo")
    with fresh_engine(folder / "demo.sqlite3") as engine:
        steps: list[int] = []
        with Session(engine) as session, session.begin():
            summary = build_demo(
                session,
                SETTINGS,
                now=NOW,
                days=DAYS,
                responses=RESPONSES,
                progress=steps.append,
                photo_folder=folder / "mystery-photos",
            )
        yield Built(engine, summary, tuple(steps), folder / "mystery-photos")


@pytest.fixture
def session(built: Built) -> Iterator[Session]:
    with Session(built.engine) as session:
        yield session


def scalar(session: Session, stmt: Select[Any]) -> int:
    value = session.scalar(stmt)
    assert value is not None
    return int(value)


def test_the_chain_has_enough_stores_regions_and_staff(session: Session, built: Built) -> None:
    assert scalar(session, select(func.count()).select_from(Store)) >= 14
    assert scalar(session, select(func.count(func.distinct(Store.region)))) >= 4
    assert scalar(session, select(func.count()).select_from(Staff)) >= 160
    assert built.summary.stores == scalar(session, select(func.count()).select_from(Store))
    assert built.summary.staff == scalar(session, select(func.count()).select_from(Staff))
    assert set(session.scalars(select(Store.timezone))) == {"Asia/Shanghai"}
    assert all(
        re.fullmatch(r"[A-Z]{2}-\d{3}", code) for code in session.scalars(select(Store.code))
    )
    # Some former staff are kept inactive, as an HR export would show them.
    assert scalar(session, select(func.count()).where(Staff.active.is_(False))) >= 1


def test_every_store_has_an_address_and_a_format(session: Session) -> None:
    # A shopper's assignment shows where to go; the console lists the kind of shop.
    stores = session.scalars(select(Store)).all()
    assert all(store.address.startswith(store.name[:2]) for store in stores)
    assert {store.format for store in stores} == {f.value for f in StoreFormat}


def test_response_count_is_near_the_request_and_most_receipts_go_unanswered(
    session: Session, built: Built
) -> None:
    responses = scalar(session, select(func.count()).select_from(Response))
    receipts = scalar(session, select(func.count()).select_from(Receipt))
    assert abs(responses - RESPONSES) <= RESPONSES * 0.1
    assert (built.summary.responses, built.summary.receipts) == (responses, receipts)
    assert 0.3 <= responses / receipts <= 0.5
    assert built.summary.days == DAYS


def test_every_role_has_a_login_that_exists(session: Session) -> None:
    logins = demo_logins()
    assert {login.role for login in logins} == {role.value for role in Role}
    users = {u.email: u for u in session.scalars(select(User))}
    for login in logins:
        assert login.password == DEMO_PASSWORD
        assert users[login.email].role == login.role
    managers = [users[login.email] for login in logins if login.role == Role.MANAGER]
    assert sorted(len(m.stores) for m in managers) == [1, 2]
    manager = users["manager@demo.example"]
    assert {s.code for s in manager.stores} == {"SH-001", "SH-002"}
    assert {s.region for s in manager.stores} == {"华东"}


def test_store_nps_differ_across_the_chain(session: Session) -> None:
    promoters = func.sum(when((Response.nps >= 9, 1), else_=0))
    detractors = func.sum(when((Response.nps <= 6, 1), else_=0))
    rows = session.execute(
        select(promoters, detractors, func.count()).group_by(Response.store_id)
    ).all()
    nps = [100 * (p - d) / n for p, d, n in rows]
    assert len(nps) >= 14
    assert max(nps) - min(nps) >= 15


def test_answers_come_after_the_purchase_and_before_now(session: Session) -> None:
    rows = session.execute(
        select(
            Receipt.issued_at,
            Receipt.answered_at,
            Response.submitted_at,
            Receipt.store_id,
            Response.store_id,
            Receipt.staff_id,
            Response.staff_id,
        ).join(Response, Response.receipt_id == Receipt.id)
    ).all()
    assert rows
    for issued, answered, submitted, store, response_store, staff, response_staff in rows:
        assert issued <= submitted <= NOW
        assert answered == submitted
        assert (store, staff) == (response_store, response_staff)
    # Every till receipt names its cashier (paper cards laid out at the counter do not).
    assert (
        scalar(
            session,
            select(func.count()).where(Receipt.staff_id.is_(None), Receipt.source != "paper"),
        )
        == 0
    )
    unanswered_with_date = scalar(
        session,
        select(func.count())
        .select_from(Receipt)
        .outerjoin(Response)
        .where(Response.id.is_(None), Receipt.answered_at.is_not(None)),
    )
    assert unanswered_with_date == 0


def test_receipts_lie_in_the_period_with_whole_second_expiry(session: Session) -> None:
    cards = session.scalars(select(Receipt).where(Receipt.source == "paper")).all()
    # Paper cards were printed in the period, without a cashier, and some came back.
    assert cards and all(NOW - timedelta(days=DAYS) <= card.issued_at <= NOW for card in cards)
    assert {card.staff_id for card in cards} == {None}
    assert any(card.answered_at is not None for card in cards)
    receipts = session.scalars(select(Receipt).where(Receipt.source != "paper")).all()
    start = NOW - timedelta(days=DAYS)
    lifetime = timedelta(days=SETTINGS.token_days)
    for receipt in receipts:
        assert start <= receipt.issued_at <= NOW
        assert receipt.expires_at == receipt.created_at + lifetime
        assert receipt.expires_at.microsecond == 0 and receipt.expires_at.tzinfo is not None
        assert receipt.source == "demo"
        assert receipt.transaction_id.startswith(f"{receipt.store.code}-")
        assert normalize_short_code(receipt.short_code) == receipt.short_code
        # Opening hours 9:00-22:00 China time (UTC+8).
        assert 9 <= (receipt.issued_at + timedelta(hours=8)).hour < 22
    # A visitor can open a live survey: recent receipts, not answered, not expired.
    live = [
        r
        for r in receipts
        if r.answered_at is None and r.expires_at > NOW and r.issued_at > NOW - timedelta(days=2)
    ]
    assert len(live) >= 5


def test_comments_are_mostly_chinese_with_some_english(session: Session) -> None:
    comments = [c for c in session.scalars(select(Response.comment)) if c is not None]
    responses = scalar(session, select(func.count()).select_from(Response))
    assert 0.15 <= len(comments) / responses <= 0.35
    chinese = [c for c in comments if CHINESE.search(c)]
    english = [c for c in comments if c.isascii() and re.search(r"[A-Za-z]{3}", c)]
    assert len(chinese) > len(english) > 0
    locales = dict(
        session.execute(select(Response.locale, func.count()).group_by(Response.locale))
        .tuples()
        .all()
    )
    assert set(locales) == {"zh_CN", "en"}
    assert 0.05 <= locales["en"] / responses <= 0.25


def test_contacts_only_on_detractors_with_the_consent_they_saw(session: Session) -> None:
    rows = session.execute(
        select(Response.nps, Response.locale, Response.submitted_at, ResponseContact).join(
            ResponseContact, ResponseContact.response_id == Response.id
        )
    ).all()
    assert rows
    definition = session.scalars(
        select(SurveyVersion.definition).where(SurveyVersion.survey_key == "receipt")
    ).one()
    for nps, locale, submitted, contact in rows:
        assert nps <= 6
        assert contact.phone or contact.email
        assert contact.consent_text == definition["consent"][locale]
        assert contact.consented_at == submitted
        if contact.phone:
            assert re.fullmatch(r"1[3-9]\d{9}", contact.phone)


def test_scores_and_problems_fit_together(session: Session) -> None:
    responses = session.scalars(select(Response)).all()
    receipt_version = select(SurveyVersion.id).where(SurveyVersion.survey_key == "receipt")
    assert {r.survey_version_id for r in responses} == {scalar(session, receipt_version)}
    for r in responses:
        assert r.problem_reported == (r.problem_category is not None)
        if r.redeemed_at is not None:
            assert r.submitted_at <= r.redeemed_at <= NOW
    low = [r for r in responses if r.nps <= 6]
    high = [r for r in responses if r.nps >= 9]
    assert problem_share(low) > 0.4 > 0.1 > problem_share(high)
    rated = [r.rating_speed for r in responses if r.rating_speed is not None]
    assert 0.55 <= len(rated) / len(responses) <= 0.85
    assert any(r.redeemed_at is not None for r in responses)


def problem_share(responses: list[Response]) -> float:
    return sum(r.problem_reported for r in responses) / len(responses)


def test_progress_adds_up_to_100_and_demo_exists(session: Session, built: Built) -> None:
    assert sum(built.progress) == 100
    assert all(step > 0 for step in built.progress)
    assert demo_exists(session)


def test_a_second_build_is_refused(session: Session) -> None:
    with pytest.raises(DemoExists):
        build_demo(session, SETTINGS, now=NOW, days=2, responses=50)
    session.rollback()


def test_the_same_seed_gives_the_same_answers(tmp_path: Path) -> None:
    def answers(name: str) -> list[tuple[object, ...]]:
        with fresh_engine(tmp_path / name) as engine, Session(engine) as session:
            assert not demo_exists(session)
            build_demo(
                session,
                SETTINGS,
                now=NOW,
                seed=7,
                days=3,
                responses=200,
                photo_folder=tmp_path / f"{name}-photos",
            )
            rows = (
                session.execute(
                    select(
                        Response.submitted_at, Response.nps, Response.csat, Response.comment
                    ).order_by(Response.id)
                )
                .tuples()
                .all()
            )
            cases = (
                session.execute(
                    select(
                        Case.opened_at,
                        Case.state,
                        Case.first_contact_at,
                        Case.resolved_at,
                        Case.closed_at,
                        Case.return_visit,
                    ).order_by(Case.id)
                )
                .tuples()
                .all()
            )
            visits = (
                session.execute(
                    select(
                        MysteryVisit.store_id,
                        MysteryVisit.shopper_id,
                        MysteryVisit.window_start,
                        MysteryVisit.state,
                        MysteryVisit.visit_started_at,
                        MysteryVisit.transaction_id,
                        MysteryVisit.answers,
                        MysteryVisit.score,
                    ).order_by(MysteryVisit.id)
                )
                .tuples()
                .all()
            )
            session.rollback()
            return [*rows, *cases, *visits]

    assert answers("a.sqlite3") == answers("b.sqlite3")


def test_demo_problem_categories_are_the_surveys_own():
    choices = receipt_survey().question("problem_category").choice_keys()
    assert tuple(_CATEGORY_WEIGHTS) == choices


# --- follow-up cases ----------------------------------------------------------------------


def test_every_unhappy_response_opened_one_case_in_its_state_by_age(
    session: Session, built: Built
) -> None:
    # A return call's answer belongs to the case it was made for: it opens none.
    responses = session.scalars(select(Response).where(Response.channel != Channel.PHONE)).all()
    unhappy = {r.id: r for r in responses if case_trigger(r.nps, r.csat, r.problem_reported)}
    cases = session.scalars(select(Case)).all()
    assert built.summary.cases == len(cases) == len(unhappy) > 0
    for case in cases:
        # Opened when the answer came in, on the demo's clock.
        assert case.opened_at == unhappy[case.response_id].submitted_at
    states = {state: [c for c in cases if c.state == state] for state in CaseState}
    assert all(states.values()), {state: len(found) for state, found in states.items()}
    # Older cases are mostly closed; the newest are open or in progress.
    old = [c for c in cases if c.opened_at < NOW - timedelta(days=6)]
    assert sum(c.state == CaseState.CLOSED for c in old) / len(old) > 0.7
    assert {c.return_visit for c in states[CaseState.CLOSED]} == set(ReturnVisit)
    newest = [c for c in cases if c.opened_at > NOW - timedelta(hours=12)]
    waiting = [c for c in newest if c.state in (CaseState.OPEN, CaseState.IN_PROGRESS)]
    assert newest and len(waiting) / len(newest) > 0.8


def test_some_open_cases_are_overdue_none_of_them_old(session: Session) -> None:
    open_cases = session.scalars(select(Case).where(Case.state == CaseState.OPEN)).all()
    overdue = [c for c in open_cases if is_overdue(c, NOW)]
    assert 0 < len(overdue) < len(open_cases)
    for case in overdue:
        assert NOW - timedelta(days=4) < case.opened_at < NOW - timedelta(days=1)
        assert case.first_contact_at is None
        # The overdue job runs hourly: only a deadline of the last hour may be unnoticed.
        if case.first_response_due_at < NOW - timedelta(hours=1):
            assert case.overdue_notified_at is not None
        if case.overdue_notified_at is not None:
            assert case.first_response_due_at < case.overdue_notified_at <= NOW
    assert any(case.overdue_notified_at is not None for case in overdue)


def test_cases_go_to_the_stores_manager_or_the_admin(session: Session) -> None:
    users = {u.email: u.id for u in session.scalars(select(User))}
    managed = {
        "SH-001": users["manager@demo.example"],
        "SH-002": users["manager@demo.example"],
        "GZ-002": users["manager2@demo.example"],
    }
    rows = session.execute(select(Store.code, Case.assignee_id).join(Case.store)).all()
    for code, assignee in rows:
        if code in managed:
            assert assignee == managed[code]
        else:
            assert assignee in (None, users["admin@demo.example"])
    others = [assignee for code, assignee in rows if code not in managed]
    assert None in others and users["admin@demo.example"] in others


def test_case_timelines_run_forward_and_tell_every_kind_of_story(session: Session) -> None:
    cases = {c.id: c for c in session.scalars(select(Case))}
    events: dict[int, list[CaseEvent]] = {}
    for event in session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
        events.setdefault(event.case_id, []).append(event)
    assert events.keys() == cases.keys()
    for case_id, timeline in events.items():
        # Played in time order across all cases, with the overdue job among them.
        assert [e.at for e in timeline] == sorted(e.at for e in timeline)
        assert timeline[0].kind == "opened" and timeline[0].at == cases[case_id].opened_at
        assert timeline[-1].at <= NOW
    kinds = {e.kind for timeline in events.values() for e in timeline}
    assert {
        "assigned",
        "contacted",
        "resolved",
        "follow_up_sent",
        "follow_up_answered",
        "closed",
        "reopened",
        "overdue_notified",
    } <= kinds
    reopened = [c for c in cases.values() if "reopened" in {e.kind for e in events[c.id]}]
    assert reopened and all(c.state != CaseState.OPEN for c in reopened)


def test_follow_ups_only_after_resolution_to_consenting_customers(session: Session) -> None:
    rows = session.execute(select(FollowUp, Case).join(Case, Case.id == FollowUp.case_id)).all()
    assert rows
    answered = [(f, c) for f, c in rows if f.answered_at is not None]
    assert answered and len(answered) < len(rows)
    for follow_up, case in rows:
        assert case.contact_phone or case.contact_email
        assert case.resolved_at is not None and case.resolved_at <= follow_up.created_at
        assert follow_up.expires_at == follow_up.created_at + timedelta(days=FOLLOW_UP_DAYS)
        if follow_up.answered_at is not None:
            assert follow_up.score is not None
            assert follow_up.created_at <= follow_up.answered_at <= NOW
            # The answer closed the loop.
            assert case.closed_at == follow_up.answered_at
            assert case.return_visit == ("satisfied" if follow_up.score >= 4 else "unsatisfied")


def test_the_outbox_holds_the_last_days_mail_the_older_went_out(session: Session) -> None:
    mails = session.scalars(select(OutboxMessage)).all()
    emails = set(session.scalars(select(User.email)))
    cases = {case.id: case for case in session.scalars(select(Case))}
    waiting = [mail for mail in mails if mail.sent_at is None]
    assert waiting and len(waiting) < len(mails)
    for mail in mails:
        if mail.case_id is None and "/reviews/" in mail.body:
            # Last month's service reviews, mailed to the managers as the demo is built.
            assert mail.to in emails and mail.created_at == NOW
            continue
        if mail.case_id is None:
            # Alerts are about a store's week, not a case: to its managers.
            assert mail.to in emails and ("[Alert]" in mail.subject or "[预警]" in mail.subject)
            continue
        # Notices go to the staff on the case, follow-up questions to the customer.
        assert mail.to in emails or mail.to == cases[mail.case_id].contact_email
        if mail.sent_at is None:
            assert NOW - timedelta(days=3) <= mail.created_at <= NOW
        else:
            assert mail.sent_at == mail.created_at < NOW - timedelta(days=2)
    assert any("Overdue" in mail.subject for mail in waiting)
    assert any(mail.to not in emails for mail in mails)


def test_demo_resolutions_fit_the_categories_and_the_model() -> None:
    assert set(_RESOLUTIONS) == set(_CATEGORY_WEIGHTS)
    assert {r for options in _RESOLUTIONS.values() for r in options} <= set(Resolution)


def test_the_service_level_panel_has_something_true_to_show(session: Session) -> None:
    store = session.scalars(select(Store).where(Store.code == "SH-001")).one()
    period = Period(NOW.date() - timedelta(days=DAYS - 1), NOW.date())
    service = service_level(session, store.id, period, now=NOW)
    assert service.cases_opened == scalar(
        session, select(func.count()).where(Case.store_id == store.id)
    )
    deadline = service.answered_within_deadline
    assert deadline.n > 0 and deadline.value is not None and 60 <= deadline.value < 100
    assert service.median_hours_to_first_response.n > 0
    assert service.median_hours_to_resolution.n > 0
    assert service.complaint_rate_per_1000.n > 100


# --- mystery shopping ---------------------------------------------------------------------


def visits_of(session: Session) -> list[MysteryVisit]:
    return list(session.scalars(select(MysteryVisit).order_by(MysteryVisit.id)))


def test_mystery_visits_in_every_state(session: Session, built: Built) -> None:
    visits = visits_of(session)
    states = {state: sum(v.state == state for v in visits) for state in VisitState}
    assert all(states.values()), states
    mystery = built.summary.mystery
    assert mystery.visits == len(visits)
    assert dict(mystery.by_state) == {str(s): n for s, n in states.items()}
    assert mystery.line().startswith(f"mystery visits: {len(visits)} (")
    # Older visits are mostly final; the retail checklist is the usual one.
    old = [
        v for v in visits if v.visit_started_at and v.visit_started_at < NOW - timedelta(days=21)
    ]
    assert sum(v.state == VisitState.FINAL for v in old) / len(old) > 0.8
    retail = sum(v.checklist_key == "retail-standard" for v in visits)
    assert len(visits) / 2 < retail < len(visits)


def test_four_mystery_shoppers_unknown_to_the_staff(session: Session) -> None:
    shoppers = session.scalars(select(User).where(User.role == Role.MYSTERY)).all()
    assert {u.email for u in shoppers} == {spec.email for spec in SHOPPERS}
    staff_names = set(session.scalars(select(Staff.name)))
    assert not {u.name for u in shoppers} & staff_names
    visited = set(session.scalars(select(MysteryVisit.shopper_id)))
    assert visited == {u.id for u in shoppers}


def test_no_shopper_returns_to_a_store_within_the_lockout(session: Session, built: Built) -> None:
    lockout = timedelta(days=built.summary.mystery.lockout_days)
    assert lockout == timedelta(days=SETTINGS.mystery_lockout_days)
    windows: dict[tuple[int, int], list[MysteryVisit]] = {}
    for visit in visits_of(session):
        if visit.state not in (VisitState.DECLINED, VisitState.CANCELLED):
            windows.setdefault((visit.shopper_id, visit.store_id), []).append(visit)
    assert any(len(found) > 1 for found in windows.values())
    for found in windows.values():
        found.sort(key=lambda v: v.window_start)
        for before, after in zip(found, found[1:], strict=False):
            assert after.window_start - before.window_end > lockout


def test_filed_reports_are_complete_and_fit_the_visit(session: Session, built: Built) -> None:
    filed = [v for v in visits_of(session) if v.submitted_at is not None]
    assert filed
    hashes = set()
    for visit in filed:
        definition = checklist_of(visit)
        assert completeness_errors(definition, visit_answers(visit)) == {}
        started, ended = visit.visit_started_at, visit.visit_ended_at
        assert started is not None and ended is not None and visit.submitted_at is not None
        assert started < ended < visit.submitted_at <= NOW
        minutes = (ended - started).total_seconds() / 60
        assert definition.min_minutes <= minutes <= definition.max_minutes
        local = started + timedelta(hours=8)
        assert visit.window_start <= local.date() <= visit.window_end
        low, high = DAYPART_HOURS[visit.daypart]
        assert low - DAYPART_GRACE_HOURS <= local.hour < high + DAYPART_GRACE_HOURS
        assert 9 <= local.hour < 22
        if visit.served_by is not None:
            assert visit.served_by.store_id == visit.store_id
        else:
            assert visit.served_by_description
        assert visit.photo_file and visit.photo_hash
        assert photo_path(built.photos, visit.photo_file).is_file()
        hashes.add(visit.photo_hash)
        if visit.receipt is not None:
            assert visit.receipt_check == "matched"
            assert visit.receipt.store_id == visit.store_id
            assert visit.receipt.transaction_id == visit.transaction_id
            assert started <= visit.receipt.issued_at <= ended + RECEIPT_GRACE
        else:
            assert visit.receipt_check == "not_found"
            assert "receipt_not_found" in visit.flags
        assert "duplicate_photo" not in visit.flags
    # Every photo differs, also to the duplicate check.
    assert len(hashes) == len(filed)
    with Image.open(photo_path(built.photos, filed[0].photo_file or "")) as image:
        assert average_hash(image) == filed[0].photo_hash
    # Receipts of the demo's own period are found at the till.
    recent = [
        v
        for v in filed
        if v.visit_started_at and v.visit_started_at > NOW - timedelta(days=DAYS - 1)
    ]
    assert any(v.receipt_check == "matched" for v in recent)


def test_answers_differ_by_store_and_fail_critical_items(session: Session) -> None:
    scored = [v for v in visits_of(session) if v.state in RELEASED_STATES]
    assert sum(v.auto_fail for v in scored) >= 1
    for visit in scored:
        if visit.auto_fail:
            assert visit.score == 0 and visit.grade == "fail"
            assert visit.score_before_autofail is not None and visit.score_before_autofail > 0
    section_zeroed = [v for v in scored if not v.auto_fail and 0.0 in v.section_scores.values()]
    assert len(section_zeroed) >= 2
    answers = [visit_answers(v) for v in scored]
    checks = [
        item.value for a in answers for item in a.items.values() if item.value in ("yes", "no")
    ]
    assert 0.05 < checks.count("no") / len(checks) < 0.3
    assert any(item.value == "na" for a in answers for item in a.items.values())
    scores = [v.score for v in scored if v.score is not None and not v.auto_fail]
    assert max(scores) - min(scores) > 25


def test_demo_texts_are_long_enough_to_file() -> None:
    context = {
        "time": "9:05",
        "product": "纸巾",
        "staff": "王伟",
        "queue": 1,
        "tills": 2,
        "price": "12.90",
        "shelf": "5.90",
        "seconds": 31,
        "minutes": 5,
        "rest": 1,
    }
    texts = [t for table in (RETAIL_NO, RETURNS_NO) for ts in table.values() for t in ts]
    texts += [t for ts in NA_COMMENTS.values() for t in ts] + list(THIN_COMMENTS)
    assert all(len(t.format(**context)) >= MIN_COMMENT_CHARS for t in texts)
    assert all(len(t) >= 40 for t in THIN_NARRATIVES)


def test_released_reports_wrote_staff_observations(session: Session) -> None:
    visits = visits_of(session)
    observed = {}
    for observation in session.scalars(select(StaffObservation)):
        observed.setdefault(observation.visit_id, []).append(observation)
    released = [v for v in visits if v.state in RELEASED_STATES]
    assert released
    for visit in released:
        assert visit.released_at is not None and visit.released_at <= NOW
        assert visit.dispute_until == visit.released_at + timedelta(days=SETTINGS.dispute_days)
        if visit.served_by_id is not None or visit.receipt_id is not None:
            found = observed[visit.id]
            assert {o.store_id for o in found} == {visit.store_id}
            assert {o.visit_day for o in found} == {visit.visit_day}
            staff = {o.staff_id for o in found}
            assert staff <= {visit.served_by_id, visit.receipt.staff_id if visit.receipt else None}
        if visit.state == VisitState.FINAL:
            assert visit.final_at is not None and visit.final_at <= NOW
    assert set(observed) <= {v.id for v in released}


def test_managers_disputed_and_can_still_dispute(session: Session) -> None:
    disputes = session.scalars(select(VisitDispute)).all()
    assert sorted(str(d.outcome) for d in disputes) == ["None", "adjusted", "upheld"]
    for dispute in disputes:
        visit = dispute.visit
        manager = session.get(User, dispute.raised_by_id)
        assert manager is not None and manager.role == Role.MANAGER
        assert visit.store_id in {s.id for s in manager.stores}
        assert visit.released_at is not None and visit.dispute_until is not None
        assert visit.released_at < dispute.raised_at <= visit.dispute_until
        assert visit_answers(visit).value(dispute.item_key or "") in ("no", "yes")
        if dispute.outcome is None:
            assert visit.state == VisitState.DISPUTED
        else:
            assert visit.state == VisitState.FINAL
            assert dispute.decided_at is not None and dispute.raised_at < dispute.decided_at
        if dispute.outcome == "adjusted":
            assert visit_answers(visit).value(dispute.item_key or "") == "yes"
    manager = session.scalars(select(User).where(User.email == "manager@demo.example")).one()
    open_to_dispute = session.scalars(
        select(MysteryVisit).where(
            MysteryVisit.state == VisitState.RELEASED,
            MysteryVisit.store_id.in_([s.id for s in manager.stores]),
            MysteryVisit.dispute_until > NOW,
        )
    ).all()
    assert open_to_dispute


def test_each_visit_timeline_runs_forward_into_its_state(session: Session) -> None:
    visits = {v.id: v for v in visits_of(session)}
    events: dict[int, list[VisitEvent]] = {}
    for event in session.scalars(select(VisitEvent).order_by(VisitEvent.id)):
        events.setdefault(event.visit_id, []).append(event)
    assert events.keys() == visits.keys()
    kinds = set()
    for visit_id, timeline in events.items():
        visit = visits[visit_id]
        assert [e.at for e in timeline] == sorted(e.at for e in timeline)
        assert timeline[0].kind == "scheduled" and timeline[-1].at <= NOW
        assert timeline[0].at == visit.created_at
        state = VisitState.ASSIGNED.value
        for event in timeline[1:]:
            kinds.add(event.kind)
            if event.to_state is not None:
                assert event.from_state == state
                state = event.to_state
        assert state == visit.state
    assert {"returned", "resubmitted", "answers_corrected", "rejected", "finalised"} <= kinds
    audited = scalar(session, select(func.count()).where(AuditEntry.action.like("mystery.%")))
    assert audited == sum(len(timeline) for timeline in events.values())
    # Audit and timeline are written in time order across all visits, as they happened.
    times = list(
        session.scalars(
            select(AuditEntry.at).where(AuditEntry.action.like("mystery.%")).order_by(AuditEntry.id)
        )
    )
    assert times == sorted(times)


def test_the_final_award_month_has_an_approved_nomination_without_answers(
    session: Session, built: Built
) -> None:
    """The demo's ten days start on 22 February: its final award month, January, has no
    answer at all and nobody is eligible, yet it ends with an approved nomination (and so
    a certificate), added by hand by HR."""
    assert built.summary.awards.final_month == date(2026, 1, 1)
    cycle = session.scalars(select(AwardCycle).where(AwardCycle.month == date(2026, 1, 1))).one()
    assert cycle.state == "final"
    eligible = select(func.count()).where(SnapshotRow.cycle_id == cycle.id, SnapshotRow.eligible)
    assert scalar(session, eligible) == 0
    approved = session.scalars(
        select(Nomination).where(
            Nomination.cycle_id == cycle.id, Nomination.state == NominationState.APPROVED
        )
    ).all()
    assert [n.source for n in approved] == ["manual"]
    assert approved[0].staff.active


def test_the_demo_command_comes_from_the_demo_package(app: Flask) -> None:
    assert app.cli.commands["demo"] is demo_command


def test_a_newcomer_gets_a_fresh_receipt_to_answer(built: Built, make_app, settings) -> None:
    with Session(built.engine) as session, session.begin():
        first = issue_receipt_to_try(session, settings, now=utcnow())
        second = issue_receipt_to_try(session, settings, now=utcnow())
        assert first.receipt.id != second.receipt.id  # every run prints a new one
        assert first.receipt.store.code == "SH-001" and first.receipt.answered_at is None
        client = make_app(session.connection()).test_client()
        page = client.get(f"/r/{first.token}?lang=en")
        assert page.status_code == 200
        assert 'name="nps"' in page.get_data(as_text=True)
        session.rollback()


def test_the_demo_has_last_months_reviews_and_their_pdf_draws_chinese(
    session: Session, built: Built
) -> None:
    from flask_babel import force_locale

    from portal import create_app
    from portal.models import MonthlyReview, Region
    from portal.review.content import from_json
    from portal.review.document import render_review_pdf
    from tests.portal.paper import pdf_reading

    open_stores = scalar(session, select(func.count()).where(Store.closed_at.is_(None)))
    regions = scalar(session, select(func.count()).select_from(Region))
    reviews = session.scalars(select(MonthlyReview).order_by(MonthlyReview.id)).all()
    # February 2026: the last month over on 4 March.
    assert {r.month for r in reviews} == {date(2026, 2, 1)}
    assert len(reviews) == open_stores + regions and regions >= 2
    content = from_json(reviews[0].content)
    assert content.trends.nps.n > 0 and content.targets_ready
    app = create_app(Settings(secret_key="demo-test-secret", testing=True))
    with app.test_request_context(), force_locale("zh_CN"):
        words = pdf_reading.text(render_review_pdf(content))
    assert "月度服务回顾" in words and CHINESE.search(content.scope_name)


def test_hr_trained_the_weakest_staff_and_the_greeting_trainees_answered_better(
    session: Session,
) -> None:
    from portal.models import Training, TrainingState
    from portal.training.queries import staff_training_effects

    trainings = session.scalars(select(Training).order_by(Training.id)).all()
    states = [t.state for t in trainings]
    assert states.count(TrainingState.DONE) == 5
    assert states.count(TrainingState.ASSIGNED) == states.count(TrainingState.CANCELLED) == 1
    greeting = [t for t in trainings if t.touchpoint == "greeting"]
    assert len(greeting) == 3 and all(t.state == TrainingState.DONE for t in greeting)
    # The demo's extra answers after the greeting training are all promoters or passives.
    for t in greeting:
        [effect] = [e for e in staff_training_effects(session, t.staff_id) if e.training.id == t.id]
        assert effect.nps is not None and effect.nps.person_after > 0
