"""Key-driver correlations (analysis.drivers)."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from analysis.drivers import key_drivers, spearman_interval

# Expected results are from R statpsych ci.spear(.05, y, x) documented output: rho 0.8699639,
# 0.5840951 .. 0.9638297 (Bonett & Wright 2000 standard error on the Fisher-z scale).
STATPSYCH_Y = [21, 4, 9, 12, 35, 18, 10, 22, 24, 1, 6, 8, 13, 16, 19]
STATPSYCH_X = [67, 28, 30, 28, 52, 40, 25, 37, 44, 10, 14, 20, 28, 40, 51]


def test_spearman_interval_matches_statpsych():
    e = spearman_interval(STATPSYCH_X, STATPSYCH_Y)
    assert e.value == pytest.approx(0.8699639, abs=1e-7)
    assert (e.low, e.high) == pytest.approx((0.5840951, 0.9638297), abs=1e-7)
    assert e.n == 15


@pytest.mark.parametrize(
    ("x", "y", "value", "has_interval"),
    [
        ([], [], None, False),
        ([1], [2], None, False),
        ([1, 2, 3], [3, 3, 3], None, False),  # constant: rho undefined
        ([1, 2, 3], [1, 3, 2], 0.5, False),  # n - 3 = 0: no standard error
        ([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], 1.0, True),  # perfect: collapses to 1
    ],
)
def test_spearman_edge_rules(x, y, value, has_interval):
    e = spearman_interval(x, y)
    assert e.value == (pytest.approx(value) if value is not None else None)
    assert (e.low is not None) == has_interval
    if value == 1.0:
        assert (e.low, e.high) == (1.0, 1.0)


@settings(max_examples=50)
@given(
    st.integers(4, 60).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 10), min_size=n, max_size=n),
            st.lists(st.integers(1, 5), min_size=n, max_size=n),
        )
    )
)
def test_rho_is_scipys_and_inside_its_interval(xy):
    x, y = xy
    assume(len(set(x)) > 1 and len(set(y)) > 1)
    e = spearman_interval(x, y)
    assert e.value == pytest.approx(float(spearmanr(x, y).statistic), abs=1e-12)
    assert -1.0 <= e.low <= e.value <= e.high <= 1.0


def make_answers(n: int) -> tuple[list[int | None], dict[str, list[int | None]]]:
    """n respondents: 'staff' tracks the score closely, 'queue' loosely, 'parking' not at
    all, and 'checkout' is mostly skipped."""
    nps: list[int | None] = [i % 11 for i in range(n)]
    staff = [1 + s // 3 if s is not None else None for s in nps]
    queue = [max(1, min(5, 1 + s // 3 + (1 if i % 3 == 0 else -1))) for i, s in enumerate(nps)]
    parking = [1 + (i * 7) % 5 for i in range(n)]
    checkout = [5 if i < 10 else None for i in range(n)]
    return nps, {"parking": parking, "queue": queue, "staff": staff, "checkout": checkout}


def test_key_drivers_are_ranked_by_rho_with_small_ones_last():
    nps, ratings = make_answers(66)
    drivers = key_drivers(nps, ratings, min_n=30)
    assert [(d.key, d.rank) for d in drivers] == [
        ("staff", 1),
        ("queue", 2),
        ("parking", 3),
        ("checkout", None),
    ]
    assert drivers[0].rho.n == 66
    assert drivers[3].rho.n == 10 and drivers[3].rho.value is None  # constant ratings


def test_key_drivers_use_pairwise_complete_answers():
    nps, ratings = make_answers(66)
    nps[0] = None
    ratings["staff"][1] = None
    [staff] = [d for d in key_drivers(nps, ratings) if d.key == "staff"]
    kept = [(s, r) for s, r in zip(nps, ratings["staff"], strict=True) if None not in (s, r)]
    assert staff.rho.n == 64
    expected = spearmanr([r for _, r in kept], [s for s, _ in kept]).statistic
    assert staff.rho.value == pytest.approx(float(expected))


def test_below_min_n_is_listed_but_not_ranked():
    nps, ratings = make_answers(20)
    drivers = key_drivers(nps, {"staff": ratings["staff"]}, min_n=30)
    assert drivers[0].rank is None
    assert math.isfinite(drivers[0].rho.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: spearman_interval([1, 2], [1]), "differ in length"),
        (lambda: spearman_interval([1, math.nan], [1, 2]), "finite"),
        (lambda: key_drivers([1, 2], {"staff": [1]}), "'staff' has 1 answers for 2"),
        (lambda: key_drivers([11], {"staff": [1]}), "0-10"),
        (lambda: key_drivers([1], {"staff": [1]}, min_n=-1), "min_n"),
    ],
)
def test_invalid_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
