"""Problem-category shares (analysis.categories) and trend points (analysis.trends)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.categories import category_shares
from analysis.csat import csat_interval, wilson_interval
from analysis.nps import nps_interval
from analysis.results import NpsCounts
from analysis.trends import month_start, trend_points, week_start


def test_category_shares_are_ordered_by_count_then_key():
    shares = category_shares({"staff": 12, "queue": 15, "price": 12, "other": 0})
    assert [(s.key, s.count) for s in shares] == [
        ("queue", 15),
        ("price", 12),
        ("staff", 12),
        ("other", 0),
    ]
    # Newcombe (1998a) Table I, 15/148, reached through the category denominator.
    [queue] = [s for s in category_shares({"queue": 15, "rest": 133}) if s.key == "queue"]
    assert (queue.share.low, queue.share.high) == pytest.approx((0.0624, 0.1605), abs=1e-4)


def test_category_shares_among_all_responses():
    shares = category_shares({"queue": 15, "staff": 5}, total=148)
    assert shares[0].share == wilson_interval(15, 148)
    assert shares[1].share.n == 148


def test_no_problems_means_no_shares():
    [s] = category_shares({"queue": 0})
    assert s.share.value is None and s.share.n == 0
    assert category_shares({}) == []


@pytest.mark.parametrize(
    ("counts", "total", "message"),
    [
        ({"queue": -1}, None, "count of 'queue' must be >= 0"),
        ({"queue": 2.5}, None, "count of 'queue' must be an integer"),
        ({"queue": 5}, 4, "total must be >= 5"),
    ],
)
def test_category_invalid_arguments(counts, total, message):
    with pytest.raises(ValueError, match=message):
        category_shares(counts, total)


@settings(max_examples=50)
@given(st.dictionaries(st.text(min_size=1, max_size=5), st.integers(0, 500), max_size=8))
def test_category_intervals_contain_their_share(counts):
    total = sum(counts.values())
    for s in category_shares(counts):
        if total:
            assert s.share.low <= s.count / total <= s.share.high


def test_trend_points_carry_both_figures_with_their_n():
    counts = NpsCounts(40, 30, 30)
    points = trend_points([("2026-W46", counts, 80, 100), ("2026-W47", NpsCounts(0, 0, 0), 0, 0)])
    assert points[0].label == "2026-W46"
    assert points[0].nps == nps_interval(counts)
    assert points[0].csat == csat_interval(80, 100)
    # An empty week has no figures, not zeros.
    assert (points[1].nps.value, points[1].csat.value, points[1].nps.n) == (None, None, 0)


def test_trend_labels_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        trend_points([("W1", NpsCounts(1, 0, 0), 1, 1)] * 2)


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2026, 11, 16), date(2026, 11, 16)),  # a Monday
        (date(2026, 11, 22), date(2026, 11, 16)),  # the Sunday that ends that ISO week
        (date(2027, 1, 1), date(2026, 12, 28)),  # ISO week 2026-W53 spans the new year
        (date(2024, 2, 29), date(2024, 2, 26)),
        (datetime(2026, 11, 22, 23, 59), date(2026, 11, 16)),
    ],
)
def test_week_start_is_the_iso_monday(day, monday):
    assert week_start(day) == monday
    assert type(week_start(day)) is date


@given(st.dates())
def test_week_and_month_start_properties(day):
    start = week_start(day)
    assert start.isoweekday() == 1
    assert timedelta(0) <= day - start < timedelta(days=7)
    assert start.isocalendar()[:2] == day.isocalendar()[:2]
    first = month_start(day)
    assert (first.year, first.month, first.day) == (day.year, day.month, 1)
