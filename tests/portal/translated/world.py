"""One rich world for the translation walk: the demo chain (built by the real demo builder,
small), plus what the demo leaves out: a manager scoped to a region, answers held as
suspected ballot stuffing, a till key and a personal token, a failed sign-in, a fresh
receipt to answer and links a customer would follow.

`World` names the objects the page table (`pages.py`) fills URL arguments from, and
`data_strings` collects every free text the world holds, so that a customer's English
comment on a Chinese page is not taken for an untranslated label.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Session

from portal.api_tokens.operations import create_api_token
from portal.audit import CLI, Actor
from portal.auth.operations import create_user, record_failed_login
from portal.auth.tokens import INVITATION, RESET, make_token
from portal.awards.decisions import add_nomination
from portal.ballot.origin import origin_of
from portal.calendar import chain_today
from portal.cases.operations import FOLLOW_UP_PURPOSE
from portal.config import Settings
from portal.db import Base
from portal.demo import DEMO_PASSWORD, build_demo
from portal.demo.chain import issue_receipt_to_try
from portal.hr.ranking import SUBSTANTIATED_COMPLAINT
from portal.models import (
    ApiKey,
    AwardCycle,
    Case,
    Channel,
    CycleState,
    FollowUp,
    MysteryVisit,
    Nomination,
    NominationState,
    Receipt,
    Response,
    Role,
    SnapshotRow,
    Staff,
    Store,
    StoreFormat,
    User,
    VisitState,
)
from portal.phone.operations import record_phone_visit
from portal.pos_api.operations import create_api_key
from portal.receipts import issue_receipt
from portal.review.queries import visible_reviews
from portal.review.views import REVIEW_ROLES
from portal.shopper.operations import record_response
from portal.survey_editor.branding_operations import BrandingChange, branding_token, save_branding
from portal.survey_editor.documents import (
    STORE_FORMAT,
    ChoiceInput,
    QuestionInput,
    RuleInput,
    put_question,
)
from portal.survey_editor.documents import Text as Wording
from portal.survey_editor.drafts import SurveyStart, create_survey, edit_draft
from portal.survey_editor.logo import clean_logo
from portal.survey_editor.target_rules import create_target_rule
from portal.versions import default_survey
from surveys.answers import Answers, ContactAnswer
from surveys.checklists import get_checklist
from surveys.loader import receipt_survey
from surveys.privacy import mask_personal_data
from surveys.targeting import Rule, Split
from surveys.tokens import sign_receipt_token
from tests.portal.survey_editor.published import add_seasonal_survey
from tests.portal.targeting.factories import add_survey, publish_version
from tests.portal.translated.world_alerts import add_world_alerts
from tests.portal.translated.world_custom import add_custom_answers
from tests.portal.translated.world_jobs import add_jobs
from tests.portal.translated.world_kiosk import add_kiosks
from tests.portal.translated.world_paper import PaperWorld, add_paper_cards
from tests.portal.translated.world_sms import add_text_messages
from tests.portal.translated.world_themes import add_comment_themes

PASSWORD = DEMO_PASSWORD
#: Small enough to build in a few seconds, big enough for every state the demo plays.
DAYS = 70
RESPONSES = 2000
REGION_MANAGER_EMAIL = "region.manager@demo.example"
#: A survey with a draft for the editor's pages (the default survey has none).
DRAFT_SURVEY = "checkout_pilot"
#: The sign-in used for each role the walk takes (managers twice: by store and by region).
LOGINS = {
    "admin": "admin@demo.example",
    "manager": "manager@demo.example",
    "region_manager": REGION_MANAGER_EMAIL,
    "hr": "hr@demo.example",
    "reviewer": "reviewer@demo.example",
    "mystery": "mystery@demo.example",
    "cx": "cx@demo.example",
}
ROLE_OF_LOGIN = {
    "admin": Role.ADMIN,
    "manager": Role.MANAGER,
    "region_manager": Role.MANAGER,
    "hr": Role.HR,
    "reviewer": Role.REVIEWER,
    "mystery": Role.MYSTERY,
    "cx": Role.CX,
}


@dataclass(slots=True)
class Who:
    """What one sign-in may open: its stores, cases, visits, staff and keys."""

    login: str
    user_id: int
    store_codes: list[str]
    #: A manager's region (the admin console opens for region managers only).
    region: str | None = None
    #: Award months this sign-in may open ("YYYY-MM"): staff see published ones only.
    award_months: list[str] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    visit_ids: list[int] = field(default_factory=list)
    staff_ids: list[int] = field(default_factory=list)
    key_ids: list[int] = field(default_factory=list)
    #: Monthly reviews this sign-in may open: a store's and a region's.
    review_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class World:
    people: dict[str, Who]
    #: Report pages of the demo shopper's open visits (accepted, returned): (visit, step).
    report_pages: list[tuple[int, str]]
    #: Approved nominations with a certificate: (month, nomination id, store code).
    certificates: list[tuple[str, int, str]]
    #: Survey links: a fresh receipt and an answered one.
    receipt_tokens: list[str]
    #: Follow-up links: one waiting for the customer's answer, one answered.
    follow_up_tokens: list[str]
    #: A new user's invitation link and another user's password-reset link.
    invitation_token: str
    reset_token: str
    data: set[str]
    #: Targeting rules: a format rule, a dated A/B test of a region, a store's rule.
    target_rule_ids: list[int] = field(default_factory=list)
    #: Counter tablets (id, store code), and the credential of the enrolled one.
    kiosks: list[tuple[int, str]] = field(default_factory=list)
    kiosk_credential: str = ""
    #: Paper cards to key in, to check and to decide on.
    paper: PaperWorld = field(default_factory=PaperWorld)

    #: Store code -> an answer whose customer waits for a return call, and a case with a
    #: consented phone number (in the demo manager's store, one called three ways).
    phone_answers: dict[str, int] = field(default_factory=dict)
    phone_cases: dict[str, int] = field(default_factory=dict)
    #: The month (YYYY-MM) of the newest classified comments (`world_themes`).
    theme_month: str = ""
    #: The demo's alert rules.
    alert_rule_ids: list[int] = field(default_factory=list)
    #: Login -> jobs it may open (`world_jobs`): done, running, failed (admin: + scheduled).
    job_ids: dict[str, list[int]] = field(default_factory=dict)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def build_world(session: Session, settings: Settings, *, now: datetime, photos: Path) -> World:
    """Build the demo and the extras into ``session`` (flushed; the caller commits)."""
    build_demo(session, settings, now=now, days=DAYS, responses=RESPONSES, photo_folder=photos)
    stores = {s.code: s for s in session.scalars(select(Store).order_by(Store.code))}
    region = next(iter(stores.values())).region
    in_region = [s for s in stores.values() if s.region == region]
    region_manager = create_user(
        session,
        email=REGION_MANAGER_EMAIL,
        role=Role.MANAGER,
        password=PASSWORD,
        stores=in_region,
        name="区域经理 马丽",
        actor=CLI,
        now=now,
    )
    region_manager.region = region
    owner = _user(session, LOGINS["cx"])
    manager = _user(session, LOGINS["manager"])
    home_store = manager.stores[0]
    create_api_key(session, home_store, actor=CLI, now=now, label="一号收银台")
    revoked = create_api_key(session, home_store, actor=CLI, now=now, label="旧收银机")
    revoked.api_key.revoked_at = now
    for login in LOGINS.values():
        create_api_token(session, _user(session, login), actor=CLI, now=now, label="报表同步")
    record_failed_login(session, "nobody@example.com", address="198.51.100.4", actor=CLI, now=now)
    _hold_ballot_answers(session, settings, home_store, now=now)
    _nominate_someone_not_eligible(session, now=now)
    add_custom_answers(session, now=now)
    tablets = add_kiosks(session, settings, home_store, in_region[0], now=now)

    target_rule_ids = _targeting(session, owner, now=now)
    fresh = issue_receipt_to_try(session, settings, now=now)
    _survey_draft(session, now=now)
    invitation_token, reset_token = _account_links(session, settings, now)
    _survey_versions_and_branding(session, _user(session, LOGINS["admin"]), now)
    paper = add_paper_cards(
        session, settings, _user(session, LOGINS["admin"]), password=PASSWORD, now=now
    )

    phone_answers, phone_cases = _phone_visits(session, settings, now=now)

    add_text_messages(session, settings, manager, now=now)
    theme_month = add_comment_themes(session)
    alert_rule_ids = add_world_alerts(session, home_store, now=now)
    job_ids = add_jobs(session, {login: _user(session, e) for login, e in LOGINS.items()}, now=now)
    session.flush()
    return World(
        people={login: _who(session, login) for login in LOGINS},
        report_pages=_report_pages(session),
        certificates=_certificates(session),
        receipt_tokens=[fresh.token, _answered_receipt_token(session, settings)],
        follow_up_tokens=_follow_up_tokens(session, settings, now),
        invitation_token=invitation_token,
        reset_token=reset_token,
        data=data_strings(session),
        target_rule_ids=target_rule_ids,
        kiosks=tablets.kiosks,
        kiosk_credential=tablets.credential,
        paper=paper,
        phone_answers=phone_answers,
        phone_cases=phone_cases,
        theme_month=theme_month,
        alert_rule_ids=alert_rule_ids,
        job_ids=job_ids,
    )


def _survey_versions_and_branding(session: Session, admin: User, now: datetime) -> None:
    """A survey with two versions (so the version page has changes to say) and the
    chain's branding with a logo and a colour (so the branding page shows a preview)."""
    add_seasonal_survey(session, by=admin, now=now)
    logo = io.BytesIO()
    PILImage.new("RGB", (64, 32), "#1a5fb4").save(logo, format="PNG")
    change = BrandingChange(
        chain_name_zh="好又多超市",
        chain_name_en="Haoyouduo Markets",
        logo=clean_logo(logo.getvalue()),
        remove_logo=False,
        primary_colour="#1a5fb4",
    )
    save_branding(session, change, seen=branding_token(None), actor=Actor.of_user(admin), now=now)


