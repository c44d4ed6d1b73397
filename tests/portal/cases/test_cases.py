"""Cases at the operations level (no pages): automatic opening with the response, the
state machine with its timeline and audit, deadlines across time zones and daylight
saving, scoping, the follow-up link and the mail outbox.

Times are fixed instants, never the clock, so that a deadline is an exact number.
"""

from __future__ import annotations

import functools
import smtplib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal.audit import CLI, Actor
from portal.auth.operations import create_user
from portal.cases.notify import deliver_message, list_unsent_mail, notify_overdue
from portal.cases.operations import (
    ALLOWED,
    FOLLOW_UP_DAYS,
    FOLLOW_UP_PURPOSE,
    FollowUpNotPossible,
    InvalidCase,
    add_note,
    answer_follow_up,
    assign_case,
    case_trigger,
    close_case,
    is_overdue,
    log_contact,
    open_case_manually,
    reopen_case,
    resolve_case,
    send_follow_up,
)
from portal.cases.queries import get_case
from portal.config import Settings
from portal.db import writer
from portal.errors import NotFound
from portal.formatting import localtime
from portal.models import (
    AuditEntry,
    Case,
    CaseState,
    FollowUp,
    OutboxMessage,
    Response,
    Role,
    Staff,
    Store,
    User,
)
from portal.workflow import InvalidTransition
from surveys.answers import ContactAnswer
from surveys.tokens import ExpiredToken, ForgedToken, verify_receipt_token
from tests.conftest import PASSWORD, SECRET, SETTINGS

#: A Monday morning in Shanghai; every test's "now" unless it says otherwise.
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NEW_YORK = "America/New_York"


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def respond(make_response: Callable[..., Response]) -> Callable[..., Response]:
    """`make_response` at this module's `NOW` unless a test names another time."""
    return functools.partial(make_response, now=NOW)


def case_of(session: Session, response: Response) -> Case | None:
    return session.scalar(select(Case).where(Case.response_id == response.id))


def audit_of(session: Session, case: Case) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "case", AuditEntry.subject_id == str(case.id))
            .order_by(AuditEntry.id)
        )
    )


def snapshot(session: Session, case: Case) -> tuple[Any, ...]:
    """Everything a transition could change: state, version, timeline, audit, outcome."""
    return (
        case.state,
        case.version,
        len(case.events),
        len(audit_of(session, case)),
        case.resolved_at,
        case.resolution,
        case.closed_at,
        case.return_visit,
    )


