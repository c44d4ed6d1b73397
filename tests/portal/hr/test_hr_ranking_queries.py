"""The staff ranking read from the database: signals, gates, several months at once, the
trend, comments and the policy operation (portal.hr.ranking, portal.hr.queries).

Data are written as staff-day rollup rows (what the ranking reads), mystery observations
and cases directly; comments go through `make_response` (the real `record_response`)
like a shopper's answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from analysis.ranking import RankingParameters
from portal.audit import CLI
from portal.calendar import last_complete_month, parse_month
from portal.hr import queries
from portal.hr.ranking import (
    FLAGGED_ANSWERS,
    SUBSTANTIATED_COMPLAINT,
    PolicyValues,
    current_policy,
    rank_month,
    rank_months,
    set_policy,
)
from portal.models import (
    AuditEntry,
    Case,
    DailyRollup,
    RankingPolicy,
    Role,
    StaffObservation,
)
from portal.rollups import sum_staff_months
from surveys.answers import ContactAnswer

MONTH = date(2026, 9, 1)
PARAMETERS = RankingParameters()


def answers(
    db_session, staff, n, satisfied, *, day=None, promoters=None, detractors=None, issued=None
):
    """One staff-day rollup row: ``n`` answers, ``satisfied`` of them 4-5 (the rest 3),
    an NPS mix (default 60 % promoters, 10 % detractors) and receipts issued (default 2n,
    so that nobody's response rate stands out)."""
    promoters = round(0.6 * n) if promoters is None else promoters
    detractors = round(0.1 * n) if detractors is None else detractors
    db_session.add(
        DailyRollup(
            store_id=staff.store_id,
            staff_key=staff.id,
            day=day or MONTH + timedelta(days=14),
            issued=2 * n if issued is None else issued,
            issued_answered=n,
            responses=n,
            csat_5=satisfied,
            csat_3=n - satisfied,
            nps_10=promoters,
            nps_8=n - promoters - detractors,
            nps_3=detractors,
        )
    )
    db_session.flush()
    sum_staff_months(db_session)  # the ranking reads the staff-month grain


def substantiated_case(db_session, staff, resolved_at, *, state="closed"):
    case = Case(
        store_id=staff.store_id,
        staff_id=staff.id,
        source="manual",
        summary="态度恶劣",
        state=state,
        opened_at=resolved_at - timedelta(days=2),
        first_response_due_at=resolved_at - timedelta(days=1),
        resolved_at=resolved_at,
        closed_at=resolved_at if state == "closed" else None,
        resolution="apology",
        substantiated=True,
    )
    db_session.add(case)
    db_session.flush()
    return case


def mystery_observation(make_visit, staff, score, *, state, shopper):
    """A visit to ``staff``'s store on the 10th of MONTH that observed them at checkout."""
    day = MONTH + timedelta(days=9)
    visit = make_visit(staff.store, shopper, score, state=state, day=day, sections={})
    visit.observations.append(
        StaffObservation(
            staff_id=staff.id,
            store_id=staff.store_id,
            visit_day=day,
            sections=["checkout"],
            score=score,
        )
    )
    return visit


def build_team(db_session, make_store, make_staff):
    """SH-001 (华东): A with 3 perfect answers, B with 300 satisfied ones, four colleagues
    (C0-C3) with 100 answers at 80 %; BJ-001 (华北) with X and Y of its own."""
    store = make_store("SH-001", name="徐汇店", region="华东")
    people = {
        "A": make_staff(store, "A001", name="张三"),
        "B": make_staff(store, "B001", name="李四"),
    }
    answers(db_session, people["A"], 3, 3, promoters=3, detractors=0)
    answers(db_session, people["B"], 300, 300)
    for i in range(4):
        people[f"C{i}"] = make_staff(store, f"C00{i}", name=f"同事{i}")
        answers(db_session, people[f"C{i}"], 100, 80)
    other = make_store("BJ-001", name="朝阳店", region="华北")
    people["X"] = make_staff(other, "X001", name="王五")
    people["Y"] = make_staff(other, "Y001", name="赵六")
    answers(db_session, people["X"], 120, 100)
    answers(db_session, people["Y"], 120, 90)
    return store, other, people


@pytest.fixture
def team(db_session, make_store, make_staff):
    return build_team(db_session, make_store, make_staff)


def scores_of(result):
    return {row.staff.code: row.score for row in result.rows}


def test_three_perfect_answers_never_beat_three_hundred_very_good_ones(db_session, team):
    _, _, people = team
    result = rank_month(db_session, MONTH, scope="region", parameters=PARAMETERS)
    scores = scores_of(result)
    a, b = scores["A001"], scores["B001"]
    assert b.rank == 1 and b.proposed and b.eligible
    assert a.rank is None and not a.eligible and not a.proposed and a.greyed
    assert a.ineligible_reasons == ("too_few_answers",)
    # A's estimate is pulled most of the way to the store: 3 answers are 13 % of it.
    assert a.customer.omega == pytest.approx(3 / 23)
    assert b.q10 > a.q10 and b.customer.estimate > a.customer.estimate
    assert {s.group for s in scores.values()} == {"region:华东", "region:华北"}


def test_a_substantiated_complaint_keeps_the_rank_but_bars_the_proposal(db_session, team):
    _, _, people = team
    resolved = datetime(2026, 9, 20, 4, tzinfo=UTC)
    substantiated_case(db_session, people["B"], resolved)
    scores = scores_of(rank_month(db_session, MONTH, scope="region", parameters=PARAMETERS))
    b = scores["B001"]
    assert b.rank is not None and not b.eligible and not b.proposed
    assert SUBSTANTIATED_COMPLAINT in ",".join(b.ineligible_reasons)
    assert b.complaints.raw == pytest.approx(1000 / 600)  # 1 upheld in 600 receipts
    # The proposal slot goes to an eligible colleague instead.
    assert sum(s.proposed for s in scores.values() if s.group == "region:华东") == 1


def test_which_complaints_count_and_which_bar(db_session, team):
    _, _, people = team
    # Resolved and closed last month: neither counted nor barring this month.
    substantiated_case(db_session, people["C0"], datetime(2026, 8, 20, tzinfo=UTC))
    # Resolved last month but still not closed: bars this month, counted last month.
    substantiated_case(
        db_session, people["C1"], datetime(2026, 8, 25, tzinfo=UTC), state="resolved"
    )
    # 31 August 16:30 UTC is 1 September 00:30 in China: this month; 15:30 is August.
    substantiated_case(db_session, people["C2"], datetime(2026, 8, 31, 16, 30, tzinfo=UTC))
    substantiated_case(db_session, people["C3"], datetime(2026, 8, 31, 15, 30, tzinfo=UTC))
    result = rank_month(db_session, MONTH, scope="region", parameters=PARAMETERS)
    data = {row.staff.code: row.data for row in result.rows}
    assert data["C000"].complaints == 0 and data["C000"].excluded_reason is None
    assert data["C001"].complaints == 0
    assert data["C001"].excluded_reason == SUBSTANTIATED_COMPLAINT
    assert data["C002"].complaints == 1
    assert data["C002"].excluded_reason == SUBSTANTIATED_COMPLAINT
    assert data["C003"].complaints == 0 and data["C003"].excluded_reason is None


def test_flagged_answers_keep_the_rank_but_bar_the_proposal(db_session, make_store, make_staff):
    # The invitation-funnel example of analysis.funnel: one cashier's survey answered far
    # more often, and by far more promoters, than the rest of the store's.
    store = make_store("GZ-001", region="华南")
    picky = make_staff(store, "P001")
    answers(db_session, picky, 44, 44, promoters=36, detractors=2, issued=55)
    for i in range(5):
        colleague = make_staff(store, f"Q00{i}")
        answers(db_session, colleague, 35, 28 + i, promoters=17, detractors=8, issued=100)
    scores = scores_of(rank_month(db_session, MONTH, scope="store", parameters=PARAMETERS))
    p = scores["P001"]
    assert p.rank == 1 and not p.eligible and not p.proposed
    assert FLAGGED_ANSWERS in ",".join(p.ineligible_reasons)
    assert [code for code, s in scores.items() if s.proposed] == ["Q004"]


def test_only_released_mystery_observations_count(db_session, team, make_user, make_visit):
    _, _, people = team
    shopper = make_user(Role.MYSTERY)
    for state, score in (("released", 95.0), ("disputed", 85.0), ("final", 75.0)):
        mystery_observation(make_visit, people["C0"], score, state=state, shopper=shopper)
    for state in ("submitted", "in_review", "rejected", "returned"):
        mystery_observation(make_visit, people["C0"], 5.0, state=state, shopper=shopper)
    result = rank_month(db_session, MONTH, scope="region", parameters=PARAMETERS)
    c0 = result.for_staff(people["C0"].id)
    assert c0 is not None
    assert c0.data.mystery_scores == (95.0, 85.0, 75.0)
    assert c0.score.mystery.n == 3 and c0.score.mystery.raw == pytest.approx(85.0)


def test_rank_months_reads_once_and_agrees_with_each_month(db_session, team):
    _, _, people = team
    answers(db_session, people["B"], 50, 20, day=date(2026, 8, 10))
    answers(db_session, people["C0"], 200, 190, day=date(2026, 10, 2))
    months = [date(2026, 8, 1), MONTH, date(2026, 10, 1)]
    together = rank_months(db_session, months, scope="region", parameters=PARAMETERS)
    for month, ranked in zip(months, together, strict=True):
        alone = rank_month(db_session, month, scope="region", parameters=PARAMETERS)
        assert [(r.staff, r.data) for r in ranked.rows] == [(r.staff, r.data) for r in alone.rows]
        assert repr([r.score for r in ranked.rows]) == repr([r.score for r in alone.rows])
        assert ranked.input_digest == alone.input_digest
    with pytest.raises(ValueError):
        rank_months(db_session, [MONTH, date(2026, 11, 1)], scope="region", parameters=PARAMETERS)


def test_the_trend_has_a_gap_where_the_person_had_no_answers(db_session, team):
    _, _, people = team
    answers(db_session, people["B"], 80, 70, day=date(2026, 7, 5))
    trend = queries.staff_trend(
        db_session, people["B"].id, MONTH, scope="region", parameters=PARAMETERS, months=3
    )
    assert [p.month for p in trend] == [date(2026, 7, 1), date(2026, 8, 1), MONTH]
    july, august, september = trend
    assert july.n == 80 and july.composite is not None and july.q10 < july.composite < july.q90
    assert august.composite is None and august.n == 0
    assert september.rank == 1 and september.n == 300


def test_comments_are_the_month_on_their_receipts_without_contact_details(
    db_session, team, make_response
):
    store, _, people = team
    september = datetime(2026, 9, 12, 4, tzinfo=UTC)
    make_response(store, people["B"], nps=10, comment="李四服务很好", now=september)
    make_response(
        store,
        people["B"],
        nps=2,
        csat=1,
        category="service_attitude",
        comment="态度差",
        contact=ContactAnswer("13800138000", None),
        now=september + timedelta(days=1),
    )
    make_response(store, people["B"], nps=10, now=september + timedelta(days=2))
    make_response(
        store, people["B"], nps=10, comment="上个月的评论", now=datetime(2026, 8, 20, 4, tzinfo=UTC)
    )
    make_response(store, people["A"], nps=10, comment="别人的小票", now=september)
    rows = db_session.execute(queries.staff_comments(people["B"].id, MONTH)).all()
    assert [row.comment for row in rows] == ["态度差", "李四服务很好"]
    assert all("13800138000" not in str(tuple(row)) for row in rows)


def test_movement_against_last_month(db_session, team):
    store, _, people = team
    august = date(2026, 8, 1)
    answers(db_session, people["C0"], 100, 95, day=august + timedelta(days=3))
    answers(db_session, people["C1"], 100, 75, day=august + timedelta(days=3))
    table = queries.ranking_table(
        db_session,
        MONTH,
        scope="store",
        group="store:SH-001",
        store_ids={store.id},
        parameters=PARAMETERS,
    )
    rows = {row.ranked.staff.code: row for row in table.rows}
    ranks = {code: row.ranked.score.rank for code, row in rows.items()}
    # In August C0 was 1st and C1 2nd of the two ranked; both sit lower now, behind B.
    assert rows["C000"].movement.kind == "down"
    assert rows["C000"].movement.places == ranks["C000"] - 1
    assert rows["C001"].movement.places == abs(ranks["C001"] - 2)
    assert rows["B001"].movement.kind == "new"
    assert rows["A001"].movement.kind == "none"
    assert [row.top_line for row in table.rows].count(True) == 1
    assert table.rows[0].ranked.staff.code == "B001" and table.rows[0].top_line
    assert table.previous_ranked == 2


def test_set_policy_adds_a_row_and_an_audit_entry(db_session, now):
    assert current_policy(db_session).changed_by == "default"
    values = PolicyValues(0.6, 0.2, 0.2, 30, 0.2, -1.5, "chain", 5)
    policy = set_policy(db_session, values, actor=CLI, now=now)
    assert current_policy(db_session).id == policy.id
    assert (policy.min_n, policy.scope, policy.changed_by) == (30, "chain", "cli")
    entry = db_session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "ranking_policy.set" and entry.details["top_fraction"] == 0.2
    with pytest.raises(ValueError):
        set_policy(db_session, PolicyValues(0, 0, 0, 30, 0.2, -1.5, "chain", 5), actor=CLI, now=now)
    assert db_session.scalar(select(func.count()).select_from(RankingPolicy)) == 1


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2026-09", date(2026, 9, 1)),
        (" 2026-12 ", date(2026, 12, 1)),
        ("2026-13", None),
        ("2026-9", None),
        ("1999-01", None),
        ("", None),
        (None, None),
        ("2026-09-01", None),
    ],
)
def test_parse_month(text, month):
    assert parse_month(text) == month


def test_the_last_complete_month_is_over_in_every_store(db_session, make_store):
    # With no store yet, China time: 1 October 00:30 in Shanghai is 30 September in UTC.
    assert last_complete_month(db_session, datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) == MONTH
    assert last_complete_month(db_session, datetime(2026, 9, 30, 15, 30, tzinfo=UTC)) == date(
        2026, 8, 1
    )
    assert last_complete_month(db_session, datetime(2026, 1, 15, tzinfo=UTC)) == date(2025, 12, 1)
    # A store in New York: September is over only when it is over there too.
    make_store(timezone="Asia/Shanghai")
    make_store(timezone="America/New_York")
    assert last_complete_month(db_session, datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) == date(
        2026, 8, 1
    )
    assert last_complete_month(db_session, datetime(2026, 10, 1, 4, 30, tzinfo=UTC)) == MONTH
