"""Service-star awards: the frozen snapshot, proposals and the ranking's gates, HR decisions
with reasons and separation of duties, publication, appeals, the hash-chained log (also
under concurrent writers), scoping of the pages, the certificate, the payroll export and
the CLI.

The month is October 2026. Its data are staff-day rollup rows written directly, one per
person; the shapes give a known ranking (policy: top 25 % of the eligible staff of each
region):

* 华东 (SH-001, SH-002): ten eligible staff; S1, T1 and S2 are proposed. LUCKY (5 of 5)
  has too few answers, FLAG hands the survey to happy customers (80 % of receipts answered
  against 33 % for colleagues), BAD has a substantiated complaint: all three score above
  most proposals and none is proposed.
* 华北 (BJ-001): three eligible staff; B1 is proposed. B1's name looks like a spreadsheet
  formula.
"""

from __future__ import annotations

import csv
import html
import io
import re
import threading
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from portal.audit import CLI, Actor
from portal.auth.operations import create_user
from portal.awards.appeals import answer_appeal, appeal
from portal.awards.decisions import add_nomination, decide_nomination
from portal.awards.ledger import GENESIS_HASH, verify_award_log
from portal.awards.operations import (
    CycleExists,
    InvalidAward,
    NotAllowed,
    finalise_due,
    open_cycle,
    publish_cycle,
)
from portal.db import writer
from portal.demo.awards import build_awards_demo
from portal.exports.headers import PAYROLL_HEADERS
from portal.hr.ranking import current_policy, parameters_of, rank_month
from portal.models import (
    AuditEntry,
    AwardCycle,
    AwardEvent,
    AwardScope,
    Case,
    CaseState,
    CycleState,
    DailyRollup,
    Nomination,
    NominationSource,
    NominationState,
    RankingPolicy,
    Role,
    SnapshotRow,
    Staff,
    Store,
    User,
)
from portal.rollups import sum_staff_months
from portal.workflow import InvalidReason, InvalidTransition
from tests.conftest import PASSWORD, csrf_token_from, post_form

OCT = date(2026, 10, 1)
#: 10:00 on 3 November in Shanghai: October is over everywhere in the chain.
NOW = datetime(2026, 11, 3, 2, tzinfo=UTC)
FORMULA_NAME = '=HYPERLINK("http://x")'
EN = {"Accept-Language": "en"}
REASON = "Two late arrivals this month, attendance rule applies."


# -- the month's data --------------------------------------------------------------------


@dataclass
class Month:
    stores: dict[str, Store]
    staff: dict[str, Staff]
    hr: User
    hr2: User
    admin: User
    manager: User  # SH-001
    manager2: User  # BJ-001


def _user(session: Session, email: str, role: Role, stores: list[Store] | None = None) -> User:
    return create_user(
        session,
        email=email,
        role=str(role),
        password=PASSWORD,
        stores=stores or [],
        actor=CLI,
        now=NOW,
    )


def add_answers(
    session: Session,
    staff: Staff,
    *,
    satisfied: int,
    rated: int,
    nps: tuple[int, int, int] | None = None,
    issued: int = 150,
    answered: int | None = None,
    day: date = date(2026, 10, 15),
) -> None:
    """One rollup row: ``satisfied`` of ``rated`` answered 4-5, the NPS counts
    (promoters, passives, detractors; by default the same shares for everyone, so that
    nobody's promoter share stands out), receipts issued and answered."""
    promoters, passives, detractors = nps or (
        rated * 3 // 5,
        rated // 4,
        rated - rated * 3 // 5 - rated // 4,
    )
    session.add(
        DailyRollup(
            store_id=staff.store_id,
            staff_key=staff.id,
            day=day,
            csat_5=satisfied,
            csat_3=rated - satisfied,
            nps_10=promoters,
            nps_8=passives,
            nps_3=detractors,
            issued=issued,
            issued_answered=rated if answered is None else answered,
            responses=rated,
        )
    )
    session.flush()
    sum_staff_months(session)  # the ranking reads the staff-month grain


def build_month(session: Session) -> Month:
    stores = {
        "SH-001": Store(code="SH-001", name="徐汇店", region="华东"),
        "SH-002": Store(code="SH-002", name="静安店", region="华东"),
        "BJ-001": Store(code="BJ-001", name="朝阳店", region="华北"),
    }
    session.add_all(stores.values())
    session.flush()
    people = {
        "SH-001": [("S1", 48), ("S2", 46), ("S3", 41), ("S4", 40), ("S5", 38), ("S6", 35)],
        "SH-002": [("T1", 47), ("T2", 42), ("T3", 36), ("T4", 30)],
        "BJ-001": [("B1", 46), ("B2", 40), ("B3", 35)],
    }
    staff: dict[str, Staff] = {}
    for code, members in people.items():
        for staff_code, _satisfied in members:
            name = FORMULA_NAME if staff_code == "B1" else f"员工{staff_code}"
            staff[staff_code] = Staff(store_id=stores[code].id, code=staff_code, name=name)
    for special in ("LUCKY", "FLAG", "BAD"):
        staff[special] = Staff(store_id=stores["SH-001"].id, code=special, name=f"员工{special}")
    session.add_all(staff.values())
    session.flush()
    for members in people.values():
        for staff_code, satisfied in members:
            add_answers(session, staff[staff_code], satisfied=satisfied, rated=50)
    add_answers(session, staff["LUCKY"], satisfied=5, rated=5, nps=(5, 0, 0), issued=15)
    add_answers(session, staff["FLAG"], satisfied=44, rated=44, nps=(36, 6, 2), issued=55)
    add_answers(session, staff["BAD"], satisfied=50, rated=50)
    session.add(
        Case(
            store_id=stores["SH-001"].id,
            staff_id=staff["BAD"].id,
            source="manual",
            state=CaseState.CLOSED,
            first_response_due_at=datetime(2026, 10, 20, tzinfo=UTC),
            resolved_at=datetime(2026, 10, 21, tzinfo=UTC),
            substantiated=True,
        )
    )
    session.add(
        RankingPolicy(
            customer_weight=0.5,
            mystery_weight=0.3,
            complaints_weight=0.2,
            min_n=20,
            top_fraction=0.25,
            baseline=-1.0,
            scope=AwardScope.REGION,
            notice_days=3,
            changed_by="test",
        )
    )
    month = Month(
        stores=stores,
        staff=staff,
        hr=_user(session, "hr@example.com", Role.HR),
        hr2=_user(session, "hr2@example.com", Role.HR),
        admin=_user(session, "admin@example.com", Role.ADMIN),
        manager=_user(session, "manager@example.com", Role.MANAGER, [stores["SH-001"]]),
        manager2=_user(session, "manager2@example.com", Role.MANAGER, [stores["BJ-001"]]),
    )
    session.flush()
    return month


