"""Distributions of custom questions: shares with Wilson intervals, scale means with a t
interval from counts per point. Expected values are worked by hand below (z = 1.959964,
z² = 3.841459) and checked against scipy on the expanded answers, not by calling the same
formula."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest
from scipy.stats import t as student_t

from analysis.distribution import (
    mean_of_points,
    option_distribution,
    scale_distribution,
)


def test_single_choice_shares_sum_to_one_with_hand_worked_wilson_limits() -> None:
    # 40 respondents: card 22, cash 12, phone 6.
    d = option_distribution([("card", 22), ("cash", 12), ("phone", 6)], 40)
    card, cash, phone = d.options
    assert d.exclusive and d.respondents == 40
    assert [o.share.n for o in d.options] == [40, 40, 40]
    assert sum(o.share.value for o in d.options) == pytest.approx(1.0)
    # card: p = 22/40 = 0.55; z²/n = 3.841459/40 = 0.0960365.
    # centre = (0.55 + 0.0960365/2) / 1.0960365 = 0.5980182 / 1.0960365 = 0.5456189
    # half = 1.959964 * sqrt(0.55*0.45/40 + 3.841459/(4*1600)) / 1.0960365
    #      = 1.959964 * sqrt(0.0061875 + 0.0006002) / 1.0960365
    #      = 1.959964 * 0.0823877 / 1.0960365 = 0.1473280
    # -> 0.3982909 .. 0.6929469
    assert card.share.value == 0.55
    assert card.share.low == pytest.approx(0.3982909, abs=2e-6)
    assert card.share.high == pytest.approx(0.6929469, abs=2e-6)
    # phone: p = 6/40 = 0.15; centre = (0.15 + 0.0480182) / 1.0960365 = 0.1806680
    # half = 1.959964 * sqrt(0.15*0.85/40 + 0.0006002) / 1.0960365
    #      = 1.959964 * sqrt(0.0031875 + 0.0006002) / 1.0960365 = 1.959964*0.0615445/1.0960365
    #      = 0.1100560 -> 0.0706120 .. 0.2907240
    assert phone.share.low == pytest.approx(0.070612, abs=2e-6)
    assert phone.share.high == pytest.approx(0.290724, abs=2e-6)
    # The same limits as scipy's Wilson interval, for every option.
    for option in d.options:
        ci = binomtest(option.count, 40).proportion_ci(method="wilson")
        assert (option.share.low, option.share.high) == pytest.approx((ci.low, ci.high))
    assert cash.count == 12


def test_multiple_choice_shares_are_of_respondents_and_may_sum_above_one() -> None:
    # 10 respondents ticked: bakery 7, deli 6, florist 0 (13 ticks).
    d = option_distribution([("bakery", 7), ("deli", 6), ("florist", 0)], 10, exclusive=False)
    assert not d.exclusive
    assert [o.share.value for o in d.options] == [0.7, 0.6, 0.0]
    assert sum(o.share.value for o in d.options) == pytest.approx(1.3)
    florist = d.options[2]
    # k = 0: low is exactly 0; high = (z²/n) / (1 + z²/n) = 0.3841459 / 1.3841459 = 0.2775328.
    assert florist.share.low == 0.0
    assert florist.share.high == pytest.approx(0.2775328, abs=1e-6)


def test_yes_no_all_yes_reaches_exactly_one() -> None:
    # 5 of 5 said yes: high is exactly 1; low = 1 / (1 + z²/n) = 1 / 1.7682918 = 0.5655175
    # (the square-root term equals z²/2n when p = 1, so centre - half = 1 / (1 + z²/n)).
    d = option_distribution([("yes", 5), ("no", 0)], 5)
    yes, no = d.options
    assert (yes.share.value, yes.share.high) == (1.0, 1.0)
    assert yes.share.low == pytest.approx(0.5655175, abs=1e-6)
    assert (no.share.value, no.share.low) == (0.0, 0.0)


def test_scale_mean_from_counts_per_point_matches_the_t_interval_of_the_answers() -> None:
    # 1-5 scale, 20 respondents: 1 x2, 2 x1, 3 x3, 4 x5, 5 x9.
    points = [(1, 2), (2, 1), (3, 3), (4, 5), (5, 9)]
    d = scale_distribution(points, 20)
    # sum = 2 + 2 + 9 + 20 + 45 = 78, mean = 3.9
    # sum of squares = 2 + 4 + 27 + 80 + 225 = 338
    # s² = (338 - 78²/20) / 19 = (338 - 304.2) / 19 = 1.7789474, s = 1.3337719
    # t(0.975, 19) = 2.0930241; half = 2.0930241 * 1.3337719 / sqrt(20) = 0.6242245
    # -> 3.2757755 .. 4.5242245
    assert d.mean is not None and d.mean.n == 20
    assert d.mean.value == pytest.approx(3.9)
    assert d.mean.low == pytest.approx(3.2757755, abs=1e-6)
    assert d.mean.high == pytest.approx(4.5242245, abs=1e-6)
    values = [p for p, c in points for _ in range(c)]
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    low, high = student_t.interval(0.95, len(values) - 1, loc=mean, scale=sd / math.sqrt(20))
    assert (d.mean.low, d.mean.high) == pytest.approx((low, high))
    # Per point: 9 of 20 gave 5, with scipy's Wilson limits.
    assert [o.key for o in d.options] == ["1", "2", "3", "4", "5"]
    five = d.options[-1]
    ci = binomtest(9, 20).proportion_ci(method="wilson")
    assert five.share.value == 0.45
    assert (five.share.low, five.share.high) == pytest.approx((ci.low, ci.high))


def test_nobody_answered_gives_no_figures_rather_than_zero() -> None:
    d = scale_distribution([(1, 0), (2, 0)], 0)
    assert d.respondents == 0
    assert all(o.share.value is None and o.share.low is None for o in d.options)
    assert d.mean is not None and d.mean.value is None and d.mean.n == 0
    one = mean_of_points([(4, 1)])
    assert (one.value, one.low, one.high, one.n) == (4.0, None, None, 1)


@pytest.mark.parametrize(
    ("counts", "respondents", "exclusive", "message"),
    [
        ([("a", 3)], 2, True, "more than the 2 respondents"),
        ([("a", 2), ("b", 2)], 3, True, "sum to more than 3"),
        ([("a", -1)], 3, True, "must be >= 0"),
        ([("a", 1.5)], 3, False, "must be an integer"),
        ([("a", 4)], 3, False, "more than the 3 respondents"),
    ],
)
def test_impossible_counts_are_refused(counts, respondents, exclusive, message) -> None:
    with pytest.raises(ValueError, match=message):
        option_distribution(counts, respondents, exclusive=exclusive)


def test_points_must_be_whole_numbers() -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        mean_of_points([(2.5, 1)])  # type: ignore[list-item]


@given(
    st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=6),
    st.integers(min_value=0, max_value=50),
)
def test_every_share_lies_in_its_interval_within_zero_and_one(counts, extra) -> None:
    respondents = sum(counts) + extra
    d = option_distribution([(f"o{i}", c) for i, c in enumerate(counts)], respondents)
    for option in d.options:
        if respondents == 0:
            assert option.share.value is None
            continue
        assert 0.0 <= option.share.low <= option.share.value <= option.share.high <= 1.0
