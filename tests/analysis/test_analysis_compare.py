"""Comparing two NPS, two CSAT shares, and adjusting many p-values (analysis.compare)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, false_discovery_control, fisher_exact

from analysis.compare import (
    benjamini_hochberg,
    compare_csat,
    compare_nps,
    two_proportion_test,
)
from analysis.results import NpsCounts

# Expected results are from statistics.md section 9.2: the two-sample adjusted-Wald z of
# MeasuringU / Rocks' R package NPS (pseudo-answers 0.75/1.5/0.75 on each side), the
# interval centred on the adjusted difference. dataford's published inputs (NPS 20 -> 26,
# p = 0.064).
# group 1, group 2, raw diff, z, p, low, high
NPS_ADJUSTED_WALD = [
    ((675, 351, 324), (540, 360, 300), 6.0, 1.8535, 0.0638, -0.3442, 12.3286),
    ((23, 9, 8), (1180, 560, 460), 4.7727, 0.1795, 0.8576, -21.833, 26.2351),
    ((12, 5, 3), (8, 6, 6), 35.0, 1.3157, 0.1883, -14.9016, 75.7712),
]
NPS_WALD = [
    ((675, 351, 324), (540, 360, 300), 6.0, 1.8533, 0.0638, -0.3452, 12.3452),
    ((23, 9, 8), (1180, 560, 460), 4.7727, 0.3756, 0.7072, -20.1347, 29.6801),
    ((12, 5, 3), (8, 6, 6), 35.0, 1.4071, 0.1594, -13.7535, 83.7535),
]


@pytest.mark.parametrize(
    ("method", "a", "b", "diff", "z", "p", "low", "high"),
    [("adjusted_wald", *row) for row in NPS_ADJUSTED_WALD] + [("wald", *row) for row in NPS_WALD],
)
def test_compare_nps_matches_the_reference_table(method, a, b, diff, z, p, low, high):
    r = compare_nps(NpsCounts(*a), NpsCounts(*b), method=method)
    assert r.diff == pytest.approx(diff, abs=1e-4)
    assert (r.z, r.p_value) == pytest.approx((z, p), abs=1e-4)
    assert (r.low, r.high) == pytest.approx((low, high), abs=1e-4)
    assert (r.n1, r.n2) == (sum(a), sum(b))


def test_nps_difference_is_significant_only_with_enough_answers_on_both_sides():
    a, b = NpsCounts(30, 5, 5), NpsCounts(10, 10, 20)
    assert compare_nps(a, b).p_value < 0.001
    assert compare_nps(a, b).significant
    assert not compare_nps(a, b, min_n=41).significant


def test_nps_comparison_with_an_empty_group_has_no_figures():
    r = compare_nps(NpsCounts(3, 1, 1), NpsCounts(0, 0, 0))
    assert (r.diff, r.z, r.p_value, r.low, r.high, r.significant) == (
        None, None, None, None, None, False
    )  # fmt: skip
    assert (r.n1, r.n2) == (5, 0)


def test_plain_wald_has_no_test_when_both_groups_have_no_spread():
    r = compare_nps(NpsCounts(5, 0, 0), NpsCounts(0, 0, 5), method="wald")
    assert r.diff == 200.0
    assert r.z is None and r.p_value is None and not r.significant


# Expected results are from Newcombe (1998b), Stat Med 17:873, Table II, method 10 (hybrid
# score interval), examples (a)-(h); z and p of the pooled z test, which equal scipy's
# chi2_contingency(correction=False) (statistics.md 9.4).
# k1, n1, k2, n2, diff, low, high, z (None: undefined), p of the z test
NEWCOMBE_TABLE_II = [
    (56, 70, 48, 80, 0.2, 0.0524, 0.3339, 2.6502, 0.008),
    (9, 10, 3, 10, 0.6, 0.1705, 0.809, 2.7386, 0.0062),
    (6, 7, 2, 7, 0.5714, 0.0582, 0.8062, 2.1602, 0.0308),
    (5, 56, 0, 29, 0.0893, -0.0381, 0.1926, 1.6586, 0.0972),
    (0, 10, 0, 20, 0.0, -0.1611, 0.2775, None, None),
    (0, 10, 0, 10, 0.0, -0.2775, 0.2775, None, None),
    (10, 10, 0, 20, 1.0, 0.6791, 1.0, 5.4772, 0.0),
    (10, 10, 0, 10, 1.0, 0.6075, 1.0, 4.4721, 0.0),
]


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "diff", "low", "high", "z", "p"), NEWCOMBE_TABLE_II
)
def test_compare_csat_matches_newcombe_table_ii(k1, n1, k2, n2, diff, low, high, z, p):
    r = compare_csat(k1, n1, k2, n2, test="z")
    assert r.diff == pytest.approx(100 * diff, abs=1e-2)
    assert (r.low, r.high) == pytest.approx((100 * low, 100 * high), abs=1e-2)
    if z is None:
        assert r.z is None and r.p_value is None
    else:
        assert (r.z, r.p_value) == pytest.approx((z, p), abs=1e-4)


# Expected results are from scipy chi2_contingency and fisher_exact (statistics.md 9.4).
@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "diff", "low", "high", "p_z", "p_fisher"),
    [
        (26, 40, 30, 60, 15.0, -4.76, 32.77, 0.1388, 0.1553),
        (26, 40, 1540, 2200, -5.0, -20.61, 8.01, 0.4944, 0.49),
    ],
)
def test_compare_csat_this_vs_last_and_store_vs_rest(
    k1, n1, k2, n2, diff, low, high, p_z, p_fisher
):
    auto = compare_csat(k1, n1, k2, n2)
    assert auto.diff == pytest.approx(diff)
    assert (auto.low, auto.high) == pytest.approx((low, high), abs=0.01)
    assert auto.p_value == pytest.approx(p_z, abs=1e-4)  # every expected cell >= 5
    assert compare_csat(k1, n1, k2, n2, test="fisher").p_value == pytest.approx(p_fisher, abs=1e-4)


def test_small_expected_cells_use_fishers_exact_p():
    # 9/10 vs 3/10: expected failures are 4 per group, so the default p is Fisher's.
    r = compare_csat(9, 10, 3, 10)
    assert r.p_value == pytest.approx(fisher_exact([[9, 1], [3, 7]]).pvalue)
    assert r.z == pytest.approx(2.7386, abs=1e-4)  # still the pooled z
    assert two_proportion_test(9, 10, 3, 10).method == "fisher"
    assert two_proportion_test(56, 70, 48, 80).method == "z"


def test_csat_significance_needs_min_n():
    assert compare_csat(56, 70, 48, 80).significant
    assert not compare_csat(56, 70, 48, 80, min_n=75).significant
    assert not compare_csat(5, 5, 0, 0).significant


def test_one_sided_tests():
    greater = two_proportion_test(56, 70, 48, 80, alternative="greater", test="z")
    less = two_proportion_test(56, 70, 48, 80, alternative="less", test="z")
    assert greater.p_value == pytest.approx(0.008 / 2, abs=1e-4)
    assert greater.p_value + less.p_value == pytest.approx(1.0)
    exact = two_proportion_test(9, 10, 3, 10, alternative="greater")
    assert exact.p_value == pytest.approx(
        fisher_exact([[9, 1], [3, 7]], alternative="greater").pvalue
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: compare_csat(5, 4, 1, 4), "k1 must be between 0 and n=4"),
        (lambda: compare_csat(1, 4, 1, 4, alpha=0), "alpha"),
        (lambda: compare_csat(1, 4, 1, 4, min_n=-1), "min_n"),
        (lambda: compare_csat(1, 4, 1, 4, test="chi2"), "test must be one of"),
        (lambda: two_proportion_test(0, 0, 1, 4), "at least one trial"),
        (lambda: two_proportion_test(1, 4, 1, 4, alternative="higher"), "alternative"),
        (lambda: compare_nps(NpsCounts(1, 1, 1), NpsCounts(1, 1, 1), method="t"), "method"),
        (lambda: benjamini_hochberg([0.5, 1.5]), "between 0 and 1"),
        (lambda: benjamini_hochberg([float("nan")]), "between 0 and 1"),
    ],
)
def test_invalid_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# Expected results are from Benjamini & Hochberg (1995), JRSS B 57:289, the 15 p-values of
# their worked example (4 discoveries at q = 0.05, Bonferroni 3); adjusted values as
# printed by scipy.stats.false_discovery_control.
BH_1995_RAW = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324,
               0.4262, 0.5719, 0.6528, 0.759, 1.0]  # fmt: skip
BH_1995_ADJUSTED = [0.0015, 0.003, 0.0095, 0.0356, 0.0603, 0.0639, 0.0639, 0.0645, 0.0765,
                    0.486, 0.5812, 0.7149, 0.7532, 0.8132, 1.0]  # fmt: skip


def test_benjamini_hochberg_reproduces_the_1995_example():
    adjusted = benjamini_hochberg(BH_1995_RAW)
    assert adjusted == pytest.approx(BH_1995_ADJUSTED, abs=1e-4)
    assert sum(p < 0.05 for p in adjusted) == 4
    # In the input order, not sorted.
    shuffled = BH_1995_RAW[::-1]
    assert benjamini_hochberg(shuffled) == pytest.approx(BH_1995_ADJUSTED[::-1], abs=1e-4)


def test_benjamini_hochberg_of_nothing_is_nothing():
    assert benjamini_hochberg([]) == []


nps_counts = st.builds(
    NpsCounts,
    promoters=st.integers(0, 300),
    passives=st.integers(0, 300),
    detractors=st.integers(0, 300),
).filter(lambda c: c.n > 0)


@given(nps_counts, st.sampled_from(["adjusted_wald", "wald"]))
def test_a_group_compared_with_itself_shows_no_difference(c, method):
    r = compare_nps(c, c, method=method)
    assert r.diff == 0.0
    assert not r.significant
    if r.p_value is not None:  # the plain Wald has no test when nobody varies
        assert r.p_value == pytest.approx(1.0)
        assert r.low <= 0.0 <= r.high


shares = st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(shares)
def test_a_csat_compared_with_itself_shows_no_difference(kn):
    k, n = kn
    r = compare_csat(k, n, k, n)
    assert r.diff == 0.0
    assert r.p_value == pytest.approx(1.0)
    assert r.low <= 0.0 <= r.high
    assert not r.significant


@given(shares, shares)
def test_pooled_z_p_is_the_uncorrected_chi_square_p(a, b):
    (k1, n1), (k2, n2) = a, b
    r = compare_csat(k1, n1, k2, n2, test="z")
    assert r.low <= r.diff <= r.high  # Newcombe's interval contains the difference
    assert -100 <= r.low and r.high <= 100
    if r.z is None:
        return
    chi2 = chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False)
    assert r.p_value == pytest.approx(chi2.pvalue, rel=1e-9, abs=1e-12)


@given(st.lists(st.floats(0.0, 1.0), max_size=60))
def test_benjamini_hochberg_is_scipys_and_never_below_the_raw_p(raw):
    adjusted = benjamini_hochberg(raw)
    assert len(adjusted) == len(raw)
    assert all(p <= q <= 1.0 for p, q in zip(raw, adjusted, strict=True))
    ordered = [q for _, q in sorted(zip(raw, adjusted, strict=True))]
    assert ordered == sorted(ordered)  # monotone in the raw p
    if raw:
        assert adjusted == pytest.approx(list(false_discovery_control(raw)), abs=1e-12)


def test_normal_p_values_are_scipy_norms_to_the_bit():
    # `_normal_p` calls scipy.special.ndtr directly; the comparisons' p-values (and so
    # every flag and Benjamini-Hochberg rank) must stay what `norm.sf`/`norm.cdf` gave.
    import numpy as np
    from scipy.stats import norm

    from analysis.compare import _normal_p

    zs = np.concatenate([np.linspace(-40, 40, 4001), [0.0, -0.0, 1e-300, 8.2915, -37.5]])
    for z in map(float, zs):
        assert _normal_p(z, "two-sided") == float(2.0 * norm.sf(abs(z)))
        assert _normal_p(z, "greater") == float(norm.sf(z))
        assert _normal_p(z, "less") == float(norm.cdf(z))