@pytest.fixture
def month(db_session: Session) -> Month:
    return build_month(db_session)


def opened(session: Session, *, now: datetime = NOW) -> AwardCycle:
    return open_cycle(session, OCT, actor=CLI, now=now)


def nominations(cycle: AwardCycle) -> dict[str, Nomination]:
    return {n.staff.code: n for n in cycle.nominations}


def decide_all(session: Session, cycle: AwardCycle, reviewer: User, now: datetime = NOW) -> None:
    """Approve every pending nomination but T1, which is rejected with a reason."""
    for code, nomination in nominations(cycle).items():
        if nomination.state == NominationState.PENDING:
            reject = code == "T1"
            decide_nomination(
                session,
                nomination,
                approve=not reject,
                reason=REASON if reject else "",
                actor=Actor.of_user(reviewer),
                now=now,
            )


def published(session: Session, month: Month, now: datetime = NOW) -> AwardCycle:
    cycle = opened(session, now=now)
    decide_all(session, cycle, month.hr, now)
    return publish_cycle(session, cycle, actor=Actor.of_user(month.hr), now=now)


def row_of(session: Session, cycle: AwardCycle, code: str) -> SnapshotRow:
    return session.scalars(
        select(SnapshotRow).where(SnapshotRow.cycle_id == cycle.id, SnapshotRow.staff_code == code)
    ).one()


# -- opening a month -----------------------------------------------------------------------


def test_opening_a_month_freezes_the_ranking_and_proposes_the_top_staff(db_session, month):
    cycle = opened(db_session)
    assert cycle.state == CycleState.IN_REVIEW and cycle.month == OCT
    assert sorted(nominations(cycle)) == ["B1", "S1", "S2", "T1"]
    assert {n.source for n in cycle.nominations} == {NominationSource.PROPOSED}
    assert {n.state for n in cycle.nominations} == {NominationState.PENDING}
    assert len(cycle.rows) == len(month.staff)

    s1 = row_of(db_session, cycle, "S1")
    assert (s1.staff_name, s1.store_code, s1.store_name, s1.region) == (
        "员工S1",
        "SH-001",
        "徐汇店",
        "华东",
    )
    # FLAG ranks first (shown, never proposed).
    assert (s1.group, s1.rank, s1.n, s1.proposed, s1.eligible) == ("region:华东", 2, 50, True, True)
    assert [c["name"] for c in s1.components] == ["customer", "nps", "mystery", "complaints"]
    assert set(s1.components[0]) == {"name", "estimate", "low", "high", "n", "omega", "raw", "z"}
    assert s1.components[0]["raw"] == pytest.approx(48 / 50)
    # No mystery visit anywhere in the chain: no estimate (null, never NaN), z = 0.
    assert s1.components[2]["estimate"] is None and s1.components[2]["z"] == 0

    # What it was computed with, to reproduce it.
    policy = current_policy(db_session)
    again = rank_month(db_session, OCT, scope=policy.scope, parameters=parameters_of(policy))
    assert cycle.input_digest == again.input_digest and len(cycle.input_digest) == 64
    params = cycle.parameters
    assert params["weights"] == [0.5, 0.3, 0.2] and params["top_fraction"] == 0.25
    assert params["m"] == cycle.prior_strength == again.ranking.m
    assert params["seed"] == again.ranking.parameters.seed and params["notice_days"] == 3
    assert cycle.code_version.startswith("receipt-feedback-portal ")

    events = db_session.scalars(select(AwardEvent)).all()
    assert [(e.kind, e.prev_hash) for e in events] == [("opened", GENESIS_HASH)]
    assert sorted(events[0].details["proposed"]) == sorted(
        month.staff[c].id for c in ("B1", "S1", "S2", "T1")
    )
    assert db_session.scalar(select(func.count()).where(AuditEntry.action == "award.opened")) == 1


