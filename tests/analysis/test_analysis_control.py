"""p-chart and CUSUM for weekly alerts (analysis.control)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from analysis.control import cusum, p_chart

# Expected results are from "An Introduction to Business Statistics", Example 16.6
# (p-bar 0.16, LCL 0.0822, UCL 0.2378, all in control); NIST/SEMATECH e-Handbook 6.3.3.2
# (p-bar .2313, n 50: .0524/.4102); justaaa.com (p 0.15, n 400: 0.0964/0.2036; samples 1, 3
# and 4 below the LCL, although the published answer names only sample 1).
TEXTBOOK_COUNTS = [40, 44, 22, 34, 24, 32, 28, 32, 34, 30]


def test_textbook_chart_is_in_control():
    points = p_chart(TEXTBOOK_COUNTS, [200] * 10)
    assert {round(p.center, 4) for p in points} == {0.16}
    assert points[0].lcl == pytest.approx(0.0822, abs=1e-4)
    assert points[0].ucl == pytest.approx(0.2378, abs=1e-4)
    assert not any(p.above or p.below for p in points)
    assert {p.method for p in points} == {"normal"}


def test_nist_wafer_limits():
    [point] = p_chart([12], [50], center=0.2313)
    assert (point.lcl, point.ucl) == pytest.approx((0.0524, 0.4102), abs=1e-4)


def test_known_standard_flags_every_sample_below_the_lcl():
    shares = [0.06, 0.11, 0.09, 0.08, 0.14, 0.16]
    points = p_chart([round(400 * s) for s in shares], [400] * 6, center=0.15)
    assert (points[0].lcl, points[0].ucl) == pytest.approx((0.0964, 0.2036), abs=1e-4)
    assert [p.index + 1 for p in points if p.below] == [1, 3, 4]
    assert not any(p.above for p in points)


# Expected results are from statistics.md 9.6 (constructed weekly detractor counts; the
# exact tail with scipy binom.sf): baseline weeks 1-7, week 8 judged.
WEEK_N = [38, 45, 52, 41, 60, 35, 48, 55]
WEEK_DETRACTORS = [6, 8, 9, 5, 10, 4, 7, 19]
WEEK_Z = [0.0733, 0.4497, 0.3894, -0.5621, 0.2806, -0.6451, -0.1493, 3.946]


def test_weekly_chart_against_a_trailing_baseline():
    points = p_chart(WEEK_DETRACTORS, WEEK_N, baseline=7)
    assert points[7].center == pytest.approx(0.1536, abs=1e-4)
    assert (points[7].lcl, points[7].ucl) == pytest.approx((0.0077, 0.2995), abs=1e-4)
    assert points[5].ucl == pytest.approx(0.3364, abs=1e-4)
    assert [p.index + 1 for p in points if p.above] == [8]
    assert points[7].upper_p == pytest.approx(0.000353, abs=1e-6)
    assert [p.z for p in points] == pytest.approx(WEEK_Z, abs=1e-4)


def test_the_judged_week_does_not_move_its_own_centre_line():
    judged = p_chart(WEEK_DETRACTORS, WEEK_N, baseline=7)
    retrospective = p_chart(WEEK_DETRACTORS, WEEK_N)
    assert retrospective[7].center > judged[7].center


def test_cusum_of_the_weekly_values_does_not_alarm_at_h5():
    points = cusum(WEEK_Z)
    assert [p.c_plus for p in points] == pytest.approx([0] * 7 + [3.446], abs=1e-4)
    assert not any(p.above for p in points)


# Expected results are from Montgomery, Introduction to Statistical Quality Control, Example
# 9.1 / Table 9.2 (mu0 10, sigma 1, k 0.5, h 5): C+ for periods 1-29 as printed, the signal
# at period 29.
MONTGOMERY_X = [9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47,
                10.51, 9.4, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84, 10.9, 9.33, 12.29, 11.5,
                10.6, 11.08, 10.38, 11.62, 11.31]  # fmt: skip
MONTGOMERY_C_PLUS = [0, 0, 0, 1.16, 2.82, 2.5, 0.04, 1.0, 0, 0, 0, 0.97, 0.98, 0, 0, 0, 0.12,
                     0, 0, 0.34, 0.74, 0, 1.79, 2.79, 2.89, 3.47, 3.35, 4.47, 5.28]  # fmt: skip


def test_cusum_reproduces_montgomery_table_9_2():
    points = cusum([x - 10 for x in MONTGOMERY_X], k=0.5, h=5)
    assert [p.c_plus for p in points] == pytest.approx(MONTGOMERY_C_PLUS, abs=0.005)
    assert [p.index + 1 for p in points if p.above] == [29]


def test_small_weeks_are_judged_on_the_exact_binomial_tail():
    # n * p-bar = 20 * 0.1 = 2 < 5: normal limits would be poor.
    points = p_chart([0, 2, 7, 8], [20] * 4, center=0.1)
    assert {p.method for p in points} == {"exact"}
    for p in points:
        assert p.above == (binom.sf(p.count - 1, 20, 0.1) < 0.00135)
        assert p.above == (p.share > p.ucl)
        assert p.below == (p.share < p.lcl)
    assert [p.above for p in points] == [False, False, False, True]
    assert points[0].lcl == 0.0  # 0 of 20 is not surprising at 10 %


def test_a_week_without_answers_is_empty_not_zero():
    [point] = p_chart([0], [0], center=0.2)
    assert point.method == "empty"
    assert (point.share, point.lcl, point.ucl, point.z, point.upper_p) == (None,) * 5
    assert not point.above


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: p_chart([1, 2], [10]), "differ in length"),
        (lambda: p_chart([11], [10]), "point 0: count must be between 0 and n=10"),
        (lambda: p_chart([1], [10], baseline=0), "baseline must be >= 1"),
        (lambda: p_chart([1], [10], baseline=2), "at most 1"),
        (lambda: p_chart([0, 1], [0, 10], baseline=1), "no answers"),
        (lambda: p_chart([1], [10], baseline=1, center=0.1), "either baseline or center"),
        (lambda: p_chart([1], [10], center=1.5), "center"),
        (lambda: p_chart([1], [10], sigmas=0), "sigmas"),
        (lambda: cusum([0.0], k=-1), "k must be"),
        (lambda: cusum([float("nan")]), "finite"),
    ],
)
def test_invalid_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


weeks = st.lists(
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    min_size=1,
    max_size=30,
)


@settings(max_examples=50)
@given(weeks)
def test_limits_bracket_the_centre_and_flags_match_them(data):
    counts, sizes = [x for x, _ in data], [n for _, n in data]
    for p in p_chart(counts, sizes):
        assert 0.0 <= p.lcl <= p.center <= p.ucl <= 1.0 or p.method == "exact"
        assert 0.0 <= p.lcl and p.ucl <= 1.0
        assert p.above == (p.share > p.ucl)
        assert p.below == (p.share < p.lcl)
        assert not (p.above and p.below)


@given(st.lists(st.floats(-10, 10), max_size=50))
def test_cusum_sums_are_never_negative(zs):
    for p in cusum(zs, k=0.5, h=4.0):
        assert p.c_plus >= 0.0 and p.c_minus >= 0.0
        assert p.above == (p.c_plus > 4.0)
