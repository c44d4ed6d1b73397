"""The store page's rollup reads over months plus edge days give what summing every
staff-day row of the period gives: per store, staff member and channel, for periods that
start and end mid-month, within one month, on month boundaries and over a year."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.calendar import Period
from portal.dashboard import queries
from portal.dashboard.month_spans import MonthReading, month_reading
from portal.dashboard.queries import (
    COUNT_COLUMNS,
    SCORE_COLUMNS,
    Totals,
)
from portal.models import Channel, DailyRollup, Role
from portal.rollups import _count

FIRST = date(2025, 11, 20)
LAST = date(2026, 4, 10)
CHANNELS = (Channel.RECEIPT.value, Channel.CODE.value, Channel.KIOSK.value)

PERIODS = [
    ("2025-11-20", "2026-04-10"),  # the whole world: both ends mid-month
    ("2025-12-01", "2026-02-28"),  # whole months only
    ("2025-12-15", "2026-03-14"),  # mid-month to mid-month
    ("2025-12-31", "2026-02-01"),  # one day at either end of a whole month
    ("2026-01-05", "2026-01-25"),  # within one month
    ("2026-02-01", "2026-02-27"),  # a month less its last day
    ("2026-01-31", "2026-01-31"),  # one day
    ("2025-12-01", "2025-12-31"),  # one whole month
    ("2025-04-01", "2025-11-19"),  # before the first day: nothing
    ("2025-06-10", "2026-06-09"),  # a year around the data
    ("2025-11-25", "2026-01-03"),  # the first edge's month less its other days
    ("2026-03-17", "2026-04-16"),  # two edges without a whole month, a tie on the first
]


@pytest.fixture
def world(db_session, make_store, make_staff):
    """Three stores with four staff each (and batch cards, staff 0), counts written
    through the rollup kernel on random days and channels."""
    rng = random.Random(15)
    stores = [make_store(f"PR-{i}") for i in range(3)]
    staff = {s.id: [m.id for m in (make_staff(s) for _ in range(4))] + [0] for s in stores}
    day = FIRST
    while day <= LAST:
        for store in stores:
            for _ in range(rng.randint(0, 4)):
                channel = rng.choice(CHANNELS)
                increments = {"issued": rng.randint(0, 3), "issued_answered": rng.randint(0, 2)}
                if channel != Channel.RECEIPT.value:
                    increments = {}
                increments |= {
                    "responses": 1,
                    f"nps_{rng.randint(0, 10)}": 1,
                    f"csat_{rng.randint(1, 5)}": 1,
                    "speed_n": 1,
                    "speed_sum": 4,
                    "speed_sumsq": 16,
                }
                _count(db_session, store.id, rng.choice(staff[store.id]), day, channel, increments)
        day += timedelta(days=1)
    db_session.flush()
    return stores


def _daily_sums(session, period, key, store_ids=None, channels=()):
    """The reference: every staff-day row of the period, summed in Python per key."""
    sums: dict = defaultdict(lambda: [0] * len(COUNT_COLUMNS))
    for row in session.scalars(select(DailyRollup)):
        if not period.start <= row.day <= period.end:
            continue
        if store_ids is not None and row.store_id not in store_ids:
            continue
        if channels and row.channel not in channels:
            continue
        total = sums[key(row)]
        for i, name in enumerate(COUNT_COLUMNS):
            total[i] += getattr(row, name)
    return {k: Totals(tuple(v)) for k, v in sums.items()}


def _period(start, end):
    return Period(date.fromisoformat(start), date.fromisoformat(end))


@pytest.mark.parametrize(("start", "end"), PERIODS)
@pytest.mark.parametrize("channels", [(), (Channel.CODE.value, Channel.KIOSK.value)])
def test_period_reads_equal_the_sums_of_the_staff_days(
    db_session, world, make_user, start, end, channels
):
    period = _period(start, end)
    one = world[1]
    every = _daily_sums(db_session, period, lambda r: 0, channels=channels).get(0, Totals())
    mine = _daily_sums(db_session, period, lambda r: 0, {one.id}, channels).get(0, Totals())
    assert queries.totals(db_session, [one.id], period, channels) == mine
    assert queries.totals(db_session, None, period, channels) == every
    assert queries.score_counts(db_session, None, period, channels) == every.scores
    assert (
        queries.issued(db_session, [one.id], period)
        == (_daily_sums(db_session, period, lambda r: 0, {one.id}).get(0, Totals())["issued"])
    )

    by_channel = _daily_sums(db_session, period, lambda r: r.channel, {one.id}, channels)
    assert queries.totals_by_channel(db_session, [one.id], period, channels) == by_channel

    by_staff = _daily_sums(db_session, period, lambda r: r.staff_key, {one.id}, channels)
    got = queries.totals_by_staff(db_session, one.id, period, channels)
    assert {s.staff_id or 0: s.totals for s in got} == by_staff
    assert [s.code for s in got] == sorted(s.code for s in got)

    admin = make_user(Role.ADMIN)
    by_store = _daily_sums(db_session, period, lambda r: r.store_id, channels=channels)
    got_stores = queries.totals_by_store(db_session, admin, period, None, channels)
    assert {s.id: t for s, t in got_stores if s in world} == {
        s.id: by_store.get(s.id, Totals()) for s in world
    }
    split = _daily_sums(db_session, period, lambda r: (r.store_id, r.channel), channels=channels)
    for store, per_channel in queries.totals_by_store_and_channel(
        db_session, admin, period, None, channels
    ):
        if store in world:
            assert per_channel == {c: t for (s, c), t in split.items() if s == store.id}


def test_the_reads_keep_one_statement_per_shape(db_session, world):
    """The statement is built once per shape: the days and stores are its parameters."""
    one, two = _period("2025-12-15", "2026-03-14"), _period("2026-01-10", "2026-04-05")
    first, params_one = queries._period_read(one, "channel", store_ids=[world[0].id])
    second, params_two = queries._period_read(two, "channel", store_ids=[world[1].id])
    assert first is second
    assert params_one != params_two
    scores, _ = queries._period_read(one, columns=SCORE_COLUMNS)
    assert scores is not first


def _spans(*pairs):
    return tuple(_period(a, b) for a, b in pairs)


@pytest.mark.parametrize(
    ("start", "end", "added", "months", "removed"),
    [
        # A year ending on the 7th: 24 days of December are its month less 7 days.
        (
            "2025-12-08",
            "2026-12-07",
            [("2026-12-01", "2026-12-07")],
            ("2025-12-01", "2026-11-30"),
            [("2025-12-01", "2025-12-07")],
        ),
        # Ending on the 20th: the last month less its 10 days after.
        (
            "2025-12-21",
            "2026-12-20",
            [("2025-12-21", "2025-12-31")],
            ("2026-01-01", "2026-12-31"),
            [("2026-12-21", "2026-12-31")],
        ),
        # Within one month: the month less the days on both sides.
        (
            "2026-01-05",
            "2026-01-25",
            [],
            ("2026-01-01", "2026-01-31"),
            [("2026-01-01", "2026-01-04"), ("2026-01-26", "2026-01-31")],
        ),
        ("2026-01-10", "2026-01-20", [("2026-01-10", "2026-01-20")], None, []),
        # Two partial months without a whole one between, each judged on its own.
        (
            "2026-03-17",
            "2026-04-16",
            [("2026-03-17", "2026-03-31")],
            ("2026-04-01", "2026-04-30"),
            [("2026-04-17", "2026-04-30")],
        ),
        # A tie (15 days against 15) keeps the days.
        ("2026-04-16", "2026-04-30", [("2026-04-16", "2026-04-30")], None, []),
        ("2026-02-01", "2026-02-28", [], ("2026-02-01", "2026-02-28"), []),
        # Across a year's end with both edges short.
        (
            "2025-12-30",
            "2026-02-02",
            [("2025-12-30", "2025-12-31"), ("2026-02-01", "2026-02-02")],
            ("2026-01-01", "2026-01-31"),
            [],
        ),
    ],
)
def test_a_period_is_read_as_months_plus_or_less_days(start, end, added, months, removed):
    assert month_reading(_period(start, end)) == MonthReading(
        _spans(*added), None if months is None else _period(*months), _spans(*removed)
    )