def test_ineligible_flagged_and_complained_staff_are_not_proposed(db_session, month):
    cycle = opened(db_session)
    lucky, flag, bad = (row_of(db_session, cycle, c) for c in ("LUCKY", "FLAG", "BAD"))
    weakest_proposal = min(row_of(db_session, cycle, c).q10 for c in ("S1", "S2", "T1"))
    assert (lucky.proposed, lucky.eligible, lucky.rank) == (False, False, None)
    assert lucky.reasons == ["too_few_answers"]
    assert (flag.proposed, flag.eligible) == (False, False) and flag.reasons == ["flagged_answers"]
    assert (bad.proposed, bad.eligible) == (False, False)
    assert bad.reasons == ["substantiated_complaint"]
    # The gates, not the scores, keep them out: both score above the proposals.
    assert flag.q10 > weakest_proposal and bad.q10 > weakest_proposal
    # HR cannot add by hand someone barred by a substantiated complaint (一票否决)...
    with pytest.raises(InvalidAward, match="substantiated complaint") as barred:
        add_nomination(
            db_session,
            cycle,
            month.staff["BAD"],
            justification=REASON,
            actor=Actor.of_user(month.hr),
            now=NOW,
        )
    assert barred.value.field == "staff"
    # ... but may add someone with too few answers, with a justification.
    added = add_nomination(
        db_session,
        cycle,
        month.staff["LUCKY"],
        justification=REASON,
        actor=Actor.of_user(month.hr),
        now=NOW,
    )
    assert added.source == NominationSource.MANUAL


def test_a_month_is_opened_only_once_it_is_over_in_every_store(db_session, month):
    # 23:30 on 31 October in Shanghai.
    with pytest.raises(InvalidTransition, match="not over yet"):
        opened(db_session, now=datetime(2026, 10, 31, 15, 30, tzinfo=UTC))
    # 00:30 on 1 November in Shanghai, but 16:30 on 31 October in London.
    db_session.add(Store(code="LON-1", name="London", region="Europe", timezone="Europe/London"))
    db_session.flush()
    with pytest.raises(InvalidTransition):
        opened(db_session, now=datetime(2026, 10, 31, 16, 30, tzinfo=UTC))
    assert opened(db_session, now=datetime(2026, 11, 1, 0, 30, tzinfo=UTC)).month == OCT


def test_a_second_opening_of_the_same_month_is_a_conflict(db_session, month):
    opened(db_session)
    with pytest.raises(CycleExists) as second:
        opened(db_session)
    assert second.value.status == 409
    assert db_session.scalar(select(func.count()).select_from(AwardCycle)) == 1


def _frozen(session: Session, cycle: AwardCycle) -> tuple[list[tuple[Any, ...]], list[Any]]:
    rows = session.execute(
        select(
            SnapshotRow.staff_id,
            SnapshotRow.rank,
            SnapshotRow.n,
            SnapshotRow.composite,
            SnapshotRow.q10,
            SnapshotRow.proposed,
            SnapshotRow.staff_name,
            SnapshotRow.components,
        )
        .where(SnapshotRow.cycle_id == cycle.id)
        .order_by(SnapshotRow.staff_id)
    )
    picks = session.execute(
        select(Nomination.staff_id, Nomination.state, Nomination.version)
        .where(Nomination.cycle_id == cycle.id)
        .order_by(Nomination.id)
    )
    return [tuple(r) for r in rows], [tuple(p) for p in picks]


def test_a_published_month_does_not_change_when_new_answers_arrive(db_session, month):
    cycle = published(db_session, month)
    before = _frozen(db_session, cycle)
    digest = cycle.input_digest
    # Late answers for October: T4 becomes the region's best, a new cashier appears, and
    # S1 is renamed.
    add_answers(
        db_session, month.staff["T4"], satisfied=300, rated=300, issued=900, day=date(2026, 10, 30)
    )
    newcomer = Staff(store_id=month.stores["SH-002"].id, code="T9", name="新同事")
    db_session.add(newcomer)
    db_session.flush()
    add_answers(db_session, newcomer, satisfied=60, rated=60, day=date(2026, 10, 31))
    month.staff["S1"].name = "改名后"
    db_session.flush()
    policy = current_policy(db_session)
    now_ranked = rank_month(db_session, OCT, scope=policy.scope, parameters=parameters_of(policy))
    assert now_ranked.input_digest != digest
    assert now_ranked.for_staff(month.staff["T4"].id).score.proposed  # type: ignore[union-attr]

    db_session.expire_all()
    assert _frozen(db_session, cycle) == before
    assert cycle.input_digest == digest
    assert row_of(db_session, cycle, "S1").staff_name == "员工S1"
    with pytest.raises(CycleExists):
        opened(db_session)


# -- HR decisions --------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "too short"])
def test_a_rejection_needs_a_reason(db_session, month, reason):
    nomination = nominations(opened(db_session))["S1"]
    with pytest.raises(InvalidReason, match="reason for the rejection") as refused:
        decide_nomination(
            db_session,
            nomination,
            approve=False,
            reason=reason,
            actor=Actor.of_user(month.hr),
            now=NOW,
        )
    assert refused.value.field == "reason" and refused.value.status == 400
    assert nomination.state == NominationState.PENDING