def _survey_draft(session: Session, *, now: datetime) -> None:
    """A copy of the default survey with a conditional multiple-choice question whose
    English is still missing: the draft page then shows problems, and conditions."""
    survey = create_survey(session, DRAFT_SURVEY, SurveyStart.COPY, actor=CLI, now=now)
    payment = QuestionInput(
        key="payment",
        editor_kind="multiple",
        text=Wording("您是怎么付款的？", ""),
        choices=(
            ChoiceInput("cash", Wording("现金", "Cash")),
            ChoiceInput("card", Wording("刷卡", "Card")),
        ),
        other=True,
        match="any",
        rules=(
            RuleInput("csat", "le", number=2),
            RuleInput(STORE_FORMAT, formats=("convenience",)),
        ),
    )
    edit_draft(
        session,
        survey,
        lambda document: put_question(document, payment),
        expected_revision=1,
        actor=CLI,
        now=now,
        what="question_added",
        question=payment.key,
    )


def _targeting(session: Session, owner: User, *, now: datetime) -> list[int]:
    """A second survey with two versions and the owner's draft, and rules of every kind:
    its latest version for convenience stores, an A/B test in a region ending in three
    days, a store's own rule for a month."""
    survey = add_survey(session, "convenience", draft=True)
    survey.draft_updated_at, survey.draft_updated_by_user_id = now, owner.id
    v1, v2 = publish_version(session, survey), publish_version(session, survey)
    stores = list(session.scalars(select(Store).order_by(Store.code)))
    today = chain_today(session, now)
    rules = [
        Rule(None, survey.id, store_format=StoreFormat.CONVENIENCE),
        Rule(
            None,
            survey.id,
            region=stores[0].region,
            starts_on=today - timedelta(days=10),
            ends_on=today + timedelta(days=3),
            split=Split(v1.id, v2.id, 30),
        ),
        Rule(
            None,
            default_survey(session).id,
            store_id=stores[-1].id,
            starts_on=today,
            ends_on=today + timedelta(days=30),
        ),
    ]
    actor = Actor.of_user(owner)
    return [create_target_rule(session, rule, actor=actor, now=now).id for rule in rules]


