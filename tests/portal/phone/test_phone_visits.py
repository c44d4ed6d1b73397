"""Telephone return visits at the operations level: what an answered, unreachable or
declined call stores, what it does to the customer's case (timeline, return visit, first
contact, closing), which cashier it names, that it never opens a second case, the recovery
rate counting it, and two managers recording a call for the same case at once.

Times are fixed instants, never the clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal.audit import CLI, Actor
from portal.auth.operations import create_user
from portal.calendar import Period
from portal.cases.operations import open_case_manually, resolve_case
from portal.cases.service_level import service_level
from portal.db import writer
from portal.errors import NotFound
from portal.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseState,
    Channel,
    DailyRollup,
    PhoneOutcome,
    PhoneVisit,
    Response,
    ReturnVisit,
    Role,
    Staff,
    Store,
    User,
)
from portal.phone.operations import CannotCall, InvalidPhoneVisit, record_phone_visit
from portal.receipts import issue_receipt
from portal.shopper.operations import record_response
from portal.workflow import InvalidTransition
from surveys.answers import Answers, ContactAnswer
from surveys.loader import receipt_survey
from tests.conftest import PASSWORD, SETTINGS

#: A Monday morning in Shanghai.
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CALLED = NOW + timedelta(hours=3)
PHONE = "13800138000"


def scores(nps: int, csat: int) -> Answers:
    return Answers(
        nps=nps,
        csat=csat,
        ratings={},
        problem_reported=False,
        problem_category=None,
        comment=None,
        contact=None,
    )


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store("SH-001", name="徐汇店")


@pytest.fixture
def cashier(make_staff: Callable[..., Staff], store: Store) -> Staff:
    return make_staff(store, "S001", name="李娜")


@pytest.fixture
def manager(make_user: Callable[..., User], store: Store) -> User:
    return make_user(Role.MANAGER, stores=[store], email="chen.jing@example.com")


@pytest.fixture
def unhappy(
    db_session: Session, make_response: Callable[..., Response], store: Store, cashier: Staff
) -> Callable[..., Case]:
    """A detractor's answer to a receipt of the cashier, with a phone number left with
    consent; returns the case it opened."""

    def make(phone: str | None = PHONE) -> Case:
        contact = None if phone is None else ContactAnswer(phone=phone, email=None)
        response = make_response(
            store, cashier, nps=2, csat=1, contact=contact, now=NOW, comment="态度很差"
        )
        return db_session.scalars(select(Case).where(Case.response_id == response.id)).one()

    return make


def answered(nps: int, csat: int, *, solved: bool) -> dict[str, Any]:
    """The arguments of a call the customer answered."""
    return {
        "outcome": PhoneOutcome.ANSWERED,
        "answers": scores(nps, csat),
        "problem_solved": solved,
    }


def call(session: Session, store: Store, user: User, **kwargs: Any) -> PhoneVisit:
    kwargs.setdefault("note", "")
    kwargs.setdefault("now", CALLED)
    return record_phone_visit(session, SETTINGS, store=store, user=user, **kwargs)


def phone_answers(session: Session) -> list[Response]:
    stmt = select(Response).where(Response.channel == Channel.PHONE).order_by(Response.id)
    return list(session.scalars(stmt))


def phone_rollup(session: Session, store: Store) -> int:
    stmt = select(func.coalesce(func.sum(DailyRollup.responses), 0)).where(
        DailyRollup.store_id == store.id, DailyRollup.channel == Channel.PHONE
    )
    return int(session.scalar(stmt) or 0)


# --- from a case ----------------------------------------------------------------------------


def test_an_answered_call_from_a_case_is_a_phone_answer_and_a_timeline_event(
    db_session: Session, store: Store, cashier: Staff, manager: User, unhappy: Any
) -> None:
    case = unhappy()
    visit = call(
        db_session,
        store,
        manager,
        case=case,
        **answered(8, 4, solved=True),
        note="顾客接受了道歉",
        expected_version=case.version,
    )

    (answer,) = phone_answers(db_session)
    assert (answer.nps, answer.csat, answer.receipt_id) == (8, 4, None)
    assert answer.staff_id == cashier.id  # the receipt behind the case names her
    assert answer.entered_by_user_id == manager.id
    assert answer.submitted_at == CALLED and answer.locale == "zh_CN"
    assert phone_rollup(db_session, store) == 1
    assert (visit.response_id, visit.case_id, visit.about_response_id) == (
        answer.id,
        case.id,
        case.response_id,
    )
    assert (visit.outcome, visit.problem_solved, visit.note) == ("answered", True, "顾客接受了道歉")
    # The customer was on the line: the case's first contact, and its return visit.
    assert case.state == CaseState.IN_PROGRESS and case.first_contact_at == CALLED
    assert case.return_visit == ReturnVisit.SATISFIED
    event = case.events[-1]
    assert (event.kind, event.from_state, event.to_state, event.note) == (
        "phone_visit",
        CaseState.OPEN,
        CaseState.IN_PROGRESS,
        "顾客接受了道歉",
    )
    assert event.details == {"call_outcome": "answered", "problem_solved": True}
    audit = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_id == str(case.id))
    ).all()
    assert "case.phone_visit" in audit


def test_an_unhappy_answer_on_the_call_opens_no_second_case(
    db_session: Session, store: Store, manager: User, unhappy: Any
) -> None:
    case = unhappy()
    call(
        db_session,
        store,
        manager,
        case=case,
        **answered(0, 1, solved=False),
    )
    (answer,) = phone_answers(db_session)
    assert db_session.scalar(select(func.count()).select_from(Case)) == 1
    assert db_session.scalar(select(Case).where(Case.response_id == answer.id)) is None
    assert case.return_visit == ReturnVisit.UNSATISFIED


@pytest.mark.parametrize(
    ("outcome", "state", "return_visit"),
    [
        (PhoneOutcome.UNREACHABLE, CaseState.OPEN, ReturnVisit.UNREACHABLE),
        (PhoneOutcome.DECLINED, CaseState.IN_PROGRESS, None),
    ],
)
def test_a_call_without_answers_stores_none_but_is_on_the_timeline(
    db_session: Session,
    store: Store,
    manager: User,
    unhappy: Any,
    outcome: str,
    state: str,
    return_visit: str | None,
) -> None:
    case = unhappy()
    visit = call(db_session, store, manager, case=case, outcome=outcome, note="无人接听")
    assert phone_answers(db_session) == [] and phone_rollup(db_session, store) == 0
    assert (visit.response_id, visit.problem_solved) == (None, None)
    # Nobody on the line is no first contact; a customer who declined was reached.
    assert case.state == state
    assert case.return_visit == return_visit
    assert case.events[-1].kind == "phone_visit"


def test_an_unreachable_call_keeps_a_return_visit_already_known(
    db_session: Session, store: Store, manager: User, unhappy: Any
) -> None:
    case = unhappy()
    call(db_session, store, manager, case=case, **answered(9, 5, solved=True))
    call(db_session, store, manager, case=case, outcome=PhoneOutcome.UNREACHABLE)
    assert case.return_visit == ReturnVisit.SATISFIED


def test_an_answered_call_closes_a_resolved_case(
    db_session: Session, store: Store, manager: User, unhappy: Any
) -> None:
    case = unhappy()
    actor = Actor.of_user(manager)
    call(db_session, store, manager, case=case, outcome=PhoneOutcome.DECLINED)
    resolve_case(db_session, case, resolution="apology", note="道歉", actor=actor, now=CALLED)
    later = CALLED + timedelta(days=1)
    call(db_session, store, manager, case=case, now=later, **answered(7, 4, solved=False))
    assert (case.state, case.return_visit, case.closed_at) == (
        CaseState.CLOSED,
        ReturnVisit.UNSATISFIED,
        later,
    )
    assert [e.kind for e in case.events][-2:] == ["phone_visit", "closed"]


def test_a_manual_complaint_names_no_cashier_on_the_call(
    db_session: Session, store: Store, cashier: Staff, manager: User
) -> None:
    # Named at the counter, not by a receipt: the call's answer is nobody's.
    case = open_case_manually(
        db_session,
        SETTINGS,
        store=store,
        category="service_attitude",
        summary="收银员态度差",
        staff_code=cashier.code,
        contact_name="王先生",
        contact_phone=PHONE,
        contact_email=None,
        consent=True,
        actor=Actor.of_user(manager),
        now=NOW,
    )
    call(db_session, store, manager, case=case, **answered(6, 3, solved=True))
    (answer,) = phone_answers(db_session)
    assert case.staff_id == cashier.id and answer.staff_id is None
    assert answer.locale == SETTINGS.default_locale


def test_no_call_without_a_consented_phone_number(
    db_session: Session, store: Store, manager: User, unhappy: Any
) -> None:
    case = unhappy(phone=None)
    with pytest.raises(CannotCall):
        call(db_session, store, manager, case=case, outcome=PhoneOutcome.UNREACHABLE)
    assert db_session.scalar(select(func.count()).select_from(PhoneVisit)) == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"outcome": "busy"}, "outcome"),
        ({"outcome": "answered", "problem_solved": True}, "nps"),
        ({"outcome": "answered", "answers": scores(9, 5)}, "problem_solved"),
        ({"outcome": "unreachable", "answers": scores(9, 5)}, "outcome"),
        ({"outcome": "declined", "note": "x" * 2001}, "note"),
    ],
)
def test_an_incomplete_or_contradictory_call_is_refused(
    db_session: Session,
    store: Store,
    manager: User,
    unhappy: Any,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    case = unhappy()
    seen = (case.state, case.version, len(case.events))
    with pytest.raises(InvalidPhoneVisit) as refused:
        call(db_session, store, manager, case=case, **kwargs)
    assert refused.value.field == field
    assert (case.state, case.version, len(case.events)) == seen
    assert db_session.scalar(select(func.count()).select_from(PhoneVisit)) == 0


def test_a_stale_case_version_is_refused_before_anything_is_stored(
    db_session: Session, store: Store, manager: User, unhappy: Any
) -> None:
    case = unhappy()
    with pytest.raises(InvalidTransition):
        call(
            db_session,
            store,
            manager,
            case=case,
            **answered(9, 5, solved=True),
            expected_version=case.version - 1,
        )
    assert phone_answers(db_session) == []


def test_only_those_who_see_the_stores_contacts_may_call(
    db_session: Session,
    store: Store,
    make_store: Callable[..., Store],
    make_user: Callable[..., User],
    unhappy: Any,
) -> None:
    case = unhappy()
    other = make_user(Role.MANAGER, stores=[make_store("BJ-001")])
    hr = make_user(Role.HR)
    for user in (other, hr):
        with pytest.raises(NotFound):
            call(db_session, store, user, case=case, outcome=PhoneOutcome.UNREACHABLE)
    # An admin may.
    admin = make_user(Role.ADMIN)
    call(db_session, store, admin, case=case, outcome=PhoneOutcome.UNREACHABLE)


# --- from the list of consented customers ---------------------------------------------------


def test_a_call_about_a_happy_answer_names_the_receipts_cashier(
    db_session: Session,
    store: Store,
    cashier: Staff,
    manager: User,
    make_response: Callable[..., Response],
) -> None:
    about = make_response(store, cashier, contact=ContactAnswer(PHONE, None), now=NOW)
    visit = call(
        db_session,
        store,
        manager,
        about_response=about,
        **answered(10, 5, solved=True),
    )
    (answer,) = phone_answers(db_session)
    assert (visit.case_id, visit.about_response_id, visit.response_id) == (
        None,
        about.id,
        answer.id,
    )
    assert answer.staff_id == cashier.id
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "phone_visit.recorded")
    ).one()
    assert (entry.subject_type, entry.subject_id) == ("phone_visit", str(visit.id))
    assert entry.details["call_outcome"] == "answered"


def test_a_call_about_a_card_without_a_cashier_names_nobody(
    db_session: Session, store: Store, manager: User, make_response: Callable[..., Response]
) -> None:
    about = make_response(store, None, contact=ContactAnswer(PHONE, None), now=NOW)
    call(
        db_session,
        store,
        manager,
        about_response=about,
        **answered(9, 5, solved=True),
    )
    assert phone_answers(db_session)[0].staff_id is None


def test_an_unhappy_customer_on_a_call_from_the_list_gets_a_case_with_their_contact(
    db_session: Session,
    store: Store,
    cashier: Staff,
    manager: User,
    make_response: Callable[..., Response],
) -> None:
    about = make_response(store, cashier, contact=ContactAnswer(PHONE, "a@example.com"), now=NOW)
    call(
        db_session,
        store,
        manager,
        about_response=about,
        **answered(3, 2, solved=False),
    )
    (answer,) = phone_answers(db_session)
    (case,) = db_session.scalars(select(Case)).all()
    assert case.response_id == answer.id and case.staff_id == cashier.id
    assert (case.contact_phone, case.contact_email) == (PHONE, "a@example.com")


def test_a_call_about_an_answer_with_a_case_is_the_cases_call(
    db_session: Session, store: Store, manager: User, unhappy: Any
) -> None:
    case = unhappy()
    assert case.response is not None
    visit = call(
        db_session,
        store,
        manager,
        about_response=case.response,
        **answered(2, 1, solved=False),
    )
    assert visit.case_id == case.id
    assert db_session.scalar(select(func.count()).select_from(Case)) == 1
    assert case.events[-1].kind == "phone_visit"


def test_an_answer_of_another_store_or_without_a_phone_cannot_be_called(
    db_session: Session,
    store: Store,
    manager: User,
    make_store: Callable[..., Store],
    make_response: Callable[..., Response],
) -> None:
    no_phone = make_response(store, contact=ContactAnswer(None, "a@example.com"), now=NOW)
    elsewhere = make_response(make_store("BJ-001"), contact=ContactAnswer(PHONE, None), now=NOW)
    for about in (no_phone, elsewhere):
        with pytest.raises(CannotCall):
            call(db_session, store, manager, about_response=about, outcome="unreachable")


# --- the recovery rate ----------------------------------------------------------------------


def test_answered_calls_count_in_the_recovery_rate_by_each_cases_latest_word(
    db_session: Session, store: Store, manager: User, unhappy: Any
) -> None:
    solved, unsolved, changed_mind, unreachable = (unhappy() for _ in range(4))
    call(db_session, store, manager, case=solved, **answered(9, 5, solved=True))
    call(db_session, store, manager, case=unsolved, **answered(3, 2, solved=False))
    call(db_session, store, manager, case=changed_mind, **answered(3, 2, solved=False))
    later = CALLED + timedelta(days=1)
    call(db_session, store, manager, case=changed_mind, now=later, **answered(8, 4, solved=True))
    call(db_session, store, manager, case=unreachable, outcome="unreachable")

    week = Period(NOW.date(), NOW.date() + timedelta(days=6))
    rate = service_level(db_session, store.id, week, now=NOW + timedelta(days=8)).recovery_rate
    # Solved, and changed to solved on the second call; not solved; unreachable says
    # nothing: 2 of 3.
    assert rate.n == 3
    assert rate.value == pytest.approx(200 / 3)


# --- two managers at once -------------------------------------------------------------------


def test_two_managers_recording_a_call_for_one_case_at_once_one_is_stored(
    fresh_engine: Engine,
) -> None:
    postgres = fresh_engine.dialect.name == "postgresql"
    with Session(fresh_engine) as session, session.begin():
        shop = Store(code="SH-001", name="徐汇店", timezone="Asia/Shanghai")
        session.add(shop)
        session.flush()
        bosses = [
            create_user(
                session,
                email=f"boss{n}@example.com",
                role=Role.MANAGER,
                password=PASSWORD,
                stores=[shop],
                actor=CLI,
                now=NOW,
            )
            for n in (1, 2)
        ]
        issued = issue_receipt(
            session,
            SETTINGS,
            store=shop,
            staff_code=None,
            transaction_id="T-1",
            issued_at=None,
            total_cents=None,
            now=NOW,
        )
        response = record_response(
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
                comment=None,
                contact=ContactAnswer(PHONE, None),
            ),
            locale="zh_CN",
            now=NOW,
        )
        session.flush()
        case = session.scalars(select(Case).where(Case.response_id == response.id)).one()
        case_id, seen, shop_id = case.id, case.version, shop.id
        boss_ids = [boss.id for boss in bosses]

    # As in the cases' race test: SQLite's writer takes the lock at BEGIN, so the second
    # reads the new version; PostgreSQL lets both read, and the row version decides.
    bind = writer(fresh_engine)
    start, both_read = threading.Barrier(2, timeout=20), threading.Barrier(2, timeout=20)
    outcomes: dict[int, str] = {}

    def attempt(n: int) -> None:
        start.wait()
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                mine = session.get_one(Case, case_id)
                if postgres:
                    both_read.wait()
                record_phone_visit(
                    session,
                    SETTINGS,
                    store=session.get_one(Store, shop_id),
                    case=mine,
                    **answered(9, 5, solved=True),
                    note=f"call {n}",
                    user=session.get_one(User, boss_ids[n]),
                    now=CALLED,
                    expected_version=seen,
                )
            outcomes[n] = "stored"
        except InvalidTransition as error:
            outcomes[n] = f"refused: {error}"
        except Exception as error:  # noqa: BLE001 - any other escape is the failure shown
            outcomes[n] = f"escaped: {type(error).__name__}: {error}"

    threads = [threading.Thread(target=attempt, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["refused", "stored"], outcomes
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(PhoneVisit)) == 1
        phone = select(func.count()).where(Response.channel == Channel.PHONE)
        assert session.scalar(phone) == 1
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all()
        assert kinds.count("phone_visit") == 1