def test_a_rejection_with_a_reason_is_recorded(db_session, month):
    cycle = opened(db_session)
    nomination = nominations(cycle)["S1"]
    decide_nomination(
        db_session,
        nomination,
        approve=False,
        reason=f"  {REASON} ",
        actor=Actor.of_user(month.hr),
        now=NOW,
    )
    assert (nomination.state, nomination.decision_reason) == (NominationState.REJECTED, REASON)
    assert (nomination.decided_by_id, nomination.decided_at) == (month.hr.id, NOW)
    event = db_session.scalars(select(AwardEvent).order_by(AwardEvent.id.desc())).first()
    assert event is not None
    assert (event.kind, event.reason, event.nomination_id) == ("rejected", REASON, nomination.id)
    assert event.details["staff_code"] == "S1" and event.actor == "user:hr@example.com"
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "award.rejected"))
    assert [a.subject_id for a in audit] == [str(nomination.id)]
    # A proposed nomination is approved without a reason; a decided one stays decided.
    decide_nomination(
        db_session,
        nominations(cycle)["S2"],
        approve=True,
        reason="",
        actor=Actor.of_user(month.hr),
        now=NOW,
    )
    with pytest.raises(InvalidTransition, match="already decided"):
        decide_nomination(
            db_session, nomination, approve=True, reason="", actor=Actor.of_user(month.hr2), now=NOW
        )


def test_a_stale_page_does_not_decide(db_session, month):
    nomination = nominations(opened(db_session))["S1"]
    with pytest.raises(InvalidTransition, match="changed while you were looking"):
        decide_nomination(
            db_session,
            nomination,
            approve=True,
            reason="",
            actor=Actor.of_user(month.hr),
            now=NOW,
            expected_version=nomination.version + 1,
        )


def test_a_manual_nomination_needs_a_justification_and_another_approver(db_session, month):
    cycle = opened(db_session)
    s3 = month.staff["S3"]
    with pytest.raises(InvalidReason, match="deserves the award") as short:
        add_nomination(
            db_session, cycle, s3, justification="nice", actor=Actor.of_user(month.hr), now=NOW
        )
    assert short.value.field == "justification"
    with pytest.raises(NotAllowed):
        add_nomination(
            db_session, cycle, s3, justification=REASON, actor=Actor.of_user(month.manager), now=NOW
        )
    late_hire = Staff(store_id=month.stores["SH-001"].id, code="NEW", name="新人")
    db_session.add(late_hire)
    db_session.flush()
    with pytest.raises(InvalidAward, match="not in the month's ranking") as unknown:
        add_nomination(
            db_session,
            cycle,
            late_hire,
            justification=REASON,
            actor=Actor.of_user(month.hr),
            now=NOW,
        )
    assert unknown.value.field == "staff"

    added = add_nomination(
        db_session, cycle, s3, justification=REASON, actor=Actor.of_user(month.hr), now=NOW
    )
    assert (added.source, added.state, added.created_by_id) == ("manual", "pending", month.hr.id)
    with pytest.raises(InvalidTransition, match="already nominated"):
        add_nomination(
            db_session, cycle, s3, justification=REASON, actor=Actor.of_user(month.hr2), now=NOW
        )
    # The one who added it does not decide it, either way.
    for approve in (True, False):
        with pytest.raises(NotAllowed, match="separation of duties") as own:
            decide_nomination(
                db_session,
                added,
                approve=approve,
                reason=REASON,
                actor=Actor.of_user(month.hr),
                now=NOW,
            )
        assert own.value.status == 403
    # Approving a nomination made by hand needs a reason too.
    with pytest.raises(InvalidReason, match="added by hand is approved"):
        decide_nomination(
            db_session, added, approve=True, reason="", actor=Actor.of_user(month.hr2), now=NOW
        )
    decide_nomination(
        db_session, added, approve=True, reason=REASON, actor=Actor.of_user(month.hr2), now=NOW
    )
    assert (added.state, added.decided_by_id) == (NominationState.APPROVED, month.hr2.id)
    kinds = db_session.scalars(select(AwardEvent.kind).order_by(AwardEvent.id)).all()
    assert kinds == ["opened", "nominated", "approved"]


def test_publishing_is_refused_while_a_nomination_is_pending(db_session, month):
    cycle = opened(db_session)
    decide_nomination(
        db_session,
        nominations(cycle)["S1"],
        approve=True,
        reason="",
        actor=Actor.of_user(month.hr),
        now=NOW,
    )
    with pytest.raises(InvalidTransition, match="3 nomination") as refused:
        publish_cycle(db_session, cycle, actor=Actor.of_user(month.hr), now=NOW)
    assert refused.value.status == 409 and cycle.state == CycleState.IN_REVIEW
    decide_all(db_session, cycle, month.hr)
    publish_cycle(db_session, cycle, actor=Actor.of_user(month.hr), now=NOW)
    assert cycle.state == CycleState.PUBLISHED
    assert (cycle.published_at, cycle.notice_until) == (NOW, NOW + timedelta(days=3))
    # Published: no more decisions, nominations or publishing.
    with pytest.raises(InvalidTransition, match="already published"):
        decide_nomination(
            db_session,
            nominations(cycle)["T1"],
            approve=True,
            reason=REASON,
            actor=Actor.of_user(month.hr2),
            now=NOW,
        )
    with pytest.raises(InvalidTransition, match="already published"):
        add_nomination(
            db_session,
            cycle,
            month.staff["S3"],
            justification=REASON,
            actor=Actor.of_user(month.hr),
            now=NOW,
        )
    with pytest.raises(InvalidTransition):
        publish_cycle(db_session, cycle, actor=Actor.of_user(month.hr), now=NOW)


# -- appeals and finalisation ----------------------------------------------------------------


