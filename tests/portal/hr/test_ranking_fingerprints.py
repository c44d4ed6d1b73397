"""The fingerprint of a closed month (portal.hr.fingerprints): every change to what the
ranking reads gives the month a new one, so that its stored ranking is not used, even
when the month's totals stay the same; names are read when shown."""

from __future__ import annotations

from sqlalchemy import select

from portal import rollups
from portal.hr import fingerprints
from portal.hr.ranking import current_policy, parameters_of, policy_channels, rank_month
from portal.models import MysteryVisit, Role, StaffMonthlyRollup, StaffObservation, StoredRanking
from portal.rollups import rebuild_rollups
from tests.portal.hr.test_staff_months import SEPTEMBER, world  # noqa: F401

SCOPE = "region"


def printed(db_session):
    policy = current_policy(db_session)
    (found,) = fingerprints.month_fingerprints(
        db_session,
        [SEPTEMBER],
        scope=SCOPE,
        gates=True,
        channels=tuple(str(c) for c in policy_channels(policy)),
        parameters=parameters_of(policy),
    )
    return found


def ranked(db_session):
    policy = current_policy(db_session)
    return rank_month(db_session, SEPTEMBER, scope=SCOPE, parameters=parameters_of(policy))


def column_totals(db_session):
    rollup = StaffMonthlyRollup
    rows = db_session.scalars(select(rollup).where(rollup.month == SEPTEMBER)).all()
    return {name: sum(getattr(r, name) for r in rows) for name in rollups.COUNT_COLUMNS}


def test_an_answer_moved_between_two_staff_changes_the_month(db_session, world):  # noqa: F811
    _, staff = world
    before = ranked(db_session)
    totals, print_before = column_totals(db_session), printed(db_session)
    a, b = staff[0], staff[2]  # the same store
    assert a.store_id == b.store_id
    day = SEPTEMBER.replace(day=10)
    row = db_session.get(StaffMonthlyRollup, (a.store_id, a.id, SEPTEMBER, "receipt"))
    csat = next(f"csat_{s}" for s in (5, 4) if getattr(row, f"csat_{s}") > 0)
    nps = next(f"nps_{s}" for s in range(10, -1, -1) if getattr(row, f"nps_{s}") > 0)
    moved = {"responses": 1, csat: 1, nps: 1}
    rollups._count(db_session, a.store_id, a.id, day, "receipt", {k: -v for k, v in moved.items()})
    rollups._count(db_session, b.store_id, b.id, day, "receipt", moved)
    db_session.expire_all()  # the upserts are Core statements
    assert column_totals(db_session) == totals  # the month's totals are unchanged
    assert printed(db_session) != print_before
    after = ranked(db_session)
    assert after.for_staff(b.id).data.satisfied == before.for_staff(b.id).data.satisfied + 1
    assert after.for_staff(a.id).data.satisfied == before.for_staff(a.id).data.satisfied - 1
    assert db_session.scalar(select(StoredRanking.fingerprint)) == printed(db_session)


def test_a_rebuild_gives_a_new_fingerprint_and_the_same_ranking(db_session, world):  # noqa: F811
    before, print_before = ranked(db_session), printed(db_session)
    rebuild_rollups(db_session)
    assert printed(db_session) != print_before
    assert repr(ranked(db_session)) == repr(before)


def test_a_disputed_mystery_score_changes_the_month(
    db_session,
    world,  # noqa: F811
    make_user,
    make_visit,
):
    _, staff = world
    shopper = make_user(Role.MYSTERY)
    day = SEPTEMBER.replace(day=12)
    visit = make_visit(staff[1].store, shopper, 80.0, state="released", day=day, sections={})
    visit.observations.append(
        StaffObservation(
            staff_id=staff[1].id, store_id=staff[1].store_id, visit_day=day, sections=[], score=80.0
        )
    )
    db_session.flush()
    first = ranked(db_session)
    assert first.for_staff(staff[1].id).data.mystery_scores == (80.0,)
    observation = db_session.scalar(select(StaffObservation))
    observation.score = 80.5  # a dispute adjusts the score
    db_session.flush()
    assert ranked(db_session).for_staff(staff[1].id).data.mystery_scores == (80.5,)
    db_session.get(MysteryVisit, visit.id).state = "submitted"  # no longer released
    db_session.flush()
    assert ranked(db_session).for_staff(staff[1].id).data.mystery_scores == ()


def test_a_person_moved_to_another_store_changes_the_month(db_session, world):  # noqa: F811
    stores, staff = world
    first = ranked(db_session)
    assert first.for_staff(staff[0].id).score.group == "region:华东"
    staff[0].store_id = stores[1].id
    db_session.flush()
    db_session.expire_all()
    moved = ranked(db_session)
    assert moved.for_staff(staff[0].id).score.group == "region:华北"


def test_a_renamed_person_is_shown_by_their_new_name_from_the_stored_month(
    db_session,
    world,  # noqa: F811
):
    _, staff = world
    first = ranked(db_session)
    stored_at = db_session.scalar(select(StoredRanking.computed_at))
    staff[3].name = "新名字"
    db_session.flush()
    again = ranked(db_session)
    # Read back, not ranked again: the name is not an input of the ranking.
    assert db_session.scalar(select(StoredRanking.computed_at)) == stored_at
    assert again.for_staff(staff[3].id).staff.name == "新名字"
    assert repr(again.for_staff(staff[3].id).score) == repr(first.for_staff(staff[3].id).score)
    assert again.for_staff(staff[2].id).staff == first.for_staff(staff[2].id).staff
