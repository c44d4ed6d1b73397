"""Difference in differences of a trained person against their store (analysis.training):
hand-computed small examples, constructed data sets with a known effect, "too early to
tell", and the pooled (fixed-effect) topic effect."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.results import Estimate
from analysis.training import (
    MIN_PEER_ANSWERS,
    MIN_PERSON_ANSWERS,
    Z95,
    DidResult,
    difference_in_differences,
    group_mean,
    nps_points,
    pooled_effect,
    satisfied_points,
)


def test_answer_points():
    assert [nps_points(v) for v in range(11)] == [-100.0] * 7 + [0.0, 0.0, 100.0, 100.0]
    assert [satisfied_points(v) for v in range(1, 6)] == [0.0, 0.0, 0.0, 100.0, 100.0]


def test_a_hand_computed_example():
    # Person: 12 answers before, 4 promoters (mean 33.33); 12 after, 9 promoters (75).
    # Store's others: 40 before, 20 promoters (50); 40 after, 24 promoters (60).
    before = [100.0] * 4 + [0.0] * 8
    after = [100.0] * 9 + [0.0] * 3
    peers_before = [100.0] * 20 + [0.0] * 20
    peers_after = [100.0] * 24 + [0.0] * 16
    r = difference_in_differences(before, after, peers_before, peers_after)
    assert r.effect is not None
    assert r.effect.value == pytest.approx((75 - 100 / 3) - (60 - 50))
    # Variance of each mean: s^2/n with s^2 = n/(n-1) p(1-p) 100^2.
    var = sum(
        100**2 * p * (1 - p) / (n - 1) for p, n in [(1 / 3, 12), (0.75, 12), (0.5, 40), (0.6, 40)]
    )
    assert r.se == pytest.approx(math.sqrt(var))
    assert (r.effect.low, r.effect.high) == pytest.approx(
        (r.effect.value - Z95 * r.se, r.effect.value + Z95 * r.se)
    )
    assert (r.person_before, r.person_after, r.peers_before, r.peers_after) == (12, 12, 40, 40)
    assert r.effect.n == 24 and not r.too_early


def test_group_mean_by_hand():
    g = group_mean([100.0, -100.0, 0.0])
    assert (g.n, g.mean) == (3, 0.0)
    assert g.variance == pytest.approx(10000.0 / 3)  # s^2 = 20000/2, over n = 3
    assert math.isnan(group_mean([5.0]).variance) and group_mean([]).n == 0


@pytest.mark.parametrize(
    ("counts", "early"),
    [
        ((MIN_PERSON_ANSWERS - 1, 20, 50, 50), True),
        ((20, MIN_PERSON_ANSWERS - 1, 50, 50), True),
        ((20, 20, MIN_PEER_ANSWERS - 1, 50), True),
        ((20, 20, 50, MIN_PEER_ANSWERS - 1), True),
        ((MIN_PERSON_ANSWERS, MIN_PERSON_ANSWERS, MIN_PEER_ANSWERS, MIN_PEER_ANSWERS), False),
    ],
)
def test_too_early_to_tell_below_any_minimum(counts, early):
    groups = [[100.0, 0.0] * n for n in counts]
    groups = [g[:n] for g, n in zip(groups, counts, strict=True)]
    r = difference_in_differences(*groups)
    assert r.too_early is early
    assert (r.person_before, r.person_after, r.peers_before, r.peers_after) == counts
    assert (r.effect is None) is early and (r.se is None) is early


def nps_answers(rng, n, promoters, detractors):
    """n per-answer NPS contributions drawn with the given promoter/detractor shares."""
    return [
        100.0 * v
        for v in rng.choice([1, 0, -1], n, p=[promoters, 1 - promoters - detractors, detractors])
    ]


def constructed(rng, effect_share, n_person=150, n_peers=600):
    """A store whose whole staff gain 5 promoter points after the training date (a
    season), and a trained person who gains ``effect_share`` more promoters, taken from
    the detractors: a true effect of 200 x ``effect_share`` NPS points beyond the store."""
    before = nps_answers(rng, n_person, 0.40, 0.25)
    after = nps_answers(rng, n_person, 0.45 + effect_share, 0.25 - effect_share)
    peers_before = nps_answers(rng, n_peers, 0.50, 0.15)
    peers_after = nps_answers(rng, n_peers, 0.55, 0.15)
    return difference_in_differences(before, after, peers_before, peers_after)


def test_a_built_in_effect_of_20_points_is_found():
    # +0.10 promoters and -0.10 detractors for the person: NPS +20 beyond the store.
    r = constructed(np.random.default_rng(11), 0.10, n_person=400, n_peers=2000)
    assert r.effect is not None
    assert r.effect.low < 20 < r.effect.high
    assert r.effect.value == pytest.approx(20, abs=2.5 * r.se)
    assert r.effect.low > 0  # clearly better


def test_no_effect_gives_an_interval_around_0():
    r = constructed(np.random.default_rng(12), 0.0)
    assert r.effect is not None and r.effect.low < 0 < r.effect.high


def test_the_interval_covers_the_true_effect_about_95_percent_of_the_time():
    rng = np.random.default_rng(13)
    runs = [constructed(rng, 0.10) for _ in range(400)]
    covered = sum(r.effect.low < 20 < r.effect.high for r in runs if r.effect is not None)
    assert 0.92 <= covered / len(runs) <= 0.98
    assert np.mean([r.effect.value for r in runs]) == pytest.approx(20, abs=1.0)


def test_pooled_effect_by_hand():
    a = DidResult(Estimate(10.0, 0.0, 20.0, 30), 4.0, 15, 15, 40, 40)
    b = DidResult(Estimate(30.0, 0.0, 60.0, 30), 8.0, 15, 15, 40, 40)
    early = DidResult(None, None, 3, 0, 40, 0)
    p = pooled_effect([a, b, early])
    # Weights 1/16 and 1/64: (10/16 + 30/64)/(1/16 + 1/64) = 14; SE = (5/64)^(-1/2).
    assert p.effect is not None and p.effect.value == pytest.approx(14.0)
    assert p.se == pytest.approx(math.sqrt(64 / 5))
    assert p.effect.low == pytest.approx(14.0 - Z95 * math.sqrt(64 / 5))
    assert (p.counted, p.trainees, p.effect.n) == (2, 3, 2)


def test_pooled_effect_of_nobody_ready_is_too_early():
    p = pooled_effect([DidResult(None, None, 3, 0, 40, 0)])
    assert p.effect is None and (p.counted, p.trainees) == (0, 1)
    assert pooled_effect([]).effect is None


def test_pooled_effect_recovers_a_topic_effect_with_a_narrower_interval():
    rng = np.random.default_rng(14)
    trainees = [constructed(rng, 0.10) for _ in range(12)]
    p = pooled_effect(trainees)
    assert p.effect is not None and p.effect.low < 20 < p.effect.high
    assert p.se < min(r.se for r in trainees)
    zero = pooled_effect([constructed(rng, 0.0) for _ in range(12)])
    assert zero.effect is not None and zero.effect.low < 0 < zero.effect.high


def test_a_zero_variance_estimate_takes_the_smallest_other_se():
    flat = DidResult(Estimate(5.0, 5.0, 5.0, 20), 0.0, 10, 10, 30, 30)
    other = DidResult(Estimate(15.0, 0.0, 30.0, 20), 5.0, 10, 10, 30, 30)
    p = pooled_effect([flat, other])
    assert p.effect is not None and p.effect.value == pytest.approx(10.0)
    assert pooled_effect([flat]).effect is None