def test_who_may_appeal_and_answer_and_when(db_session, month):
    cycle = published(db_session, month)
    picks = nominations(cycle)
    t1, s1 = picks["T1"], picks["S1"]  # T1 (SH-002) rejected, S1 (SH-001) approved
    during = NOW + timedelta(days=1)
    # Only the manager of the person's store: not another store's manager, not HR.
    for outsider in (month.manager, month.manager2, month.hr):
        with pytest.raises(NotAllowed, match="manager of this person's store"):
            appeal(db_session, t1, actor=Actor.of_user(outsider), reason=REASON, now=during)
    with pytest.raises(InvalidReason, match="specifically") as vague:
        appeal(db_session, s1, actor=Actor.of_user(month.manager), reason="unfair", now=during)
    assert vague.value.field == "reason"
    made = appeal(db_session, s1, actor=Actor.of_user(month.manager), reason=REASON, now=during)
    with pytest.raises(InvalidTransition, match="still waiting"):
        appeal(db_session, s1, actor=Actor.of_user(month.manager), reason=REASON, now=during)
    # The HR user who decided does not answer; a manager never does.
    with pytest.raises(NotAllowed, match="separation of duties"):
        answer_appeal(
            db_session,
            made,
            actor=Actor.of_user(month.hr),
            outcome="changed",
            answer=REASON,
            now=during,
        )
    with pytest.raises(NotAllowed):
        answer_appeal(
            db_session,
            made,
            actor=Actor.of_user(month.manager),
            outcome="changed",
            answer=REASON,
            now=during,
        )
    with pytest.raises(InvalidReason, match="Explain the answer"):
        answer_appeal(
            db_session,
            made,
            actor=Actor.of_user(month.hr2),
            outcome="changed",
            answer="",
            now=during,
        )
    # While it is unanswered the month does not become final.
    assert finalise_due(db_session, NOW + timedelta(days=10)) == []
    answer_appeal(
        db_session,
        made,
        actor=Actor.of_user(month.hr2),
        outcome="changed",
        answer=REASON,
        now=during,
    )
    assert (made.outcome, made.answered_by_id) == ("changed", month.hr2.id)
    assert (s1.state, s1.decided_by_id, s1.decision_reason) == ("rejected", month.hr2.id, REASON)
    with pytest.raises(InvalidTransition, match="already answered"):
        answer_appeal(
            db_session,
            made,
            actor=Actor.of_user(month.admin),
            outcome="stands",
            answer=REASON,
            now=during,
        )
    # After the notice period: no appeal, and the month becomes final.
    with pytest.raises(InvalidTransition, match="notice period is over"):
        appeal(
            db_session,
            s1,
            actor=Actor.of_user(month.manager),
            reason=REASON,
            now=NOW + timedelta(days=3),
        )
    assert finalise_due(db_session, NOW + timedelta(days=2)) == []
    assert finalise_due(db_session, NOW + timedelta(days=3)) == [cycle]
    assert (cycle.state, cycle.final_at) == (CycleState.FINAL, NOW + timedelta(days=3))
    kinds = db_session.scalars(select(AwardEvent.kind).order_by(AwardEvent.id)).all()
    assert kinds[-3:] == ["appealed", "appeal_answered", "finalised"]
    assert verify_award_log(db_session) == []


def test_an_appeal_needs_a_published_month(db_session, month):
    cycle = opened(db_session)
    with pytest.raises(InvalidTransition, match="public notice"):
        appeal(
            db_session,
            nominations(cycle)["S1"],
            actor=Actor.of_user(month.manager),
            reason=REASON,
            now=NOW,
        )


# -- the hash chain ------------------------------------------------------------------------


def test_the_chain_verifies_and_a_tampered_or_deleted_event_is_found(db_session, month):
    published(db_session, month)
    events = db_session.scalars(select(AwardEvent).order_by(AwardEvent.id)).all()
    assert len(events) == 6  # opened, four decisions, published
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert verify_award_log(db_session) == []

    rejected = next(e for e in events if e.kind == "rejected")
    db_session.execute(
        update(AwardEvent).where(AwardEvent.id == rejected.id).values(reason="approved after all")
    )
    db_session.expire_all()
    assert verify_award_log(db_session) == [rejected.id]
    db_session.execute(update(AwardEvent).where(AwardEvent.id == rejected.id).values(reason=REASON))
    db_session.expire_all()
    assert verify_award_log(db_session) == []

    # Deleting an event breaks the link of the one after it.
    victim, after = events[2], events[3]
    db_session.execute(delete(AwardEvent).where(AwardEvent.id == victim.id))
    db_session.expire_all()
    assert verify_award_log(db_session) == [after.id]


