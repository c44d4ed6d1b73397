"""Held answers are left out of the staff ranking and the service-star awards until a
reviewer clears them; rejected ones stay out; dashboards keep counting every answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from analysis.ranking import RankingParameters
from portal.audit import CLI, Actor
from portal.awards.operations import open_cycle
from portal.ballot.holds import counts_in_rankings
from portal.ballot.review import decide_flag
from portal.hr.queries import staff_comments
from portal.hr.ranking import _read_signals, rank_month
from portal.models import (
    AwardScope,
    DailyRollup,
    Nomination,
    RankingPolicy,
    Response,
    Role,
    SnapshotRow,
    StoreDailyRollup,
)
from portal.rollups import sum_staff_months
from tests.portal.ballot.conftest import decide_all, flags_of

OCT = date(2026, 10, 1)
#: 15 October, 10:00 in Shanghai.
BURST_AT = datetime(2026, 10, 15, 2, tzinfo=UTC)
#: 3 November: October is over in every store.
AFTER = datetime(2026, 11, 3, 2, tzinfo=UTC)


@pytest.fixture
def team(db_session, make_store, make_staff, submit):
    """SH-001 with nine colleagues of 50 genuine answers each (rollup rows, 68-84 %
    satisfied) and STAR, whose 40 perfect answers came from one phone in ten minutes,
    plus 3 genuine answers of STAR's own, days apart and from other phones."""
    store = make_store("SH-001", name="徐汇店", region="华东")
    colleagues = []
    for i in range(9):
        person = make_staff(store, f"C00{i}", name=f"同事{i}")
        satisfied = 34 + 2 * i
        db_session.add(
            DailyRollup(
                store_id=store.id,
                staff_key=person.id,
                day=date(2026, 10, 10),
                issued=150,
                issued_answered=50,
                responses=50,
                csat_5=satisfied,
                csat_3=50 - satisfied,
                nps_10=30,
                nps_8=12,
                nps_3=8,
            )
        )
        colleagues.append(person)
    star = make_staff(store, "STAR", name="明星")
    genuine = [
        submit(store, star, at=BURST_AT - timedelta(days=d), address=f"198.51.100.{d}", agent=a)
        for d, a in ((3, "Phone X"), (6, "Phone Y"), (9, "Phone Z"))
    ]
    stuffed = [
        submit(store, star, at=BURST_AT + timedelta(seconds=14 * i), nps=10, csat=5)
        for i in range(40)
    ]
    sum_staff_months(db_session)  # the colleagues' rows were written as staff days
    db_session.add(
        RankingPolicy(
            customer_weight=1.0,
            mystery_weight=0.0,
            complaints_weight=0.0,
            min_n=20,
            top_fraction=0.10,
            baseline=-1.0,
            scope=AwardScope.STORE,
            notice_days=3,
            changed_by="test",
        )
    )
    db_session.flush()
    return {"store": store, "star": star, "genuine": genuine, "stuffed": stuffed}


@pytest.fixture
def reviewer(make_user):
    return make_user(Role.REVIEWER)


def star_data(db_session, team):
    ranking = rank_month(db_session, OCT, scope=AwardScope.STORE, parameters=RankingParameters())
    return ranking.for_staff(team["star"].id)


def answered(db_session, team):
    signals = _read_signals(db_session, [OCT], gates=True, channels=("receipt", "code"))
    return signals.customer[(team["star"].id, 0)].answered


def test_every_stuffed_answer_is_held(db_session, team):
    assert all(flags_of(db_session, r) for r in team["stuffed"])
    assert not any(flags_of(db_session, r) for r in team["genuine"])


