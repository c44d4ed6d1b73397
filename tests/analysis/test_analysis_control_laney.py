"""Laney's p′ chart and the EWMA of standardised shares (analysis.control_laney,
analysis.control_ewma)."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from analysis.control import p_chart
from analysis.control_ewma import ewma_chart, ewma_limit, standardised_for_ewma
from analysis.control_laney import laney_p_chart, laney_sigma_z, standardised_shares

# A constructed table, computed by hand (not by the code under test):
#   n      = 400, 500, 400, 500, 400, 500          (sum 2700)
#   x      =  40,  65,  32,  60,  36,  37          (sum 270)  -> p̄ = 0.10
#   σ_p    = sqrt(0.09/400) = 0.015 ; sqrt(0.09/500) = 0.0134164
#   p      = 0.10, 0.13, 0.08, 0.12, 0.09, 0.074
#   z      = 0, 2.23607, -1.33333, 1.49071, -0.66667, -1.93793
#   MR     = 2.23607, 3.56940, 2.82404, 2.15738, 1.27126  (mean 2.41163)
#   σ_z    = 2.41163 / 1.128 = 2.13797  (> 1: overdispersed, p′ is used)
#   UCL400 = 0.10 + 3 * 0.015 * 2.13797     = 0.196209 ; LCL400 = 0.003791
#   UCL500 = 0.10 + 3 * 0.0134164 * 2.13797 = 0.186051 ; LCL500 = 0.013949
LANEY_N = [400, 500, 400, 500, 400, 500]
LANEY_X = [40, 65, 32, 60, 36, 37]


def test_laney_chart_matches_the_hand_computed_table():
    chart = laney_p_chart(LANEY_X, LANEY_N)
    assert chart.center == pytest.approx(0.10)
    assert chart.laney
    assert chart.sigma_z == pytest.approx(2.13797, abs=1e-5)
    z = standardised_shares(LANEY_X, LANEY_N, 0.10)
    assert z == pytest.approx([0, 2.23607, -1.33333, 1.49071, -0.66667, -1.93793], abs=1e-5)
    assert [p.ucl for p in chart.points] == pytest.approx([0.196209, 0.186051] * 3, abs=1e-6)
    assert [p.lcl for p in chart.points] == pytest.approx([0.003791, 0.013949] * 3, abs=1e-6)
    assert {p.method for p in chart.points} == {"laney"}
    assert not any(p.above or p.below for p in chart.points)


def test_sigma_z_is_the_mean_moving_range_over_d2():
    # |2 - 0| and |2 - 2|: mean 1, / 1.128.
    assert laney_sigma_z([0.0, 2.0, 2.0]) == pytest.approx(1 / 1.128)
    assert laney_sigma_z([1.0]) is None


def test_without_overdispersion_the_plain_p_chart_judges():
    # Twelve identical weeks: every z is 0, σ_z = 0 ≤ 1, so the p-chart (not a narrowed
    # p′) judges the thirteenth, and flags it exactly as p_chart does.
    counts, sizes = [10] * 12 + [70], [100] * 13
    chart = laney_p_chart(counts, sizes, baseline=12)
    assert not chart.laney and chart.sigma_z == 0.0
    plain = p_chart(counts, sizes, center=0.1)
    assert [(p.lcl, p.ucl, p.above) for p in chart.points] == [
        (p.lcl, p.ucl, p.above) for p in plain
    ]
    assert chart.points[-1].above


def test_the_judged_weeks_do_not_widen_their_own_limits():
    counts = [40, 65, 32, 60, 36, 37, 150]
    sizes = LANEY_N + [500]
    chart = laney_p_chart(counts, sizes, baseline=6)
    assert chart.sigma_z == pytest.approx(2.13797, abs=1e-5)
    assert chart.points[-1].above  # 0.30 > 0.186


def _overdispersed_weeks(rng: np.random.Generator, weeks: int, n: int) -> list[int]:
    # Each week's true share drifts (Beta, mean 0.15, sd about 0.02), then n answers.
    shares = rng.beta(47.66, 270.1, size=weeks)
    return [int(x) for x in rng.binomial(n, shares)]


def test_at_large_n_the_p_chart_over_alarms_on_drifting_weeks_and_p_prime_does_not():
    rng = np.random.default_rng(20260514)
    plain_alarms = laney_alarms = 0
    for _store in range(20):
        counts = _overdispersed_weeks(rng, 27, 2000)
        sizes = [2000] * 27
        base = sum(counts[:26]) / sum(sizes[:26])
        plain_alarms += p_chart(counts[26:], sizes[26:], center=base)[0].above
        laney_alarms += laney_p_chart(counts, sizes, baseline=26).points[-1].above
    # The binomial σ at n = 2000 is 0.008 against a true weekly sd of 0.02: about a third
    # of ordinary weeks pass the plain limit; p′ with σ_z ≈ 2.7 almost never does.
    assert plain_alarms >= 3
    assert laney_alarms <= 1


def test_p_prime_still_flags_a_real_jump_at_large_n():
    rng = np.random.default_rng(7)
    counts = _overdispersed_weeks(rng, 26, 2000) + [700]  # 35 % against about 15 %
    chart = laney_p_chart(counts, [2000] * 27, baseline=26)
    assert chart.laney and chart.points[-1].above


# EWMA, λ = 0.2, L = 3, by hand:
#   limit_1 = 3 sqrt(0.2/1.8 (1 - 0.8^2)) = 3 sqrt(0.04)    = 0.6
#   limit_2 = 3 sqrt(0.2/1.8 (1 - 0.8^4)) = 3 sqrt(0.0656)  = 0.768375
#   limit_∞ = 3 sqrt(0.2/1.8)                                = 1.0
#   z = 1, 2, -1: E = 0.2, 0.2*2 + 0.8*0.2 = 0.56, -0.2 + 0.8*0.56 = 0.248
def test_ewma_statistic_and_exact_limits_by_hand():
    points = ewma_chart([1.0, 2.0, -1.0], lam=0.2, width=3.0)
    assert [p.statistic for p in points] == pytest.approx([0.2, 0.56, 0.248])
    assert [p.limit for p in points[:2]] == pytest.approx([0.6, 0.768375], abs=1e-6)
    assert ewma_limit(500, 0.2, 3.0) == pytest.approx(1.0)
    assert not any(p.above or p.below for p in points)


def test_ewma_catches_a_sustained_one_sigma_shift_no_single_week_shows():
    # Every week 1 σ above the centre: never beyond a 3-σ Shewhart limit, but the EWMA
    # (1 - 0.8^i) crosses 2.86 sqrt(1/9) = 0.953 (its limit at i ≥ 14) at week 14.
    points = ewma_chart([1.0] * 20)
    first = next(p.index for p in points if p.above)
    assert first == 13
    assert not any(p.above for p in ewma_chart([1.0, -1.0] * 10))


def test_ewma_standardises_by_n_and_by_overdispersion():
    z = standardised_for_ewma([65, 0], [500, 0], 0.10, None)
    assert z == [pytest.approx(2.23607, abs=1e-5), None]
    assert standardised_for_ewma([65], [500], 0.10, 2.0)[0] == pytest.approx(1.118034, abs=1e-6)
    assert standardised_for_ewma([65], [500], 0.10, 0.5)[0] == pytest.approx(2.23607, abs=1e-5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ewma_chart([0.0], lam=0), "lambda"),
        (lambda: ewma_chart([0.0], width=0), "width"),
        (lambda: ewma_chart([float("inf")]), "finite"),
        (lambda: standardised_for_ewma([0], [1], 0.0, None), "center"),
        (lambda: laney_p_chart([1, 2], [10]), "differ in length"),
        (lambda: laney_p_chart([0, 1], [0, 10], baseline=1), "no answers"),
        (lambda: laney_p_chart([1], [10], baseline=2), "at most 1"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("module", ["analysis.control_laney", "analysis.control_ewma"])
def test_docstring_examples_hold(module):
    failures, _tried = doctest.testmod(importlib.import_module(module))
    assert failures == 0