def test_decisions_at_once_keep_one_valid_chain(fresh_engine):
    """Four HR decisions at once, two in October and two in September: the chain runs over
    both months, so the lock on a cycle's row alone would not keep it linear."""
    postgres = fresh_engine.dialect.name == "postgresql"
    sep = date(2026, 9, 1)
    with Session(fresh_engine, expire_on_commit=False) as session, session.begin():
        month = build_month(session)
        for row in session.scalars(select(DailyRollup)).all():
            session.add(
                DailyRollup(
                    store_id=row.store_id,
                    staff_key=row.staff_key,
                    day=date(2026, 9, 15),
                    csat_5=row.csat_5,
                    csat_3=row.csat_3,
                    nps_10=row.nps_10,
                    nps_8=row.nps_8,
                    nps_3=row.nps_3,
                    issued=row.issued,
                    issued_answered=row.issued_answered,
                    responses=row.responses,
                )
            )
        session.flush()
        sum_staff_months(session)
        october = nominations(opened(session))
        september = nominations(open_cycle(session, sep, actor=CLI, now=NOW))
        picks = {
            "oct-S1": (october["S1"].id, month.hr.id),
            "oct-B1": (october["B1"].id, month.hr2.id),
            "sep-S1": (september["S1"].id, month.hr2.id),
            "sep-B1": (september["B1"].id, month.hr.id),
        }

    # Views write through writer(): on SQLite each transaction takes the write lock at
    # BEGIN and the others queue. On PostgreSQL all four have read before any writes;
    # the two months lock different cycle rows, so only the lock on the log keeps their
    # events from linking to the same previous event.
    bind = writer(fresh_engine)
    start, all_read = threading.Barrier(4, timeout=30), threading.Barrier(4, timeout=30)
    outcomes: dict[str, str] = {}

    def decide(name: str) -> None:
        nomination_id, reviewer_id = picks[name]
        start.wait()
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                nomination = session.get(Nomination, nomination_id)
                reviewer = session.get(User, reviewer_id)
                assert nomination is not None and reviewer is not None
                if postgres:
                    all_read.wait()
                decide_nomination(
                    session,
                    nomination,
                    approve=name.endswith("S1"),
                    reason=REASON,
                    actor=Actor.of_user(reviewer),
                    now=NOW + timedelta(hours=1),
                )
            outcomes[name] = "decided"
        except Exception as error:  # noqa: BLE001 - any escape is the failure shown
            outcomes[name] = f"escaped: {type(error).__name__}: {error}"

    threads = [threading.Thread(target=decide, args=(name,)) for name in picks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == {name: "decided" for name in picks}, outcomes
    with Session(fresh_engine) as session:
        events = session.scalars(select(AwardEvent).order_by(AwardEvent.id)).all()
        assert [e.kind for e in events].count("opened") == 2 and len(events) == 6
        assert len({e.prev_hash for e in events}) == 6, "two events link to the same one"
        assert verify_award_log(session) == []
        decided = session.scalars(
            select(Nomination.state).where(Nomination.id.in_([p[0] for p in picks.values()]))
        ).all()
        assert sorted(decided) == ["approved", "approved", "rejected", "rejected"]


# -- pages -----------------------------------------------------------------------------------


@pytest.fixture
def login(client):
    def sign_in(user: User) -> None:
        response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)

    return sign_in


def page(client, url: str) -> str:
    response = client.get(url, headers=EN)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def post_on_cycle(
    client, url: str, data: dict[str, Any], month_url: str = "/awards/2026-10"
) -> Any:
    token = csrf_token_from(client.get(month_url, headers=EN).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, headers=EN)


def test_hr_decides_on_the_cycle_page(client, db_session, month, login):
    cycle = opened(db_session)
    picks = nominations(cycle)
    login(month.hr)
    listing = page(client, "/awards")
    assert "October 2026" in listing and "in HR review" in listing
    html = page(client, "/awards/2026-10")
    assert "员工S1" in html and "proposed by the ranking" in html and "rank 1" in html
    assert "n = 50" in html and "waiting for a decision" in html
    assert 'id="action-publish"' in html and 'id="action-nominate"' in html

    s1, t1 = picks["S1"], picks["T1"]
    approve = f"/awards/2026-10/nominations/{s1.id}/approve"
    done = post_on_cycle(client, approve, {f"approve-{s1.id}-version": s1.version})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#nomination-{s1.id}")
    # A rejection without a reason, or a short one, is refused on the field.
    reject = f"/awards/2026-10/nominations/{t1.id}/reject"
    empty = post_on_cycle(client, reject, {f"reject-{t1.id}-version": t1.version})
    assert empty.status_code == 400
    assert "Give the reason for the rejection." in empty.get_data(as_text=True)
    short = post_on_cycle(
        client, reject, {f"reject-{t1.id}-version": t1.version, f"reject-{t1.id}-reason": "no"}
    )
    assert short.status_code == 400 and "at least 10 characters" in short.get_data(as_text=True)
    made = post_on_cycle(
        client, reject, {f"reject-{t1.id}-version": t1.version, f"reject-{t1.id}-reason": REASON}
    )
    assert made.status_code == 302
    # Publishing with two still pending is refused with the count.
    publish = post_on_cycle(client, "/awards/2026-10/publish", {"publish-version": cycle.version})
    assert publish.status_code == 409
    assert "2 nomination(s) still wait" in publish.get_data(as_text=True)
    # Approving again from the stale page: refused, not applied twice.
    again = post_on_cycle(client, approve, {f"approve-{s1.id}-version": s1.version - 1})
    assert again.status_code == 409
    db_session.expire_all()
    assert (s1.state, t1.state, t1.decision_reason) == ("approved", "rejected", REASON)


def test_hr_adds_a_nomination_on_the_page_and_another_approves_it(client, db_session, month, login):
    opened(db_session)
    login(month.hr)
    s3 = month.staff["S3"]
    nominate = "/awards/2026-10/nominations"
    html = page(client, "/awards/2026-10")
    assert f'<option value="{s3.id}">S3 员工S3' in html
    assert f'<option value="{month.staff["BAD"].id}"' not in html  # barred
    short = post_on_cycle(
        client, nominate, {"nominate-staff": s3.id, "nominate-justification": "ok"}
    )
    assert short.status_code == 400 and "at least 10 characters" in short.get_data(as_text=True)
    added = post_on_cycle(
        client, nominate, {"nominate-staff": s3.id, "nominate-justification": REASON}
    )
    assert added.status_code == 302
    nomination = db_session.scalars(
        select(Nomination).where(Nomination.source == NominationSource.MANUAL)
    ).one()
    approve = f"/awards/2026-10/nominations/{nomination.id}/approve"
    data = {f"approve-{nomination.id}-version": 1, f"approve-{nomination.id}-reason": REASON}
    own = post_on_cycle(client, approve, data)
    assert own.status_code == 403 and "separation of duties" in own.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token_from(page(client, "/awards"))})
    login(month.hr2)
    assert post_on_cycle(client, approve, data).status_code == 302
    db_session.expire_all()
    assert (nomination.state, nomination.decided_by_id) == ("approved", month.hr2.id)


