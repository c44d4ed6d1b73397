"""CSAT and single proportions (analysis.csat) and mean ratings (analysis.means)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest, norm
from scipy.stats import t as student_t

from analysis.csat import csat_interval, two_sided_z, wilson_interval
from analysis.means import mean_interval, mean_interval_of

# Expected results are from Newcombe (1998a), Stat Med 17:857, Table I (method 3, Wilson
# without continuity correction), as cited by two open-source test suites, plus scipy's
# binomtest(...).proportion_ci(method="wilson") for the edge cases (statistics.md 9.3).
NEWCOMBE_TABLE_I = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (40, 40, 0.9124, 1.0),
    (0, 5, 0.0, 0.4345),
    (1, 1, 0.2065, 1.0),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_TABLE_I)
def test_wilson_matches_newcombe_table_i(k, n, low, high):
    e = wilson_interval(k, n)
    assert e.value == k / n
    assert e.n == n
    assert (e.low, e.high) == pytest.approx((low, high), abs=1e-4)


# Expected results are from Code Golf Stack Exchange question 105389, "Compute the Wilson
# score interval" (z = 1.96 exactly, 6 decimals).
GOLF_Z196 = [
    (0, 1, 0.0, 0.793457),
    (1, 1, 0.206543, 1.0),
    (1, 2, 0.094529, 0.905471),
    (1, 11, 0.016232, 0.377365),
    (10, 11, 0.622635, 0.983768),
    (10, 100, 0.055229, 0.174367),
    (90, 100, 0.825633, 0.944771),
    (25, 100, 0.175451, 0.343046),
    (75, 100, 0.656954, 0.824549),
    (50, 100, 0.40383, 0.59617),
    (0, 100, 0.0, 0.036995),
    (100, 100, 0.963005, 1.0),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), GOLF_Z196)
def test_wilson_with_z_exactly_196_matches_the_golf_table(k, n, low, high):
    confidence = 2 * norm.cdf(1.96) - 1  # the level whose z is exactly 1.96
    e = wilson_interval(k, n, confidence)
    assert (e.low, e.high) == pytest.approx((low, high), abs=1e-6)


def test_exact_limits_at_the_edges_are_clamped():
    # The closed form gives 0.9999999999999999 at k = n.
    assert wilson_interval(40, 40).high == 1.0
    assert wilson_interval(0, 40).low == 0.0


# Expected results are from statistics.md section 4: "Wilson 95 % interval at 90 % CSAT".
@pytest.mark.parametrize(
    ("top2", "n", "low", "high"),
    [(9, 10, 59.6, 98.2), (18, 20, 69.9, 97.2), (27, 30, 74.4, 96.5), (90, 100, 82.6, 94.5)],
)
def test_csat_is_in_percent(top2, n, low, high):
    e = csat_interval(top2, n)
    assert e.value == pytest.approx(90.0)
    assert (e.low, e.high) == pytest.approx((low, high), abs=0.05)


def test_no_answers_means_no_csat():
    assert csat_interval(0, 0) == wilson_interval(0, 0)
    assert wilson_interval(0, 0).value is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wilson_interval(5, 4), "k must be between 0 and n=4"),
        (lambda: wilson_interval(-1, 4), "k must be >= 0"),
        (lambda: csat_interval(2.0, 4), "top2 must be an integer"),  # type: ignore[arg-type]
        (lambda: wilson_interval(True, 4), "k must be an integer"),
        (lambda: wilson_interval(1, 4, 1.0), "confidence"),
        (lambda: two_sided_z(0.0), "confidence"),
    ],
)
def test_invalid_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


proportions = st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(proportions, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_agrees_with_scipy(kn, confidence):
    k, n = kn
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    e = wilson_interval(k, n, confidence)
    assert (e.low, e.high) == pytest.approx((ci.low, ci.high), abs=1e-12)


@given(proportions)
def test_wilson_stays_in_0_1_and_contains_the_share(kn):
    k, n = kn
    e = wilson_interval(k, n)
    assert 0.0 <= e.low <= e.value <= e.high <= 1.0
    assert e.high > e.low  # never zero-width


@given(proportions, st.integers(2, 20))
def test_fewer_answers_at_the_same_share_widen_the_interval(kn, factor):
    k, n = kn
    small, large = wilson_interval(k, n), wilson_interval(k * factor, n * factor)
    assert small.high - small.low >= large.high - large.low


# Expected results are from R statpsych ci.mean documentation (statistics.md 9.3).
@pytest.mark.parametrize(
    ("mean", "sd", "n", "low", "high"),
    [(24.5, 3.65, 40, 23.3327, 25.6673), (38.3, 8.14, 10, 32.477, 44.123)],
)
def test_mean_interval_matches_statpsych(mean, sd, n, low, high):
    e = mean_interval(n, mean * n, (n - 1) * sd**2 + n * mean**2)
    assert e.value == pytest.approx(mean)
    assert (e.low, e.high) == pytest.approx((low, high), abs=1e-4)


def test_mean_interval_edges():
    assert mean_interval(0, 0.0, 0.0).value is None
    one = mean_interval(1, 4.0, 16.0)
    assert (one.value, one.low, one.high, one.n) == (4.0, None, None, 1)
    same = mean_interval_of([5, 5, 5, 5])
    assert (same.low, same.high) == (5.0, 5.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mean_interval(-1, 0.0, 0.0), "n must be >= 0"),
        (lambda: mean_interval(3, 1.0, -1.0), "total_sq"),
        (lambda: mean_interval(3, math.nan, 1.0), "finite"),
        (lambda: mean_interval_of([1.0, math.inf]), "finite"),
    ],
)
def test_mean_invalid_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


ratings = st.lists(st.integers(1, 5), min_size=2, max_size=300)


@given(ratings)
def test_rollup_moments_and_raw_values_agree_with_scipy(values):
    n = len(values)
    from_moments = mean_interval(n, float(sum(values)), float(sum(v * v for v in values)))
    from_values = mean_interval_of(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    if sd == 0:
        expected = (mean, mean)
    else:
        expected = student_t.interval(0.95, n - 1, loc=mean, scale=sd / math.sqrt(n))
    assert (from_values.low, from_values.high) == pytest.approx(expected, abs=1e-9)
    assert (from_moments.low, from_moments.high) == pytest.approx(expected, abs=1e-6)
    assert from_values.low <= from_values.value <= from_values.high