def outbox(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store("SH-001", name="徐汇店")


@pytest.fixture
def staff(make_staff: Callable[..., Staff], store: Store) -> Staff:
    return make_staff(store, "S001", name="李娜")


@pytest.fixture
def manager(make_user: Callable[..., User], store: Store) -> User:
    return make_user(Role.MANAGER, stores=[store], email="chen.jing@example.com")


@pytest.fixture
def open_case(
    db_session: Session,
    respond: Callable[..., Response],
    store: Store,
    staff: Staff,
    manager: User,
) -> Callable[..., Case]:
    """Opens a survey case for a detractor with consented contact details."""

    def make(**fields: Any) -> Case:
        fields.setdefault("nps", 3)
        fields.setdefault("csat", 2)
        fields.setdefault("category", "checkout_wait")
        fields.setdefault("comment", "排队二十分钟")
        fields.setdefault("contact", ContactAnswer(phone="13800138000", email="wang@example.com"))
        case = case_of(db_session, respond(store, staff, **fields))
        assert case is not None
        return case

    return make


def as_manager(manager: User) -> Actor:
    return Actor.of_user(manager)


def move_to(session: Session, case: Case, state: str, actor: Actor, now: datetime) -> Case:
    """Walk ``case`` from open to ``state`` along the only allowed path."""
    path = [CaseState.OPEN, CaseState.IN_PROGRESS, CaseState.RESOLVED, CaseState.CLOSED]
    for step in path[1 : path.index(CaseState(state)) + 1]:
        OPERATIONS[_FORWARD[step]][1](session, case, actor, now)
    assert case.state == state
    return case


# Each operation that changes the state: (the state it moves to, how to call it).
OPERATIONS: dict[str, tuple[str, Callable[..., Case]]] = {
    "log_contact": (
        CaseState.IN_PROGRESS,
        lambda session, case, actor, now, **kw: log_contact(
            session, case, note="Called the customer back", actor=actor, now=now, **kw
        ),
    ),
    "resolve": (
        CaseState.RESOLVED,
        lambda session, case, actor, now, **kw: resolve_case(
            session,
            case,
            resolution="voucher",
            note="Apologised, gave a voucher",
            actor=actor,
            now=now,
            **kw,
        ),
    ),
    "close": (
        CaseState.CLOSED,
        lambda session, case, actor, now, **kw: close_case(
            session, case, return_visit="satisfied", note="Happy again", actor=actor, now=now, **kw
        ),
    ),
    "reopen": (
        CaseState.IN_PROGRESS,
        lambda session, case, actor, now, **kw: reopen_case(
            session, case, note="The customer called again", actor=actor, now=now, **kw
        ),
    ),
}
_FORWARD = {
    CaseState.IN_PROGRESS: "log_contact",
    CaseState.RESOLVED: "resolve",
    CaseState.CLOSED: "close",
}


# --- automatic opening --------------------------------------------------------------------

# The rule: a detractor (NPS 0-6), a CSAT of 1-2, or a reported problem opens a
# case. Each boundary is taken from both sides: NPS 6 vs 7, CSAT 2 vs 3, and a problem
# reported with otherwise perfect scores.
OPENING = [
    (0, 5, None, ("detractor",)),
    (6, 5, None, ("detractor",)),
    (7, 5, None, ()),
    (7, 3, None, ()),
    (10, 3, None, ()),
    (10, 2, None, ("low_csat",)),
    (10, 1, None, ("low_csat",)),
    (9, 4, None, ()),
    (10, 5, "delivery", ("problem",)),
    (7, 3, "price", ("problem",)),
    (6, 2, "service_attitude", ("detractor", "low_csat", "problem")),
]


@pytest.mark.parametrize(("nps", "csat", "category", "reasons"), OPENING)
def test_a_case_opens_with_the_response_exactly_at_the_boundary_scores(
    db_session: Session,
    respond: Callable[..., Response],
    store: Store,
    staff: Staff,
    nps: int,
    csat: int,
    category: str | None,
    reasons: tuple[str, ...],
) -> None:
    assert case_trigger(nps, csat, category is not None).reasons == reasons
    response = respond(
        store,
        staff,
        nps=nps,
        csat=csat,
        category=category,
        comment="结账等太久",
    )
    case = case_of(db_session, response)
    if not reasons:
        assert case is None
        assert db_session.scalar(select(func.count()).select_from(Case)) == 0
        return
    assert case is not None
    assert case.reasons == ",".join(reasons)
    assert (case.store_id, case.staff_id, case.category) == (store.id, staff.id, category)
    assert (case.summary, case.source, case.state) == ("结账等太久", "survey", CaseState.OPEN)
    assert case.opened_at == NOW
    assert [(e.kind, e.actor, e.to_state) for e in case.events] == [
        ("opened", "shopper", CaseState.OPEN)
    ]
    assert case.events[0].details == {"reasons": list(reasons)}
    assert [(a.action, a.actor) for a in audit_of(db_session, case)] == [("case.open", "shopper")]


def test_the_case_is_written_in_the_responses_transaction(
    db_session: Session, respond: Callable[..., Response], store: Store, staff: Staff
) -> None:
    savepoint = db_session.begin_nested()
    response = respond(store, staff, nps=2, csat=1, category="price")
    receipt_id = response.receipt_id
    assert case_of(db_session, response) is not None
    savepoint.rollback()
    # Rolling back the one transaction takes both away: never a response without its case.
    assert db_session.scalar(select(func.count()).where(Response.receipt_id == receipt_id)) == 0
    assert db_session.scalar(select(func.count()).select_from(Case)) == 0
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_one_response_opens_one_case(
    db_session: Session, respond: Callable[..., Response], store: Store, staff: Staff
) -> None:
    for _ in range(3):
        respond(store, staff, nps=1, csat=1, category="price")
    response_ids = db_session.scalars(select(Case.response_id)).all()
    assert len(response_ids) == len(set(response_ids)) == 3


def test_contact_details_are_copied_only_when_the_shopper_consented(
    db_session: Session, respond: Callable[..., Response], store: Store, staff: Staff
) -> None:
    consented = case_of(
        db_session,
        respond(
            store,
            staff,
            nps=2,
            csat=2,
            category="price",
            contact=ContactAnswer(phone="13912345678", email="li@example.com"),
        ),
    )
    silent = case_of(
        db_session,
        respond(store, staff, nps=2, csat=2, category="price"),
    )
    assert consented is not None and silent is not None
    assert (consented.contact_phone, consented.contact_email) == ("13912345678", "li@example.com")
    assert consented.contact_name is None  # the survey never asks for a name
    assert (silent.contact_phone, silent.contact_email, silent.contact_name) == (None, None, None)


def test_a_counter_complaint_takes_contact_details_only_with_consent(
    db_session: Session, store: Store, manager: User
) -> None:
    details = {
        "store": store,
        "category": "returns_exchange",
        "summary": "退货被拒",
        "staff_code": None,
        "contact_name": "王先生",
        "contact_phone": "13800000000",
        "contact_email": None,
        "actor": as_manager(manager),
        "now": NOW,
    }
    with pytest.raises(InvalidCase) as refused:
        open_case_manually(db_session, SETTINGS, consent=False, **details)
    assert refused.value.field == "consent"
    assert db_session.scalar(select(func.count()).select_from(Case)) == 0
    case = open_case_manually(db_session, SETTINGS, consent=True, **details)
    assert (case.contact_name, case.contact_phone, case.source) == (
        "王先生",
        "13800000000",
        "manual",
    )
    with pytest.raises(InvalidCase) as unknown:
        open_case_manually(db_session, SETTINGS, consent=True, **{**details, "staff_code": "X9"})
    assert unknown.value.field == "staff"


def test_the_assignee_is_the_stores_longest_standing_active_manager(
    db_session: Session,
    respond: Callable[..., Response],
    make_user: Callable[..., User],
    make_store: Callable[..., Store],
    store: Store,
) -> None:
    other = make_store("BJ-001")
    make_user(Role.MANAGER, stores=[other])
    make_user(Role.ADMIN)
    departed = make_user(Role.MANAGER, stores=[store])
    departed.active = False
    first = make_user(Role.MANAGER, stores=[store])
    make_user(Role.MANAGER, stores=[store])
    case = case_of(db_session, respond(store, nps=4, csat=3))
    assert case is not None and case.assignee_id == first.id


def test_a_store_without_a_manager_leaves_the_case_unassigned_and_mails_nobody(
    db_session: Session,
    respond: Callable[..., Response],
    make_store: Callable[..., Store],
    make_user: Callable[..., User],
) -> None:
    lonely = make_store("CQ-001")
    make_user(Role.ADMIN)
    case = case_of(db_session, respond(lonely, nps=0, csat=1))
    assert case is not None and case.assignee_id is None
    assert outbox(db_session) == []


# --- transitions --------------------------------------------------------------------------


#: (from state, operation): every allowed move, one per pair in ALLOWED.
ALLOWED_MOVES = [
    (CaseState.OPEN, "log_contact"),
    (CaseState.IN_PROGRESS, "resolve"),
    (CaseState.RESOLVED, "close"),
    (CaseState.RESOLVED, "reopen"),
    (CaseState.CLOSED, "reopen"),
]
#: (from state, operation, the message the manager reads): every other combination.
REFUSED_MOVES = [
    (CaseState.IN_PROGRESS, "log_contact", "The first contact is already logged."),
    (CaseState.RESOLVED, "log_contact", "The first contact is already logged."),
    (CaseState.CLOSED, "log_contact", "The first contact is already logged."),
    (CaseState.OPEN, "resolve", "Log the first contact with the customer before resolving."),
    (CaseState.RESOLVED, "resolve", "A case that is resolved cannot be moved to resolved."),
    (CaseState.CLOSED, "resolve", "A case that is closed cannot be moved to resolved."),
    (CaseState.OPEN, "close", "Resolve the case before closing it."),
    (CaseState.IN_PROGRESS, "close", "Resolve the case before closing it."),
    (CaseState.CLOSED, "close", "A case that is closed cannot be moved to closed."),
    (CaseState.OPEN, "reopen", "Only a resolved or closed case can be reopened."),
    (CaseState.IN_PROGRESS, "reopen", "Only a resolved or closed case can be reopened."),
]


def _refused_pairs() -> set[tuple[str, str]]:
    pairs = set()
    for entry in REFUSED_MOVES:
        values = entry.values if hasattr(entry, "values") else entry
        pairs.add((values[0], values[1]))
    return pairs


def test_the_tables_cover_every_state_and_operation_and_match_allowed() -> None:
    allowed = set(ALLOWED_MOVES)
    assert allowed.isdisjoint(_refused_pairs())
    assert allowed | _refused_pairs() == {(s, op) for s in CaseState for op in OPERATIONS}
    # The allowed moves are exactly the pairs ALLOWED lists ...
    assert {(s, OPERATIONS[op][0]) for s, op in ALLOWED_MOVES} == {
        (s, t) for s, targets in ALLOWED.items() for t in targets
    }
    # ... and nothing ever goes back to open: no pair targets it, no operation does.
    assert all(CaseState.OPEN not in targets for targets in ALLOWED.values())
    assert CaseState.OPEN not in {target for target, _call in OPERATIONS.values()}


@pytest.mark.parametrize(("from_state", "operation"), ALLOWED_MOVES)
def test_every_allowed_transition_moves_the_case_and_records_it(
    db_session: Session,
    open_case: Callable[..., Case],
    manager: User,
    from_state: str,
    operation: str,
) -> None:
    actor = as_manager(manager)
    case = move_to(db_session, open_case(), from_state, actor, NOW)
    events, audits, version = len(case.events), len(audit_of(db_session, case)), case.version
    later = NOW + timedelta(hours=5)
    target, call = OPERATIONS[operation]
    call(db_session, case, actor, later, expected_version=version)
    assert case.state == target
    assert case.version == version + 1
    event = case.events[-1]
    assert len(case.events) == events + 1
    assert (event.from_state, event.to_state, event.at) == (from_state, target, later)
    assert (event.actor, event.actor_user_id) == (actor.label, manager.id)
    entries = audit_of(db_session, case)
    assert len(entries) == audits + 1
    assert entries[-1].details["from_state"] == from_state
    assert entries[-1].details["to_state"] == target


@pytest.mark.parametrize(("from_state", "operation", "message"), REFUSED_MOVES)
def test_every_refused_transition_changes_nothing_and_says_why(
    db_session: Session,
    open_case: Callable[..., Case],
    manager: User,
    from_state: str,
    operation: str,
    message: str,
) -> None:
    actor = as_manager(manager)
    case = move_to(db_session, open_case(), from_state, actor, NOW)
    before = snapshot(db_session, case)
    with pytest.raises(InvalidTransition) as refused:
        OPERATIONS[operation][1](db_session, case, actor, NOW + timedelta(hours=5))
    assert str(refused.value) == message
    assert refused.value.status == 409
    db_session.flush()
    db_session.expire(case)
    assert snapshot(db_session, case) == before


def test_the_timeline_and_audit_log_record_every_change_in_order(
    db_session: Session,
    open_case: Callable[..., Case],
    manager: User,
    make_user: Callable[..., User],
) -> None:
    actor = as_manager(manager)
    admin = make_user(Role.ADMIN, email="admin@example.com")
    case = open_case()
    hour = timedelta(hours=1)
    log_contact(db_session, case, note="打过电话", actor=actor, now=NOW + hour)
    resolve_case(
        db_session, case, resolution="refund", note="  退款 ", actor=actor, now=NOW + 2 * hour
    )
    close_case(
        db_session, case, return_visit="unsatisfied", note="", actor=actor, now=NOW + 3 * hour
    )
    reopen_case(db_session, case, note="顾客又来了", actor=actor, now=NOW + 4 * hour)
    add_note(db_session, case, note="Asked the supplier", actor=actor, now=NOW + 5 * hour)
    assign_case(db_session, SETTINGS, case, admin, actor=actor, now=NOW + 6 * hour)

    assert [(e.kind, e.from_state, e.to_state, e.at - NOW) for e in case.events] == [
        ("opened", None, "open", 0 * hour),
        ("contacted", "open", "in_progress", hour),
        ("resolved", "in_progress", "resolved", 2 * hour),
        ("closed", "resolved", "closed", 3 * hour),
        ("reopened", "closed", "in_progress", 4 * hour),
        ("note", None, None, 5 * hour),
        ("assigned", None, None, 6 * hour),
    ]
    assert [e.note for e in case.events][1:] == [
        "打过电话",
        "退款",
        "",
        "顾客又来了",
        "Asked the supplier",
        "",
    ]
    assert case.events[2].details == {"resolution": "refund", "substantiated": False}
    assert case.events[3].details == {"return_visit": "unsatisfied"}
    assert case.events[6].details == {"assignee": "admin@example.com"}
    assert [(a.action, a.actor, a.at - NOW) for a in audit_of(db_session, case)] == [
        ("case.open", "shopper", 0 * hour),
        ("case.contacted", actor.label, hour),
        ("case.resolved", actor.label, 2 * hour),
        ("case.closed", actor.label, 3 * hour),
        ("case.reopened", actor.label, 4 * hour),
        ("case.note", actor.label, 5 * hour),
        ("case.assigned", actor.label, 6 * hour),
    ]
    # Reopening forgets the old outcome; the first contact stays (it did happen).
    assert (case.state, case.resolved_at, case.closed_at) == (CaseState.IN_PROGRESS, None, None)
    assert (case.resolution, case.resolution_note, case.return_visit) == (None, None, None)
    assert case.first_contact_at == NOW + hour
    assert case.assignee_id == admin.id


def test_incomplete_input_is_refused_before_the_state_changes(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    actor = as_manager(manager)
    case = move_to(db_session, open_case(), CaseState.IN_PROGRESS, actor, NOW)
    version = case.version
    with pytest.raises(InvalidCase) as no_type:
        resolve_case(db_session, case, resolution="magic", note="x", actor=actor, now=NOW)
    with pytest.raises(InvalidCase) as no_note:
        resolve_case(db_session, case, resolution="refund", note="  ", actor=actor, now=NOW)
    assert (no_type.value.field, no_note.value.field) == ("resolution", "note")
    resolve_case(db_session, case, resolution="refund", note="ok", actor=actor, now=NOW)
    with pytest.raises(InvalidCase) as no_outcome:
        close_case(db_session, case, return_visit="maybe", note="", actor=actor, now=NOW)
    with pytest.raises(InvalidCase) as no_reason:
        reopen_case(db_session, case, note=" ", actor=actor, now=NOW)
    with pytest.raises(InvalidCase):
        add_note(db_session, case, note="", actor=actor, now=NOW)
    assert (no_outcome.value.field, no_reason.value.field) == ("return_visit", "note")
    assert (case.state, case.version) == (CaseState.RESOLVED, version + 1)


def test_a_form_posted_from_a_stale_page_is_refused(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    actor = as_manager(manager)
    case = open_case()
    seen = case.version
    log_contact(db_session, case, note="called", actor=actor, now=NOW, expected_version=seen)
    events = len(case.events)
    # A second manager's page still shows the version before the contact.
    with pytest.raises(InvalidTransition, match="changed while you were looking"):
        resolve_case(
            db_session,
            case,
            resolution="apology",
            note="sorry",
            actor=actor,
            now=NOW,
            expected_version=seen,
        )
    assert (case.state, case.version, len(case.events)) == (
        CaseState.IN_PROGRESS,
        seen + 1,
        events,
    )


def test_two_managers_resolving_at_once_one_wins_the_other_is_told(
    fresh_engine: Engine, request: pytest.FixtureRequest
) -> None:
    postgres = fresh_engine.dialect.name == "postgresql"
    with Session(fresh_engine) as session, session.begin():
        shop = Store(code="SH-001", name="徐汇店", timezone="Asia/Shanghai")
        session.add(shop)
        session.flush()
        boss = create_user(
            session,
            email="chen.jing@example.com",
            role=Role.MANAGER,
            password=PASSWORD,
            stores=[shop],
            actor=CLI,
            now=NOW,
        )
        case = open_case_manually(
            session,
            SETTINGS,
            store=shop,
            category="other",
            summary="购物车很脏",
            staff_code=None,
            contact_name=None,
            contact_phone=None,
            contact_email=None,
            consent=False,
            actor=Actor.of_user(boss),
            now=NOW,
        )
        log_contact(session, case, note="called", actor=CLI, now=NOW)
        case_id, seen = case.id, case.version

    # Views write through writer(): on SQLite the transaction takes the write lock at
    # BEGIN, so the second request waits and then reads the new state. PostgreSQL lets
    # both read version `seen`; the second waits on the row lock in its UPDATE, and only
    # the version check can tell it apart, so there both must have read before either
    # writes.
    bind = writer(fresh_engine)
    start, both_read = threading.Barrier(2, timeout=20), threading.Barrier(2, timeout=20)
    outcomes: dict[str, str] = {}

    def attempt(name: str) -> None:
        start.wait()
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                mine = session.get(Case, case_id)
                assert mine is not None
                if postgres:
                    both_read.wait()
                resolve_case(
                    session,
                    mine,
                    resolution="apology",
                    note=f"resolved by {name}",
                    actor=Actor(label=name),
                    now=NOW + timedelta(hours=1),
                    expected_version=seen,
                )
            outcomes[name] = "resolved"
        except InvalidTransition as error:
            outcomes[name] = f"refused: {error}"
        except Exception as error:  # noqa: BLE001 - any other escape is the failure shown
            outcomes[name] = f"escaped: {type(error).__name__}"

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["refused", "resolved"], outcomes
    with Session(fresh_engine) as session:
        stored = session.get(Case, case_id)
        assert stored is not None
        assert (stored.state, stored.version) == (CaseState.RESOLVED, seen + 1)
        assert [e.kind for e in stored.events].count("resolved") == 1
        assert session.scalar(select(func.count()).where(AuditEntry.action == "case.resolved")) == 1


# --- scoping ------------------------------------------------------------------------------


def test_a_manager_never_gets_another_stores_case(
    db_session: Session,
    open_case: Callable[..., Case],
    make_store: Callable[..., Store],
    make_user: Callable[..., User],
    manager: User,
) -> None:
    case = open_case()
    other_manager = make_user(Role.MANAGER, stores=[make_store("BJ-001")])
    # The case (and so its contact details) is not found for them: the same answer as a
    # case that does not exist, so ids cannot be probed.
    with pytest.raises(NotFound) as hidden:
        get_case(db_session, case.id, visible_to=other_manager)
    with pytest.raises(NotFound) as missing:
        get_case(db_session, case.id + 1000, visible_to=other_manager)
    assert str(hidden.value) == str(missing.value)
    with pytest.raises(NotFound):
        get_case(db_session, case.id, visible_to=make_user(Role.MYSTERY))
    assert get_case(db_session, case.id, visible_to=manager) is case
    assert get_case(db_session, case.id, visible_to=make_user(Role.ADMIN)) is case
    # Nor can the case be handed to them.
    with pytest.raises(InvalidCase) as refused:
        assign_case(db_session, SETTINGS, case, other_manager, actor=as_manager(manager), now=NOW)
    assert refused.value.field == "assignee"
    assert case.assignee_id == manager.id


def test_a_closed_case_is_not_reassigned(
    db_session: Session,
    open_case: Callable[..., Case],
    make_user: Callable[..., User],
    manager: User,
) -> None:
    actor = as_manager(manager)
    case = move_to(db_session, open_case(), CaseState.CLOSED, actor, NOW)
    with pytest.raises(InvalidCase, match="reopen it first"):
        assign_case(db_session, SETTINGS, case, make_user(Role.ADMIN), actor=actor, now=NOW)


# --- deadlines ----------------------------------------------------------------------------


def test_the_first_response_is_due_the_categorys_hours_after_the_response(
    db_session: Session, respond: Callable[..., Response], store: Store
) -> None:
    settings = Settings(
        secret_key=SECRET,
        base_url="http://portal.test",
        case_deadline_hours=(("delivery", 48), ("service_attitude", 12)),
    )

    def due_after(category: str | None) -> timedelta:
        response = respond(
            store,
            nps=2,
            csat=2,
            category=category,
            settings=settings,
        )
        case = case_of(db_session, response)
        assert case is not None
        return case.first_response_due_at - case.opened_at

    assert due_after("delivery") == timedelta(hours=48)
    assert due_after("service_attitude") == timedelta(hours=12)
    assert due_after("price") == timedelta(hours=24)
    assert due_after(None) == timedelta(hours=24)
    assert SETTINGS.deadline_hours("delivery") == 24  # no override, the default


@pytest.mark.parametrize(
    ("zone", "opened_local", "hours", "due_local"),
    [
        # Spring forward (8 March 2026, 02:00 -> 03:00): 24 h later is 21:00 on the clock.
        (NEW_YORK, datetime(2026, 3, 7, 20, 0), 24, "2026-03-08 21:00"),
        (NEW_YORK, datetime(2026, 3, 7, 20, 0), 48, "2026-03-09 21:00"),
        # Fall back (1 November 2026, 02:00 -> 01:00): 24 h later is 19:00.
        (NEW_YORK, datetime(2026, 10, 31, 20, 0), 24, "2026-11-01 19:00"),
        # China has no daylight saving: the clock moves exactly with absolute time.
        ("Asia/Shanghai", datetime(2026, 3, 7, 20, 0), 24, "2026-03-08 20:00"),
    ],
)
def test_deadlines_are_absolute_hours_across_time_zones_and_daylight_saving(
    db_session: Session,
    respond: Callable[..., Response],
    make_store: Callable[..., Store],
    make_user: Callable[..., User],
    zone: str,
    opened_local: datetime,
    hours: int,
    due_local: str,
) -> None:
    shop = make_store("NY-001" if zone == NEW_YORK else "SH-009", timezone=zone)
    make_user(Role.MANAGER, stores=[shop])
    opened = opened_local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    settings = Settings(secret_key=SECRET, case_deadline_hours=(("delivery", 48),))
    category = "delivery" if hours == 48 else "price"
    response = respond(
        shop,
        nps=3,
        csat=3,
        category=category,
        now=opened,
        settings=settings,
    )
    case = case_of(db_session, response)
    assert case is not None
    assert case.first_response_due_at == opened + timedelta(hours=hours)
    assert localtime(case.opened_at, zone) == opened_local.strftime("%Y-%m-%d %H:%M")
    assert localtime(case.first_response_due_at, zone) == due_local
    # The assignee's mail states the deadline on the store's clock.
    (mail,) = outbox(db_session)
    assert due_local in mail.body


def test_the_same_deadline_reads_differently_on_each_stores_clock() -> None:
    due = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    assert localtime(due, NEW_YORK) == "2026-03-08 21:00"
    assert localtime(due, "Asia/Shanghai") == "2026-03-09 09:00"
    assert localtime(due, "Europe/London") == "2026-03-09 01:00"


def test_a_case_is_overdue_only_after_its_deadline_and_only_while_open(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    case = open_case()
    due = case.first_response_due_at
    second = timedelta(seconds=1)
    assert not is_overdue(case, due - second)
    assert not is_overdue(case, due)
    assert is_overdue(case, due + second)
    log_contact(db_session, case, note="late call", actor=as_manager(manager), now=due + second)
    assert not is_overdue(case, due + timedelta(days=3))


# --- follow-up ----------------------------------------------------------------------------


def test_the_follow_up_waits_for_the_resolution(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    actor = as_manager(manager)
    case = open_case()
    for state in (CaseState.OPEN, CaseState.IN_PROGRESS):
        move_to(db_session, case, state, actor, NOW)
        with pytest.raises(FollowUpNotPossible, match="once the case is resolved"):
            send_follow_up(db_session, SETTINGS, case, actor=actor, now=NOW)
    assert db_session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_no_follow_up_without_consented_contact(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    actor = as_manager(manager)
    case = move_to(db_session, open_case(contact=None), CaseState.RESOLVED, actor, NOW)
    with pytest.raises(FollowUpNotPossible, match="no contact details"):
        send_follow_up(db_session, SETTINGS, case, actor=actor, now=NOW)
    assert db_session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_the_follow_up_link_is_its_own_kind_of_token_and_is_mailed(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    actor = as_manager(manager)
    case = move_to(db_session, open_case(), CaseState.RESOLVED, actor, NOW)
    mails_before = len(outbox(db_session))
    link = send_follow_up(db_session, SETTINGS, case, actor=actor, now=NOW)
    assert link.startswith("http://portal.test/f/")
    token = link.rsplit("/", 1)[1]
    follow_up = db_session.scalars(select(FollowUp).where(FollowUp.case_id == case.id)).one()
    claims = verify_receipt_token(SECRET, token, NOW, purpose=FOLLOW_UP_PURPOSE)
    assert claims.token_id == follow_up.token_id
    assert claims.expires_at == NOW + timedelta(days=FOLLOW_UP_DAYS) == follow_up.expires_at
    # Not a receipt token: it cannot open a survey.
    with pytest.raises(ForgedToken):
        verify_receipt_token(SECRET, token, NOW)
    with pytest.raises(ExpiredToken):
        verify_receipt_token(
            SECRET, token, NOW + timedelta(days=FOLLOW_UP_DAYS), purpose=FOLLOW_UP_PURPOSE
        )
    mails = outbox(db_session)[mails_before:]
    assert [(m.to, m.case_id) for m in mails] == [("wang@example.com", case.id)]
    assert link in mails[0].body and "徐汇店" in mails[0].subject
    assert case.events[-1].kind == "follow_up_sent"
    assert case.events[-1].details == {"by_email": True}
    assert audit_of(db_session, case)[-1].action == "case.follow_up_sent"
    with pytest.raises(FollowUpNotPossible, match="already sent"):
        send_follow_up(db_session, SETTINGS, case, actor=actor, now=NOW)
    assert db_session.scalar(select(func.count()).select_from(FollowUp)) == 1


def test_a_phone_only_customer_gets_the_link_but_no_mail(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    actor = as_manager(manager)
    case = open_case(contact=ContactAnswer(phone="13800138000", email=None))
    move_to(db_session, case, CaseState.RESOLVED, actor, NOW)
    mails_before = len(outbox(db_session))
    assert "/f/" in send_follow_up(db_session, SETTINGS, case, actor=actor, now=NOW)
    assert len(outbox(db_session)) == mails_before
    assert case.events[-1].details == {"by_email": False}


@pytest.mark.parametrize(
    ("score", "outcome"),
    [
        (5, "satisfied"),
        (4, "satisfied"),
        (3, "unsatisfied"),
        (2, "unsatisfied"),
        (1, "unsatisfied"),
    ],
)
def test_the_customers_answer_closes_the_loop(
    db_session: Session,
    open_case: Callable[..., Case],
    manager: User,
    score: int,
    outcome: str,
) -> None:
    actor = as_manager(manager)
    case = move_to(db_session, open_case(), CaseState.RESOLVED, actor, NOW)
    send_follow_up(db_session, SETTINGS, case, actor=actor, now=NOW)
    follow_up = db_session.scalars(select(FollowUp).where(FollowUp.case_id == case.id)).one()
    later = NOW + timedelta(days=2)
    assert answer_follow_up(db_session, follow_up.token_id, score, now=later) is case
    db_session.refresh(follow_up)
    assert (follow_up.score, follow_up.answered_at) == (score, later)
    assert (case.state, case.return_visit, case.closed_at) == (CaseState.CLOSED, outcome, later)
    assert [(e.kind, e.actor) for e in case.events[-2:]] == [
        ("follow_up_answered", "customer"),
        ("closed", "customer"),
    ]
    assert case.events[-2].details == {"score": score}
    # A second answer (another tap, another device) is refused and changes nothing.
    with pytest.raises(FollowUpNotPossible, match="already answered"):
        answer_follow_up(db_session, follow_up.token_id, 1, now=later + timedelta(hours=1))
    db_session.refresh(follow_up)
    assert follow_up.score == score
    assert case.return_visit == outcome


def test_a_follow_up_answer_must_be_1_to_5_and_the_link_must_exist(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    actor = as_manager(manager)
    case = move_to(db_session, open_case(), CaseState.RESOLVED, actor, NOW)
    send_follow_up(db_session, SETTINGS, case, actor=actor, now=NOW)
    token_id = db_session.scalars(select(FollowUp.token_id)).one()
    for score in (0, 6):
        with pytest.raises(InvalidCase):
            answer_follow_up(db_session, token_id, score, now=NOW)
    with pytest.raises(NotFound):
        answer_follow_up(db_session, "no-such-token", 5, now=NOW)
    assert case.state == CaseState.RESOLVED


# --- notifications and the outbox ---------------------------------------------------------


def test_a_new_case_mails_its_assignee(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    case = open_case()
    (mail,) = outbox(db_session)
    assert (mail.to, mail.case_id, mail.created_at) == (manager.email, case.id, NOW)
    assert (mail.sent_at, mail.error) == (None, None)
    assert f"#{case.id}" in mail.subject and "SH-001" in mail.subject
    assert f"http://portal.test/cases/{case.id}" in mail.body
    assert "2026-03-03 09:00" in mail.body  # due 24 h later, China time


def test_reassigning_mails_the_new_assignee(
    db_session: Session,
    open_case: Callable[..., Case],
    manager: User,
    make_user: Callable[..., User],
) -> None:
    case_id = open_case().id
    admin = make_user(Role.ADMIN, email="admin@example.com")
    # As in a request of its own: the case is loaded afresh.
    db_session.expire_all()
    case = get_case(db_session, case_id, visible_to=manager)
    assign_case(db_session, SETTINGS, case, admin, actor=as_manager(manager), now=NOW)
    assert [m.to for m in outbox(db_session)] == [manager.email, "admin@example.com"]


def test_reassigning_a_case_whose_assignee_was_read_mails_the_new_assignee(
    db_session: Session,
    open_case: Callable[..., Case],
    manager: User,
    make_user: Callable[..., User],
) -> None:
    case = open_case()
    assert case.assignee is manager  # e.g. a page or a check that showed who has it
    admin = make_user(Role.ADMIN, email="admin@example.com")
    assign_case(db_session, SETTINGS, case, admin, actor=as_manager(manager), now=NOW)
    assert [m.to for m in outbox(db_session)] == [manager.email, "admin@example.com"]


def test_an_overdue_case_is_notified_once(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    overdue = open_case()
    answered = open_case()
    log_contact(db_session, answered, note="called", actor=as_manager(manager), now=NOW)
    due = overdue.first_response_due_at
    # At the deadline itself it is not overdue yet.
    assert notify_overdue(db_session, SETTINGS, now=due) == []
    late = due + timedelta(minutes=1)
    assert notify_overdue(db_session, SETTINGS, now=late) == [overdue]
    assert notify_overdue(db_session, SETTINGS, now=late + timedelta(hours=6)) == []
    mails = [m for m in outbox(db_session) if m.subject.startswith(("[逾期]", "[Overdue]"))]
    assert [(m.to, m.case_id) for m in mails] == [(manager.email, overdue.id)]
    assert overdue.overdue_notified_at == late
    assert [e.kind for e in overdue.events][-1] == "overdue_notified"
    assert answered.overdue_notified_at is None


SMTP = Settings(secret_key=SECRET, smtp_url="smtp://mailer.test:587", mail_from="fb@shop.test")


def deliver_all(
    session: Session, settings: Settings, *, now: datetime, send: Callable[..., None]
) -> tuple[int, int]:
    """What one `send-mail` run does, in the test's session: (sent, failed)."""
    outcomes = [
        deliver_message(session, settings, message_id, now=now, send=send)
        for message_id in list_unsent_mail(session)
    ]
    return outcomes.count(True), outcomes.count(False)


def test_delivery_sends_each_pending_message_once(
    db_session: Session, open_case: Callable[..., Case], manager: User
) -> None:
    open_case()
    open_case()
    sent: list[EmailMessage] = []
    later = NOW + timedelta(minutes=5)

    def send(settings: Settings, message: EmailMessage) -> None:
        sent.append(message)

    assert deliver_all(db_session, SMTP, now=later, send=send) == (2, 0)
    assert [(m["To"], m["From"]) for m in sent] == [(manager.email, "fb@shop.test")] * 2
    assert "Case" in sent[0]["Subject"] or "case" in sent[0]["Subject"]
    assert all((m.sent_at, m.error) == (later, None) for m in outbox(db_session))
    assert deliver_all(db_session, SMTP, now=later, send=send) == (0, 0)
    assert len(sent) == 2


@pytest.mark.parametrize(
    "error",
    [ConnectionRefusedError("connection refused"), smtplib.SMTPRecipientsRefused({})],
)
def test_a_failed_delivery_is_recorded_and_retried(
    db_session: Session, open_case: Callable[..., Case], error: Exception
) -> None:
    open_case()

    def broken(settings: Settings, message: EmailMessage) -> None:
        raise error

    assert deliver_all(db_session, SMTP, now=NOW, send=broken) == (0, 1)
    (mail,) = outbox(db_session)
    assert mail.sent_at is None
    assert mail.error is not None and mail.error.startswith(type(error).__name__)
    later = NOW + timedelta(minutes=10)
    assert deliver_all(db_session, SMTP, now=later, send=lambda s, m: None) == (1, 0)
    assert (mail.sent_at, mail.error) == (later, None)


def test_without_smtp_nothing_leaves_the_outbox(
    db_session: Session, open_case: Callable[..., Case], runner: Any, monkeypatch: Any
) -> None:
    open_case()

    def must_not_send(settings: Settings, message: EmailMessage) -> None:
        raise AssertionError("sent without SMTP settings")

    monkeypatch.setattr("portal.cases.commands.smtp_send", must_not_send)
    assert SETTINGS.smtp_url is None
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "0 sent" in result.output
    assert [m.sent_at for m in outbox(db_session)] == [None]


def test_a_complaint_is_substantiated_only_against_a_named_staff_member(
    db_session, make_store, make_staff, make_user
):
    store = make_store()
    manager = make_user(Role.MANAGER, stores=[store])
    actor = Actor.of_user(manager)
    nobody = open_case_manually(
        db_session,
        SETTINGS,
        store=store,
        category="service_attitude",
        summary="Rude at the till",
        staff_code=None,
        contact_name=None,
        contact_phone=None,
        contact_email=None,
        consent=False,
        actor=actor,
        now=NOW,
    )
    log_contact(db_session, nobody, note="called", actor=actor, now=NOW)
    with pytest.raises(InvalidCase) as refused:
        resolve_case(
            db_session,
            nobody,
            resolution="apology",
            note="apologised",
            actor=actor,
            now=NOW,
            substantiated=True,
        )
    assert refused.value.field == "substantiated" and nobody.state == CaseState.IN_PROGRESS
    cashier = make_staff(store)
    named = open_case_manually(
        db_session,
        SETTINGS,
        store=store,
        category="service_attitude",
        summary="Rude at the till",
        staff_code=cashier.code,
        contact_name=None,
        contact_phone=None,
        contact_email=None,
        consent=False,
        actor=actor,
        now=NOW,
    )
    log_contact(db_session, named, note="called", actor=actor, now=NOW)
    resolve_case(
        db_session,
        named,
        resolution="apology",
        note="apologised",
        actor=actor,
        now=NOW,
        substantiated=True,
    )
    assert named.substantiated and named.events[-1].details["substantiated"] is True