def test_managers_cannot_take_hr_actions(client, db_session, month, login):
    cycle = opened(db_session)
    s1 = nominations(cycle)["S1"]
    login(month.manager)
    # A month in review is not visible to managers at all.
    assert client.get("/awards/2026-10").status_code == 404
    assert "October 2026" not in page(client, "/awards")
    token = csrf_token_from(page(client, "/awards"))
    for url in (
        f"/awards/2026-10/nominations/{s1.id}/approve",
        f"/awards/2026-10/nominations/{s1.id}/reject",
        "/awards/2026-10/nominations",
        "/awards/2026-10/publish",
        "/awards/2026-10/appeals/1/answer",
        "/awards/open",
    ):
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    for url in ("/awards/2026-10/export.csv", "/awards/2026-10/export.xlsx"):
        assert client.get(url).status_code == 403
    assert s1.state == NominationState.PENDING


def test_a_mystery_shopper_or_reviewer_sees_no_awards(client, db_session, month, login, make_user):
    opened(db_session)
    for role in (Role.MYSTERY, Role.REVIEWER):
        login(make_user(role))
        assert client.get("/awards").status_code == 403
        assert client.get("/awards/2026-10").status_code == 403


def test_managers_see_only_their_stores(client, db_session, month, login, now):
    cycle = published(db_session, month, now)
    picks = nominations(cycle)
    login(month.manager)  # SH-001
    listing = page(client, "/awards")
    assert "October 2026" in listing and "on public notice" in listing
    html = page(client, "/awards/2026-10")
    assert "员工S1" in html and "员工S2" in html
    assert "员工T1" not in html and "HYPERLINK" not in html  # SH-002 and BJ-001
    board = page(client, "/awards/2026-10/stores/SH-001")
    assert "员工S1" in board and 'id="winners"' in board and "n</th>" in board
    for url in (
        "/awards/2026-10/stores/BJ-001",
        "/awards/2026-10/stores/NOPE",
        f"/awards/2026-10/certificate/{picks['B1'].id}",
        "/awards/2026-09",
        "/awards/2026-13",
        "/awards/october",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/awards/2026-10/certificate/{picks['S1'].id}").status_code == 200


def test_the_store_leaderboard_lists_winners_and_top_ranks_with_n(client, db_session, month, login):
    published(db_session, month)
    login(month.admin)
    html = page(client, "/awards/2026-10/stores/SH-001")
    winners = html[html.index('id="winners"') : html.index('id="store-ranks"')]
    assert "员工S1" in winners and "员工S2" in winners and "员工S3" not in winners
    ranks = re.findall(r'<tr id="rank-([A-Z0-9]+)"', html)
    assert ranks[:2] == ["FLAG", "S1"]  # rank 1 (not eligible) and rank 2
    assert "not eligible" in html and "1 staff member had too few answers" in html


def test_a_manager_appeals_on_the_page_and_a_second_hr_answers(
    client, db_session, month, login, now
):
    cycle = published(db_session, month, now)
    s1 = nominations(cycle)["S1"]
    login(month.manager)
    html = page(client, "/awards/2026-10")
    assert f'id="action-appeal-{s1.id}"' in html
    url = f"/awards/2026-10/nominations/{s1.id}/appeal"
    assert post_on_cycle(client, url, {f"appeal-{s1.id}-reason": REASON}).status_code == 302
    db_session.expire_all()
    made = s1.appeals[0]
    client.post("/logout", data={"csrf_token": csrf_token_from(page(client, "/awards"))})

    login(month.hr)  # decided S1: may not answer
    answer = f"/awards/2026-10/appeals/{made.id}/answer"
    data = {f"answer-{made.id}-outcome": "stands", f"answer-{made.id}-answer": REASON}
    refused = post_on_cycle(client, answer, data)
    assert refused.status_code == 403 and "separation of duties" in refused.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token_from(page(client, "/awards"))})
    login(month.hr2)
    assert post_on_cycle(client, answer, data).status_code == 302
    html = page(client, "/awards/2026-10")
    assert "The decision stands" in html and "Appeal by <bdi>manager@example.com</bdi>" in html


def test_the_certificate_is_bilingual_and_only_for_approved_published_nominations(
    client, db_session, month, login
):
    cycle = opened(db_session)
    picks = nominations(cycle)
    login(month.hr)
    assert client.get(f"/awards/2026-10/certificate/{picks['S1'].id}").status_code == 404
    decide_all(db_session, cycle, month.hr)
    publish_cycle(db_session, cycle, actor=Actor.of_user(month.hr), now=NOW)
    html = page(client, f"/awards/2026-10/certificate/{picks['S1'].id}")
    zh = html[html.index('lang="zh-CN" id="certificate-zh-CN"') : html.index('id="certificate-en"')]
    en = html[html.index('id="certificate-en"') :]
    # Dates are formatted by Babel in each language, whatever the page's language.
    assert "员工S1" in zh and "徐汇店" in zh and "2026年10月" in zh and "2026年11月3日" in zh
    assert "Service Star" in en and "员工S1" in en and "October 2026" in en
    assert "November 3, 2026" in en
    assert 'class="certificate-page"' in html
    # Rejected: no certificate.
    assert client.get(f"/awards/2026-10/certificate/{picks['T1'].id}").status_code == 404


