"""The staff-month rollup grain and the stored rankings of months that are over
(portal.rollups, portal.hr.ranking, portal.hr.stored): the grain equals the answers summed
by month, the ranking read from it equals the one read from the staff days, a stored
ranking reads back unchanged, a change to a closed month ranks it afresh, and the HR staff
page shows the same figures from stored months as computed ones."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

import portal.hr.ranking as ranking_module
from portal.calendar import month_start
from portal.hr import stored
from portal.hr.ranking import (
    CustomerMonth,
    _read_signals,
    current_policy,
    parameters_of,
    policy_channels,
    rank_month,
    rank_months,
)
from portal.models import (
    DailyRollup,
    Receipt,
    Response,
    Role,
    StaffMonthlyRollup,
    StoredRanking,
)
from portal.rollups import rebuild_rollups
from tests.portal.hr.test_hr_ranking_queries import substantiated_case

MONTHS = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
SEPTEMBER = MONTHS[1]
EN = {"Accept-Language": "en"}
COUNTED = (
    ("issued", "issued_answered", "responses", "problems")
    + tuple(f"nps_{s}" for s in range(11))
    + tuple(f"csat_{s}" for s in range(1, 6))
)


@pytest.fixture
def world(db_session, make_store, make_staff, make_response):
    """Two stores of two regions, six cashiers, answers in three months (varied scores,
    one receipt of 30 September answered on 2 October, one answer without a cashier)."""
    stores = [
        make_store("SH-001", name="徐汇店", region="华东"),
        make_store("BJ-001", name="朝阳店", region="华北"),
    ]
    staff = [make_staff(stores[i % 2], f"K{i:03d}", name=f"员工{i}") for i in range(6)]
    for m, month in enumerate(MONTHS):
        for i, person in enumerate(staff):
            for k in range(3 + (i + m) % 4):
                when = datetime.combine(month, datetime.min.time(), UTC) + timedelta(
                    days=3 + 2 * k, hours=4 + i
                )
                make_response(
                    person.store,
                    person,
                    nps=(i * 3 + k * 5 + m) % 11,
                    csat=1 + (i + k + m) % 5,
                    category="service" if k == 1 else None,
                    now=when,
                )
    make_response(
        stores[0],
        staff[0],
        nps=10,
        csat=5,
        now=datetime(2026, 10, 2, 3, tzinfo=UTC),
        receipt_age=timedelta(days=2),
    )
    make_response(stores[1], None, nps=2, csat=2, now=datetime(2026, 9, 20, 5, tzinfo=UTC))
    db_session.flush()
    return stores, staff


def summed_from_answers(db_session):
    """The staff-month counts summed from the raw receipts and responses in Python."""
    sums: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTED, 0))
    for r in db_session.scalars(select(Response)):
        row = sums[(r.store_id, r.staff_id or 0, month_start(r.local_day), r.channel)]
        row["responses"] += 1
        row["problems"] += int(r.problem_reported)
        row[f"nps_{r.nps}"] += 1
        row[f"csat_{r.csat}"] += 1
    for receipt in db_session.scalars(select(Receipt)):
        key = (receipt.store_id, receipt.staff_id or 0, month_start(receipt.local_day), "receipt")
        sums[key]["issued"] += 1
        sums[key]["issued_answered"] += int(receipt.answered_at is not None)
    return {key: values for key, values in sums.items()}


def staff_month_rows(db_session):
    rollup = StaffMonthlyRollup
    return {
        (row.store_id, row.staff_key, row.month, row.channel): {
            name: getattr(row, name) for name in COUNTED
        }
        for row in db_session.scalars(select(rollup))
    }


def test_the_staff_month_grain_equals_the_answers_summed_by_month(db_session, world):
    expected = summed_from_answers(db_session)
    assert staff_month_rows(db_session) == expected
    # The late answer counts as answered in September (its receipt's month), given in October.
    _, staff = world
    september = staff_month_rows(db_session)[(staff[0].store_id, staff[0].id, SEPTEMBER, "receipt")]
    assert september["issued_answered"] == september["issued"]
    rebuild_rollups(db_session)
    assert staff_month_rows(db_session) == expected
    rebuild_rollups(db_session, [world[0][0].id])
    assert staff_month_rows(db_session) == expected


def customer_from_staff_days(db_session, months, channels):
    """The customer signal as the ranking read it before the staff-month grain: the
    staff-day rollup summed over each month in Python."""
    found: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * 7)
    for row in db_session.scalars(select(DailyRollup).where(DailyRollup.staff_key != 0)):
        month = month_start(row.day)
        if month not in months:
            continue
        counts = found[(row.staff_key, months.index(month))]
        if row.channel in channels:
            counts[0] += row.csat_4 + row.csat_5
            counts[1] += sum(getattr(row, f"csat_{s}") for s in range(1, 6))
            counts[2] += row.nps_9 + row.nps_10
            counts[3] += row.nps_7 + row.nps_8
            counts[4] += sum(getattr(row, f"nps_{s}") for s in range(7))
        counts[5] += row.issued
        counts[6] += row.issued_answered
    return {key: CustomerMonth(*values) for key, values in found.items()}


def test_the_ranking_reads_from_the_staff_months_what_the_staff_days_hold(db_session, world):
    channels = tuple(str(c) for c in policy_channels(current_policy(db_session)))
    signals = _read_signals(db_session, MONTHS, True, channels)
    assert signals.customer == customer_from_staff_days(db_session, MONTHS, channels)
    assert len({staff for staff, _ in signals.customer}) == 6


def parameters(db_session):
    return parameters_of(current_policy(db_session))


def test_a_stored_month_reads_back_unchanged(db_session, world, monkeypatch):
    first = rank_month(db_session, SEPTEMBER, scope="region", parameters=parameters(db_session))
    assert db_session.scalar(select(func.count()).select_from(StoredRanking)) == 1

    def not_again(*args, **kwargs):
        raise AssertionError("a stored month is not ranked again")

    monkeypatch.setattr(ranking_module, "rank_staff", not_again)
    again = rank_month(db_session, SEPTEMBER, scope="region", parameters=parameters(db_session))
    # repr: NaN (a signal without data) is not equal to itself, its repr is.
    assert repr(again) == repr(first)
    assert again.input_digest == first.input_digest and len(again.rows) == 6


def test_the_trend_of_stored_months_equals_the_months_ranked_afresh(db_session, world):
    _, staff = world
    light = parameters(db_session)
    months = rank_months(db_session, MONTHS, scope="region", parameters=light, gates=False)
    expected = [stored.point_of(m.for_staff(staff[2].id).score, m.ranking) for m in months]
    points = ranking_module.person_months(
        db_session, staff[2].id, MONTHS, scope="region", parameters=light
    )
    assert repr([p for _, p in points]) == repr(expected)
    assert [m for m, _ in points] == MONTHS


def test_a_change_to_a_closed_month_ranks_it_afresh(db_session, world, make_response):
    _, staff = world
    before = rank_month(db_session, SEPTEMBER, scope="region", parameters=parameters(db_session))
    printed = db_session.scalar(select(StoredRanking.fingerprint))
    # A complaint substantiated in September, after the month was ranked and stored.
    substantiated_case(db_session, staff[1], datetime(2026, 9, 25, 2, tzinfo=UTC))
    after = rank_month(db_session, SEPTEMBER, scope="region", parameters=parameters(db_session))
    assert before.for_staff(staff[1].id).data.complaints == 0
    assert after.for_staff(staff[1].id).data.complaints == 1
    assert db_session.scalar(select(StoredRanking.fingerprint)) != printed
    # A late answer to a September receipt: September's funnel changes.
    make_response(
        staff[3].store,
        staff[3],
        now=datetime(2026, 10, 1, 2, tzinfo=UTC),
        receipt_age=timedelta(days=1),
    )
    late = rank_month(db_session, SEPTEMBER, scope="region", parameters=parameters(db_session))
    answered = late.for_staff(staff[3].id)
    assert answered is not None
    assert repr(late) != repr(after)
    # Rebuilding the rollups gives the same data, hence the same ranking.
    rebuild_rollups(db_session)
    rebuilt = rank_month(db_session, SEPTEMBER, scope="region", parameters=parameters(db_session))
    assert repr(rebuilt) == repr(late)
    # A new policy (the scope stays) is other parameters: ranked afresh, not read back.
    changed = parameters(db_session).__class__(min_n=3)
    fresh = rank_month(db_session, SEPTEMBER, scope="region", parameters=changed)
    assert fresh.ranking.parameters.min_n == 3


def test_the_current_month_is_not_stored(db_session, world):
    today = date.today()
    rank_month(db_session, today, scope="region", parameters=parameters(db_session))
    months = db_session.scalars(select(StoredRanking.month)).all()
    assert month_start(today) not in months


def test_the_staff_page_shows_the_same_figures_from_stored_months(
    client, db_session, world, make_user, login_as, monkeypatch
):
    _, staff = world
    login_as(make_user(Role.HR, email="hr@example.com"))
    url = f"/hr/staff/{staff[0].id}?month=2026-10&scope=region"

    def get(path):
        response = client.get(path, headers=EN)
        assert response.status_code == 200
        # The logout form's CSRF token carries a timestamp; the rest must be identical.
        return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))

    computed = get(url), get(url.replace("?", "/trend.svg?"))
    assert db_session.scalar(select(func.count()).select_from(StoredRanking)) >= 3
    from_store = get(url), get(url.replace("?", "/trend.svg?"))
    monkeypatch.setattr(stored, "load", lambda *args, **kwargs: None)
    monkeypatch.setattr(stored, "load_points", lambda *args, **kwargs: {})
    afresh = get(url), get(url.replace("?", "/trend.svg?"))
    assert from_store == computed == afresh
    assert "K000" in computed[0]
