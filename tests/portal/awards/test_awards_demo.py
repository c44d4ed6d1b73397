"""The awards demo's final month ends with an approved nomination and its certificate
whenever the demo is built: at any hour, on any day of the month, and however few answers
the month holds.

A small demo (the translation walk's world: 2,000 answers over 70 days for some 200 staff)
leaves its busiest person a handful of answers either side of the eligibility floor of 20,
and which side changed with the hour the demo was drawn at. The months here mirror that:
nobody reaches the floor, the best-answered person has 19 answers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.auth.operations import create_user
from portal.awards.ledger import verify_award_log
from portal.demo.awards import build_awards_demo
from portal.hr.ranking import SUBSTANTIATED_COMPLAINT
from portal.models import (
    AwardCycle,
    Case,
    CaseState,
    CycleState,
    DailyRollup,
    Nomination,
    NominationSource,
    NominationState,
    Role,
    SnapshotRow,
    Staff,
    Store,
    User,
)
from portal.rollups import sum_staff_months
from tests.conftest import PASSWORD

#: (answers rated, of which satisfied) per person, in each of the two months.
PEOPLE = {
    "A": (19, 19),  # the best-answered, all satisfied: still one short of the floor
    "B": (17, 15),
    "C": (12, 11),
    "D": (5, 5),
    "E": (0, 0),
    "BAD": (19, 19),  # a substantiated complaint: HR may not add them
    "LEFT": (19, 19),  # has left the chain
}

#: When the demo is built -> the final month (two months back on the chain's clock,
#: Asia/Shanghai, UTC+8: 16:00 UTC is midnight there).
NOWS = [
    *(
        (datetime(2026, 12, day, hour, minute, tzinfo=UTC), date(2026, 10, 1))
        for day in (1, 6, 28)
        for hour, minute in ((0, 30), (11, 0), (23, 30))
    ),
    (datetime(2026, 11, 30, 15, 30, tzinfo=UTC), date(2026, 9, 1)),  # 23:30 on the 30th
    (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), date(2026, 10, 1)),  # 00:30 on the 1st
    (datetime(2027, 3, 1, 11, 0, tzinfo=UTC), date(2027, 1, 1)),  # after a short month
]


def _hr(session: Session, email: str, *, signs_in: bool) -> User:
    # Only the login that opens the certificate gets a password: hashing one is slow.
    return create_user(
        session,
        email=email,
        role=Role.HR,
        password=PASSWORD if signs_in else None,
        actor=CLI,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _answers(session: Session, staff: Staff, day: date, rated: int, satisfied: int) -> None:
    if rated:
        promoters = satisfied * 3 // 4
        session.add(
            DailyRollup(
                store_id=staff.store_id,
                staff_key=staff.id,
                day=day,
                csat_5=satisfied,
                csat_3=rated - satisfied,
                nps_10=promoters,
                nps_7=rated - promoters,
                issued=rated * 4,
                issued_answered=rated,
                responses=rated,
            )
        )
        session.flush()
        sum_staff_months(session)  # the ranking reads the staff-month grain


def _chain(session: Session, final: date, review: date) -> tuple[User, User, dict[str, Staff]]:
    """Two stores of one region, the people of `PEOPLE` with their answers in the final
    and the review month, and two HR logins (the first one signs in)."""
    stores = [Store(code="SH-001", name="徐汇店", region="华东")]
    stores.append(Store(code="SH-002", name="静安店", region="华东"))
    session.add_all(stores)
    session.flush()
    staff = {
        code: Staff(store_id=stores[i % 2].id, code=code, name=f"员工{code}")
        for i, code in enumerate(PEOPLE)
    }
    staff["LEFT"].active = False
    session.add_all(staff.values())
    session.flush()
    for code, (rated, satisfied) in PEOPLE.items():
        for month in (final, review):
            _answers(session, staff[code], month.replace(day=15), rated, satisfied)
    for month in (final, review):
        resolved = datetime(month.year, month.month, 20, 4, tzinfo=UTC)
        session.add(
            Case(
                store_id=staff["BAD"].store_id,
                staff_id=staff["BAD"].id,
                source="manual",
                state=CaseState.CLOSED,
                first_response_due_at=resolved,
                resolved_at=resolved,
                substantiated=True,
            )
        )
    hr = _hr(session, "hr@example.com", signs_in=True)
    hr2 = _hr(session, "hr2@example.com", signs_in=False)
    session.flush()
    return hr, hr2, staff


@pytest.mark.parametrize(("now", "final"), NOWS, ids=[f"{n:%Y-%m-%dT%H:%M}" for n, _ in NOWS])
def test_the_final_month_always_has_an_approved_nomination_with_a_certificate(
    now: datetime,
    final: date,
    db_session: Session,
    client,
    login_as: Callable[[User], object],
) -> None:
    review = date(final.year + (final.month == 12), final.month % 12 + 1, 1)
    hr, hr2, staff = _chain(db_session, final, review)
    summary = build_awards_demo(db_session, now=now, hr=hr, hr2=hr2)

    assert (summary.final_month, summary.review_month) == (final, review)
    cycle = db_session.scalars(select(AwardCycle).where(AwardCycle.month == final)).one()
    assert cycle.state == CycleState.FINAL
    rows = {r.staff_code: r for r in db_session.scalars(select(SnapshotRow)) if r.cycle == cycle}
    assert not any(row.eligible for row in rows.values())  # nobody reached the floor
    assert SUBSTANTIATED_COMPLAINT in rows["BAD"].reasons
    approved = [n for n in cycle.nominations if n.state == NominationState.APPROVED]
    assert [(n.staff.code, n.source) for n in approved] == [("A", NominationSource.MANUAL)]
    [award] = approved
    assert award.created_by_id == hr2.id and award.decided_by_id == hr.id
    assert verify_award_log(db_session) == []

    login_as(hr)
    page = client.get(f"/awards/{final:%Y-%m}/certificate/{award.id}")
    assert page.status_code == 200
    assert "员工A" in page.get_data(as_text=True)


def test_an_eligible_person_the_ranking_left_out_is_still_preferred(
    db_session: Session,
) -> None:
    """With eligible people the hand-added nomination goes to the best one not proposed,
    even when someone short of answers scores a better bound: the exception is only for a
    month where nobody is eligible."""
    now, final = NOWS[4]
    review = date(2026, 11, 1)
    hr, hr2, staff = _chain(db_session, final, review)
    for code, (rated, satisfied) in {"B": (60, 57), "C": (60, 50)}.items():
        _answers(db_session, staff[code], final.replace(day=16), rated, satisfied)
    db_session.flush()
    build_awards_demo(db_session, now=now, hr=hr, hr2=hr2)

    cycle = db_session.scalars(select(AwardCycle).where(AwardCycle.month == final)).one()
    rows = {r.staff_code: r for r in db_session.scalars(select(SnapshotRow)) if r.cycle == cycle}
    assert rows["B"].eligible and rows["C"].eligible and not rows["A"].eligible
    assert rows["A"].q10 > rows["C"].q10
    added = db_session.scalars(
        select(Nomination).where(
            Nomination.cycle_id == cycle.id, Nomination.source == NominationSource.MANUAL
        )
    ).one()
    assert added.staff.code == "C" and added.state == NominationState.APPROVED