def csv_rows(response: Any) -> list[dict[str, str]]:
    """The rows keyed by column, from an export read in English (outside a request the
    header labels are the English words)."""
    keys = {str(label): key for key, label in PAYROLL_HEADERS.items()}
    text = response.get_data().decode("utf-8-sig")
    return [{keys[k]: v for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def test_the_payroll_export_lists_decisions_and_neutralises_formulas(
    client, db_session, month, login
):
    published(db_session, month)
    login(month.hr)
    response = client.get("/awards/2026-10/export.csv", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="service-stars-2026-10.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = csv_rows(response)
    assert list(rows[0]) == [
        "month",
        "staff_code",
        "staff_name",
        "store_code",
        "store_name",
        "region",
        "rank",
        "composite",
        "decision",
        "decided_at",
    ]
    assert [(r["staff_code"], r["decision"]) for r in rows] == [
        ("B1", "approved"),
        ("S1", "approved"),
        ("S2", "approved"),
        ("T1", "rejected"),
    ]
    b1 = rows[0]
    assert b1["staff_name"] == "'" + FORMULA_NAME and b1["month"] == "2026-10"
    assert b1["rank"] == "1" and b1["region"] == "华北"
    assert b1["decided_at"] == "2026-11-03T10:00:00+08:00"

    xlsx = client.get("/awards/2026-10/export.xlsx")
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(xlsx.get_data())) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    assert "'" + FORMULA_NAME in html.unescape(sheet)


def test_posting_without_a_csrf_token_is_refused(client, db_session, month, login):
    s1 = nominations(opened(db_session))["S1"]
    url = f"/awards/2026-10/nominations/{s1.id}/approve"
    # Signed out: the error page renders with the award pages' context, without a user.
    assert client.post(url, data={f"approve-{s1.id}-version": 1}).status_code == 400
    login(month.hr)
    assert client.post(url, data={f"approve-{s1.id}-version": 1}).status_code == 400
    assert s1.state == NominationState.PENDING


def test_every_award_route_declares_its_roles(app):
    hr_only = {Role.HR, Role.ADMIN}
    declared = {
        rule.endpoint: app.view_functions[rule.endpoint].portal_roles
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("awards.")
    }
    assert declared["awards.index"] == declared["awards.cycle"] == hr_only | {Role.MANAGER}
    for endpoint in ("awards.decide", "awards.nominate", "awards.publish", "awards.answer"):
        assert declared[endpoint] == hr_only
    assert declared["awards.export"] == declared["awards.open_month"] == hr_only
    assert declared["awards.appeal_decision"] == {Role.MANAGER}


def test_hr_opens_a_month_from_the_list(client, db_session, month, login):
    login(month.hr)
    html = page(client, "/awards")
    offered = re.findall(r'<option value="(\d{4}-\d{2})"', html)
    assert offered, html
    response = post_form(client, "/awards/open", {"month": offered[0]}, page="/awards")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/awards/{offered[0]}"
    again = post_form(client, "/awards/open", {"month": offered[0]}, page="/awards", headers=EN)
    assert again.status_code == 400  # no longer offered
    assert db_session.scalar(select(func.count()).select_from(AwardCycle)) == 1


# -- the CLI and the demo --------------------------------------------------------------------


def test_award_cycle_and_verify_awards_commands(runner, db_session, month):
    first = runner.invoke(args=["award-cycle", "--month", "2026-10"])
    assert first.exit_code == 0, first.output
    assert first.output.strip().splitlines()[-1] == "2026-10: 4 proposal(s)"
    second = runner.invoke(args=["award-cycle", "--month", "2026-10"])
    assert second.exit_code != 0 and "already open" in second.output
    bad = runner.invoke(args=["award-cycle", "--month", "Oct"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output

    verified = runner.invoke(args=["verify-awards"])
    assert verified.exit_code == 0 and "1 award event(s): the chain is intact" in verified.output
    db_session.execute(update(AwardEvent).values(actor="someone else"))
    broken = runner.invoke(args=["verify-awards"])
    assert broken.exit_code != 0 and "broken at event(s)" in broken.output


def test_award_cycle_finalises_published_months_whose_notice_is_over(runner, db_session, month):
    cycle = published(db_session, month)  # notice ended on 6 November 2026
    result = runner.invoke(args=["award-cycle"])
    assert result.exit_code == 0, result.output
    assert "2026-10\tfinal" in result.output
    db_session.expire_all()
    assert cycle.state == CycleState.FINAL


def test_the_awards_demo_leaves_a_final_month_and_one_in_review(db_session, month):
    summary = build_awards_demo(
        db_session, now=datetime(2026, 12, 5, 3, tzinfo=UTC), hr=month.hr, hr2=month.hr2
    )
    assert (summary.final_month, summary.review_month) == (OCT, date(2026, 11, 1))
    cycles = {c.month: c for c in db_session.scalars(select(AwardCycle))}
    final = cycles[OCT]
    assert final.state == CycleState.FINAL
    states = {n.staff.code: (n.source, n.state) for n in final.nominations}
    assert ("manual", "approved") in states.values() and ("proposed", "rejected") in states.values()
    assert any(n.appeals for n in final.nominations)
    assert cycles[date(2026, 11, 1)].state == CycleState.IN_REVIEW
    assert verify_award_log(db_session) == []
    with pytest.raises(ValueError):
        build_awards_demo(db_session, now=NOW, hr=month.hr, hr2=month.hr)