def test_held_answers_are_not_in_the_ranking_inputs_until_cleared(db_session, team, reviewer):
    held = star_data(db_session, team)
    assert (held.data.rated, held.data.satisfied, held.data.promoters, held.score.n) == (3, 3, 3, 3)
    assert held.score.rank is None  # too few answers of their own to be ranked
    # Nor are they answered receipts, for the invitation-funnel check.
    assert answered(db_session, team) == 3
    decide_all(db_session, team["stuffed"], "cleared", reviewer, AFTER)
    cleared = star_data(db_session, team)
    assert (cleared.data.rated, cleared.data.promoters, cleared.score.n) == (43, 43, 43)
    assert cleared.score.rank is not None
    assert answered(db_session, team) == 43


def test_rejected_answers_stay_out_of_the_ranking(db_session, team, reviewer):
    decide_all(db_session, team["stuffed"], "rejected", reviewer, AFTER)
    assert star_data(db_session, team).data.rated == 3


def test_an_answer_counts_only_when_every_flag_of_it_is_cleared(db_session, team, reviewer):
    first = team["stuffed"][:10]
    assert all(set(flags_of(db_session, r)) == {"burst", "pattern"} for r in first)
    # Their burst flags cleared, their pattern flags still held: still out.
    for response in first:
        flag = flags_of(db_session, response)["burst"]
        decide_flag(
            db_session,
            flag,
            decision="cleared",
            reason="The burst was a promotion queue.",
            actor=Actor.of_user(reviewer),
            now=AFTER,
            expected_version=flag.version,
        )
    assert star_data(db_session, team).data.rated == 3


def test_held_answers_are_not_in_the_award_selection(db_session, team):
    cycle = open_cycle(db_session, OCT, actor=CLI, now=AFTER)
    row = db_session.scalars(
        select(SnapshotRow).where(
            SnapshotRow.cycle_id == cycle.id, SnapshotRow.staff_code == "STAR"
        )
    ).one()
    # Three answers of their own: not ranked, so never proposed.
    assert (row.n, row.rank, row.proposed) == (3, None, False)
    nominated = db_session.scalars(
        select(Nomination.staff_id).where(Nomination.cycle_id == cycle.id)
    )
    assert team["star"].id not in set(nominated)


def test_cleared_answers_count_in_the_award_selection(db_session, team, reviewer):
    decide_all(db_session, team["stuffed"], "cleared", reviewer, AFTER)
    cycle = open_cycle(db_session, OCT, actor=CLI, now=AFTER)
    row = db_session.scalars(
        select(SnapshotRow).where(
            SnapshotRow.cycle_id == cycle.id, SnapshotRow.staff_code == "STAR"
        )
    ).one()
    assert (row.n, row.rank is not None) == (43, True)


def test_rejected_answers_stay_out_of_the_award_selection(db_session, team, reviewer):
    decide_all(db_session, team["stuffed"], "rejected", reviewer, AFTER)
    cycle = open_cycle(db_session, OCT, actor=CLI, now=AFTER)
    row = db_session.scalars(
        select(SnapshotRow).where(
            SnapshotRow.cycle_id == cycle.id, SnapshotRow.staff_code == "STAR"
        )
    ).one()
    assert (row.n, row.rank, row.proposed) == (3, None, False)


def test_held_comments_are_not_shown_with_the_ranking(db_session, team, submit):
    store, star = team["store"], team["star"]
    genuine = submit(
        store, star, at=BURST_AT - timedelta(days=1), address="198.51.100.50", comment="很耐心"
    )
    held = submit(store, star, at=BURST_AT + timedelta(minutes=5), comment="最好的收银员")
    assert flags_of(db_session, held)
    shown = [row.comment for row in db_session.execute(staff_comments(star.id, OCT))]
    assert shown == [genuine.comment]


def test_dashboards_still_count_every_answer(db_session, team):
    # The store's figures are the shoppers' answers as given (SECURITY.md says why).
    day = db_session.scalars(
        select(StoreDailyRollup).where(StoreDailyRollup.day == date(2026, 10, 15))
    ).one()
    assert day.responses == 40
    counted = db_session.scalars(select(Response.id).where(counts_in_rankings(Response.id))).all()
    assert set(counted) == {r.id for r in team["genuine"]}