def _phone_visits(
    session: Session, settings: Settings, *, now: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """Return calls for the phone pages. The demo's customers who leave a number are all
    unhappy (each has a case), so every store gets a happy one waiting for a call; in the
    demo manager's store a case is called (unreachable, then answered), one happy customer
    declines and another does not answer. Returns, by store code, an answer to call and a
    case with a number."""
    manager = _user(session, LOGINS["manager"])
    home = sorted(manager.stores, key=lambda s: s.code)[0]
    answers: dict[str, int] = {}
    home_answers: list[Response] = []
    open_stores = select(Store).where(Store.closed_at.is_(None)).order_by(Store.code)
    for store in session.scalars(open_stores).all():
        cashier = session.scalars(select(Staff).where(Staff.store_id == store.id)).first()
        for n in range(2 if store.id == home.id else 1):
            issued = issue_receipt(
                session,
                settings,
                store=store,
                staff_code=None if cashier is None else cashier.code,
                transaction_id=f"PHONE-{n}",
                issued_at=None,
                total_cents=None,
                now=now - timedelta(hours=3 + n),
            )
            happy = record_response(
                session,
                settings=settings,
                receipt=issued.receipt,
                definition=receipt_survey(),
                answers=_phone_scores(9, 5, contact=ContactAnswer("13800138000", None)),
                locale="zh_CN",
                now=now - timedelta(hours=2 + n),
            )
            answers.setdefault(store.code, happy.id)
            if store.id == home.id:
                home_answers.append(happy)
    record_phone_visit(
        session,
        settings,
        store=home,
        about_response=home_answers[-1],
        outcome="declined",
        note="顾客正在开车，不方便回答",
        user=manager,
        now=now - timedelta(minutes=50),
    )
    # Nobody answers the other: still on the list, with the try shown.
    record_phone_visit(
        session,
        settings,
        store=home,
        about_response=home_answers[0],
        outcome="unreachable",
        note="",
        user=manager,
        now=now - timedelta(minutes=45),
    )
    with_phone = select(Case).where(Case.contact_phone.is_not(None)).order_by(Case.id)
    cases: dict[str, int] = {}
    for case in session.scalars(with_phone):
        cases.setdefault(case.store.code, case.id)
    called = session.get_one(Case, cases[home.code])
    unreachable = {"outcome": "unreachable", "note": "", "now": now - timedelta(minutes=40)}
    answered = {
        "outcome": "answered",
        "answers": _phone_scores(6, 3),
        "problem_solved": False,
        "note": "顾客说退款还没到账",
        "now": now - timedelta(minutes=30),
    }
    for call in (unreachable, answered):
        record_phone_visit(session, settings, store=home, case=called, user=manager, **call)
    return answers, cases


def _phone_scores(nps: int, csat: int, contact: ContactAnswer | None = None) -> Answers:
    return Answers(
        nps=nps,
        csat=csat,
        ratings={},
        problem_reported=False,
        problem_category=None,
        comment=None,
        contact=contact,
    )


def _account_links(session: Session, settings: Settings, now: datetime) -> tuple[str, str]:
    """Links for two users nobody signs in as during the walk (a sign-in would void them):
    one invited and waiting, one who forgot their password."""
    invited = create_user(
        session,
        email="invited@example.com",
        role=Role.HR,
        password=None,
        name="新同事",
        actor=CLI,
        now=now,
    )
    forgetful = create_user(
        session,
        email="forgetful@example.com",
        role=Role.HR,
        password=PASSWORD,
        name="健忘的同事",
        actor=CLI,
        now=now,
    )
    session.flush()
    return (
        make_token(settings.secret_key, invited, INVITATION, now),
        make_token(settings.secret_key, forgetful, RESET, now),
    )


def _user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def _hold_ballot_answers(
    session: Session, settings: Settings, store: Store, *, now: datetime
) -> None:
    """Five answers from one phone, each seconds after its receipt was printed: held by
    the burst and the fast rules, and identical for the pattern rule."""
    cashier = session.scalars(select(Staff).where(Staff.store_id == store.id)).first()
    for n in range(6):
        at = now - timedelta(minutes=5) + timedelta(seconds=30 * n)
        issued = issue_receipt(
            session,
            settings,
            store=store,
            staff_code=None if cashier is None else cashier.code,
            transaction_id=f"BALLOT-{n}",
            issued_at=None,
            total_cents=None,
            now=at - timedelta(seconds=5),
        )
        record_response(
            session,
            settings=settings,
            receipt=issued.receipt,
            definition=receipt_survey(),
            answers=Answers(
                nps=10,
                csat=5,
                ratings={},
                problem_reported=False,
                problem_category=None,
                comment="非常好",
                contact=None,
            ),
            locale="zh_CN",
            now=at,
            origin=origin_of(settings.secret_key, "203.0.113.7", "Phone A"),
            # Half typed the receipt's code: the store's figures mix channels (the note and
            # the split by channel are walked too).
            channel=Channel.CODE if n % 2 else Channel.RECEIPT,
        )


def _nominate_someone_not_eligible(session: Session, *, now: datetime) -> None:
    """HR adds by hand someone the ranking found not eligible, so that the month in review
    shows a not-eligible reason."""
    cycle = session.scalars(
        select(AwardCycle).where(AwardCycle.state == CycleState.IN_REVIEW)
    ).one()
    nominated = select(Nomination.staff_id).where(Nomination.cycle_id == cycle.id)
    rows = session.scalars(
        select(SnapshotRow)
        .where(SnapshotRow.cycle_id == cycle.id, SnapshotRow.staff_id.not_in(nominated))
        .order_by(SnapshotRow.id)
    )
    row = next((r for r in rows if r.reasons and SUBSTANTIATED_COMPLAINT not in r.reasons), None)
    assert row is not None, "the demo's month in review has no one found not eligible"
    add_nomination(
        session,
        cycle,
        session.get_one(Staff, row.staff_id),
        justification="顾客来信表扬：耐心帮助老人办理退货。",
        actor=Actor.of_user(_user(session, LOGINS["hr"])),
        now=now,
    )


def _who(session: Session, login: str) -> Who:
    user = _user(session, LOGINS[login])
    role = ROLE_OF_LOGIN[login]
    all_codes = list(session.scalars(select(Store.code).order_by(Store.code)))
    home = sorted(s.code for s in _user(session, LOGINS["manager"]).stores)[0]
    if role == Role.MANAGER:
        codes = sorted(s.code for s in user.stores)
    else:
        # Chain-wide roles open the demo manager's store first: it has the most going on.
        codes = [home, *(c for c in all_codes if c != home)]
    who = Who(
        login=login,
        user_id=user.id,
        store_codes=codes if role != Role.MYSTERY else [],
        region=user.region,
        award_months=_award_months(session, role),
    )
    store_ids = select(Store.id).where(Store.code.in_(codes))
    if role in (Role.ADMIN, Role.MANAGER):
        who.case_ids = _one_per(session, Case, Case.state, store_ids)
    if role == Role.MYSTERY:
        visits = select(MysteryVisit).where(MysteryVisit.shopper_id == user.id)
    else:
        visits = select(MysteryVisit).where(MysteryVisit.store_id.in_(store_ids))
        if role in (Role.MANAGER, Role.HR):
            visits = visits.where(MysteryVisit.state.in_(_RELEASED))
    seen: dict[str, int] = {}
    for visit in session.scalars(visits.order_by(MysteryVisit.id)):
        seen.setdefault(visit.state, visit.id)
    who.visit_ids = sorted(seen.values())
    if role in (Role.ADMIN, Role.MANAGER):
        keys = select(ApiKey.id).where(ApiKey.store_id.in_(store_ids), ApiKey.revoked_at.is_(None))
        who.key_ids = list(session.scalars(keys.order_by(ApiKey.id)))
    if role != Role.MYSTERY:
        staff = session.scalars(
            select(Staff.id).where(Staff.store_id.in_(store_ids)).order_by(Staff.id)
        ).all()
        who.staff_ids = list(staff[:1]) + list(staff[-1:])
    if role in REVIEW_ROLES:
        reviews = session.scalars(visible_reviews(user)).all()
        firsts = {review.region_id is None: review.id for review in reversed(reviews)}
        who.review_ids = sorted(firsts.values())
    return who


_RELEASED = (VisitState.RELEASED, VisitState.DISPUTED, VisitState.FINAL)


def _one_per(session: Session, model: Any, state: Any, store_ids: Any) -> list[int]:
    """The first case in each state (and the first overdue-notified one) among the stores."""
    ids: dict[str, int] = {}
    stmt = select(model).where(model.store_id.in_(store_ids)).order_by(model.id)
    for row in session.scalars(stmt):
        ids.setdefault(str(row.state), row.id)
        if row.overdue_notified_at is not None:
            ids.setdefault("overdue", row.id)
    return sorted(ids.values())


def _report_pages(session: Session) -> list[tuple[int, str]]:
    """Every step of one open visit per checklist, and the first step of the others."""
    shopper = _user(session, LOGINS["mystery"])
    stmt = select(MysteryVisit).where(
        MysteryVisit.shopper_id == shopper.id,
        MysteryVisit.state.in_((VisitState.ACCEPTED, VisitState.RETURNED)),
    )
    pages: list[tuple[int, str]] = []
    checklists: set[str] = set()
    for visit in session.scalars(stmt.order_by(MysteryVisit.id)):
        steps = ["visit", *(s.key for s in get_checklist(visit.checklist_key).sections), "proof"]
        if visit.checklist_key in checklists:
            steps = steps[:1]
        checklists.add(visit.checklist_key)
        pages += [(visit.id, step) for step in steps]
    return pages


def _award_months(session: Session, role: Role) -> list[str]:
    stmt = select(AwardCycle.month).order_by(AwardCycle.month)
    if role == Role.MANAGER:
        stmt = stmt.where(AwardCycle.state != CycleState.IN_REVIEW)
    return [f"{month:%Y-%m}" for month in session.scalars(stmt)]


def _certificates(session: Session) -> list[tuple[str, int, str]]:
    stmt = (
        select(AwardCycle.month, Nomination.id, Store.code)
        .join(Nomination, Nomination.cycle_id == AwardCycle.id)
        .join(Staff, Staff.id == Nomination.staff_id)
        .join(Store, Store.id == Staff.store_id)
        .where(
            Nomination.state == NominationState.APPROVED,
            AwardCycle.state != CycleState.IN_REVIEW,
        )
        .order_by(Nomination.id)
    )
    return [(f"{month:%Y-%m}", nid, code) for month, nid, code in session.execute(stmt)]


def _answered_receipt_token(session: Session, settings: Settings) -> str:
    receipt = session.scalars(
        select(Receipt)
        .join(Response, Response.receipt_id == Receipt.id)
        .order_by(Receipt.id.desc())
    ).first()
    assert receipt is not None
    return sign_receipt_token(settings.secret_key, receipt.token_id, _aware(receipt.expires_at))


def _follow_up_tokens(session: Session, settings: Settings, now: datetime) -> list[str]:
    tokens = []
    for answered in (False, True):
        stmt = select(FollowUp).where(FollowUp.answered_at.is_(None) != answered)
        follow_up = session.scalars(stmt.order_by(FollowUp.id.desc())).first()
        if follow_up is None:
            continue
        # Re-signed with a future expiry: the demo's may have passed.
        tokens.append(
            sign_receipt_token(
                settings.secret_key,
                follow_up.token_id,
                now + timedelta(days=7),
                purpose=FOLLOW_UP_PURPOSE,
            )
        )
    return tokens


#: A value made only of lowercase letters, digits and ``_ . : -`` is a code (a state, a
#: rule, a kind), never data: a page that shows it raw must still fail.
_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.:-")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith(("{", "[")):
            try:
                yield from _strings(json.loads(value))
                return
            except ValueError:
                pass
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def data_strings(session: Session) -> set[str]:
    """Every free text in the database (names, comments, notes, reasons, labels; JSON
    values included), as written and as the pages mask it."""
    found: set[str] = set()
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for column in columns:
            # PostgreSQL has no equality for json: those are read row by row.
            stmt = select(column) if isinstance(column.type, JSON) else select(column).distinct()
            for (value,) in session.execute(stmt):
                for text in _strings(value):
                    # A key's or token's prefix is shown to tell keys apart.
                    if text and (column.name == "prefix" or not set(text) <= _CODE_CHARS):
                        for shown in (text, mask_personal_data(text)):
                            found.add(shown)
                            found.add(" ".join(shown.split()))
    return found
