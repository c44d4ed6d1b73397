"""NPS point, variance and intervals (analysis.nps)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import t as student_t

from analysis.nps import nps_interval, nps_margin_of_error, nps_point, nps_variance
from analysis.results import NpsCounts

# Expected results are from the statistics reference (shared/reference/statistics.md, section
# 9.1), recomputed there with scipy 1.17.1: the adjusted Wald follows Rocks' R package NPS
# (nps_test, pseudo_observations 0.75/1.5/0.75). Published anchors: talkstats NPS -9 with a
# Wald margin of 4.3877 ("4.4"); whuber's shares 1/2, 1/3, 1/6 give NPS 1/3 and variance 5/9
# (Cross Validated); the gist's NPS 17.5; dataford's 20.0 and 26.0.
# P, Pa, D, NPS, variance per respondent, Wald, adjusted Wald, t on the +1/0/-1 scores
SECTION_9_1 = [
    ("talkstats", 291, 476, 395, -8.9501, 0.5824,
     (-13.3378, -4.5624), (-13.3084, -4.5457), (-13.3443, -4.5559)),
    ("whuber6", 3, 2, 1, 33.3333, 0.5556,
     (-26.3065, 92.9731), (-26.7433, 71.1877), (-52.3527, 119.0194)),
    ("gist1000", 250, 675, 75, 17.5, 0.2944,
     (14.1372, 20.8628), (14.0859, 20.8094), (14.1315, 20.8685)),
    ("balls100", 40, 30, 30, 10.0, 0.69,
     (-6.2807, 26.2807), (-6.2719, 25.6894), (-6.5652, 26.5652)),
    ("dataford_before", 540, 360, 300, 20.0, 0.66,
     (15.4035, 24.5965), (15.3604, 24.5399), (15.3969, 24.6031)),
    ("dataford_after", 675, 351, 324, 26.0, 0.6724,
     (21.6258, 30.3742), (21.5738, 30.3109), (21.6203, 30.3797)),
    ("small11", 9, 0, 2, 63.6364, 0.595,
     (18.051, 100.0), (8.0008, 91.9992), (9.2843, 117.9884)),
    ("all_promoters5", 5, 0, 0, 100.0, 0.0,
     (100.0, 100.0), (17.4915, 100.0), (100.0, 100.0)),
    ("one_promoter", 1, 0, 0, 100.0, 0.0,
     (100.0, 100.0), (-48.4986, 98.4986), (None, None)),
    ("all_detractors5", 0, 0, 5, -100.0, 0.0,
     (-100.0, -100.0), (-100.0, -17.4915), (-100.0, -100.0)),
    ("all_passives4", 0, 4, 0, 0.0, 0.0,
     (0.0, 0.0), (-34.2922, 34.2922), (0.0, 0.0)),
    ("balanced5", 2, 1, 2, 0.0, 0.8,
     (-78.3986, 78.3986), (-57.4565, 57.4565), (-124.1664, 124.1664)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "p", "pa", "d", "nps", "var", "wald", "adjusted", "t"),
    SECTION_9_1,
    ids=[row[0] for row in SECTION_9_1],
)
def test_nps_matches_the_reference_table(case, p, pa, d, nps, var, wald, adjusted, t):
    c = NpsCounts(promoters=p, passives=pa, detractors=d)
    assert nps_point(c) == pytest.approx(nps, abs=1e-4)
    assert nps_variance(c) == pytest.approx(var, abs=1e-4)
    for method, expected in (("wald", wald), ("adjusted_wald", adjusted), ("t", t)):
        e = nps_interval(c, method=method)
        assert e.value == pytest.approx(nps, abs=1e-4), method
        assert e.n == p + pa + d
        assert (e.low, e.high) == pytest.approx(expected, abs=1e-4), method


def test_adjusted_wald_is_the_default():
    c = NpsCounts(promoters=23, passives=9, detractors=8)
    assert nps_interval(c) == nps_interval(c, 0.95, "adjusted_wald")


@pytest.mark.parametrize("method", ["adjusted_wald", "wald", "t"])
def test_no_answers_means_no_nps_not_zero(method):
    c = NpsCounts(0, 0, 0)
    assert nps_point(c) is None
    assert nps_variance(c) is None
    e = nps_interval(c, method=method)
    assert (e.value, e.low, e.high, e.n) == (None, None, None, 0)


def test_t_interval_agrees_with_scipy_on_the_recoded_scores():
    c = NpsCounts(promoters=12, passives=5, detractors=3)
    scores = [1.0] * 12 + [0.0] * 5 + [-1.0] * 3
    mean = sum(scores) / len(scores)
    sd = math.sqrt(sum((x - mean) ** 2 for x in scores) / (len(scores) - 1))
    low, high = student_t.interval(0.95, len(scores) - 1, loc=mean, scale=sd / math.sqrt(20))
    e = nps_interval(c, method="t")
    assert (e.low, e.high) == pytest.approx((100 * low, 100 * high))


def test_other_confidence_levels_change_only_the_width():
    c = NpsCounts(promoters=40, passives=30, detractors=30)
    e90, e95 = nps_interval(c, 0.90), nps_interval(c, 0.95)
    assert e90.value == e95.value
    assert e95.low < e90.low < e90.high < e95.high


# Expected results are from statistics.md section 4: "answers needed for a given NPS
# margin" (typical mix P .55 / D .15, worst case .5 / .5), at n = 30 "+-26 points".
@pytest.mark.parametrize(
    ("n", "promoters", "detractors", "moe"),
    [(30, 0.55, 0.15, 26.2957), (52, 0.55, 0.15, 19.97), (97, 0.5, 0.5, 19.90)],
)
def test_margin_of_error_for_planning(n, promoters, detractors, moe):
    assert nps_margin_of_error(n, promoters, detractors) == pytest.approx(moe, abs=0.01)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nps_point(NpsCounts(-1, 0, 0)), "promoters"),
        (lambda: nps_point(NpsCounts(1.5, 0, 0)), "promoters"),  # type: ignore[arg-type]
        (lambda: nps_interval(NpsCounts(1, 0, 0), method="tango"), "method"),
        (lambda: nps_interval(NpsCounts(1, 0, 0), confidence=95), "confidence"),
        (lambda: nps_margin_of_error(0, 0.5, 0.2), "n"),
        (lambda: nps_margin_of_error(10, 0.7, 0.4), "exceed"),
    ],
)
def test_invalid_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


counts_strategy = st.builds(
    NpsCounts,
    promoters=st.integers(0, 400),
    passives=st.integers(0, 400),
    detractors=st.integers(0, 400),
)


@given(counts_strategy, st.sampled_from(["adjusted_wald", "wald"]))
def test_nps_and_its_interval_stay_on_the_scale(c, method):
    e = nps_interval(c, method=method)
    if c.n == 0:
        assert e.value is None
        return
    assert -100 <= e.low <= e.high <= 100
    assert -100 <= e.value <= 100


@given(counts_strategy.filter(lambda c: c.n >= 2))
def test_adjusted_interval_contains_the_raw_nps_from_two_answers(c):
    e = nps_interval(c)
    assert e.low <= e.value <= e.high


@given(counts_strategy.filter(lambda c: c.n >= 1), st.integers(2, 20))
def test_same_mix_with_more_answers_never_widens(c, factor):
    more = NpsCounts(c.promoters * factor, c.passives * factor, c.detractors * factor)
    small, large = nps_interval(c), nps_interval(more)
    assert large.high - large.low <= small.high - small.low + 1e-9
    assert large.value == pytest.approx(small.value)


@given(counts_strategy.filter(lambda c: c.n >= 1))
def test_variance_is_the_variance_of_the_recoded_scores(c):
    mean = (c.promoters - c.detractors) / c.n
    second_moment = (c.promoters + c.detractors) / c.n
    assert nps_variance(c) == pytest.approx(second_moment - mean**2, abs=1e-12)
    assert 0 <= nps_variance(c) <= 1
