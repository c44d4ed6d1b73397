"""From a test result to the words a manager reads (analysis.significance), the rank bands
of the store leaderboard and the fewest answers that make a person eligible
(analysis.ranking), against worked examples."""

from __future__ import annotations

import pytest

from analysis.compare import compare_csat, compare_nps
from analysis.ranking import (
    RankBand,
    RankingParameters,
    StaffInput,
    minimum_answers,
    rank_band,
    rank_staff,
)
from analysis.results import Comparison, NpsCounts
from analysis.significance import ALPHA, Verdict, comparison_verdict, is_significant, verdict

B, W, N, X = Verdict.BETTER, Verdict.WORSE, Verdict.NO_CLEAR_CHANGE, Verdict.NOT_ENOUGH_DATA


@pytest.mark.parametrize(
    ("diff", "p", "higher_is_better", "expected"),
    [
        (6.0, 0.01, True, B),  # a significant rise of a higher-is-better measure
        (-6.0, 0.01, True, W),
        (6.0, 0.01, False, W),  # complaints up: worse
        (-6.0, 0.01, False, B),  # complaints down: better
        (6.0, 0.064, True, N),  # compare_nps's own example: p above alpha
        (-6.0, 0.5, False, N),
        (6.0, 0.05, True, N),  # p equal to alpha is not below it
        (6.0, 0.049999, True, B),
        (0.0, 0.0001, True, N),  # a tie is never better or worse
        (0.0, 0.0001, False, N),
        (2.0, None, True, N),  # no test possible (both groups all in one class)
        (None, None, True, X),  # a group without answers
    ],
)
def test_verdict_worked_examples(diff, p, higher_is_better, expected):
    assert verdict(diff, p, higher_is_better=higher_is_better) is expected


def test_too_few_answers_say_so_whatever_the_p():
    assert verdict(6.0, 0.0001, enough_data=False) is X
    assert verdict(6.0, 0.9, enough_data=False) is X


def test_alpha_is_the_projects_and_can_be_given():
    assert ALPHA == 0.05
    assert verdict(6.0, 0.03, alpha=0.01) is N and verdict(6.0, 0.005, alpha=0.01) is B
    assert is_significant(0.049) and not is_significant(0.05) and not is_significant(None)
    with pytest.raises(ValueError, match="alpha"):
        verdict(1.0, 0.01, alpha=0.0)


def test_the_verdict_of_a_comparison_agrees_with_its_significant_flag():
    # compare_nps's example: +6 points, p = 0.0638, not significant.
    plain = compare_nps(NpsCounts(675, 351, 324), NpsCounts(540, 360, 300))
    assert plain.method == "adjusted_wald"
    assert comparison_verdict(plain, min_n=30) is N and not plain.significant
    # Twice the answers with the same shares: p < 0.05, better.
    big = compare_nps(NpsCounts(1350, 702, 648), NpsCounts(1080, 720, 600))
    assert big.significant and comparison_verdict(big, min_n=30) is B
    assert comparison_verdict(big, min_n=30, higher_is_better=False) is W
    # The same shares below the minimum n: nothing to say.
    assert comparison_verdict(big, min_n=5000) is X
    # A BH-adjusted p replaces the raw one.
    assert comparison_verdict(big, min_n=30, p_value=0.2) is N
    # CSAT: 80 % of 70 against 60 % of 80, p < 0.01, with the test's name.
    csat = compare_csat(56, 70, 48, 80)
    assert csat.method == "z" and csat.significant
    assert comparison_verdict(csat, min_n=30) is B
    assert compare_csat(3, 4, 1, 4).method == "fisher"  # small expected counts
    empty = Comparison(None, None, None, None, None, False, 0, 40)
    assert comparison_verdict(empty, min_n=30) is X


@pytest.mark.parametrize(
    ("rank", "ranked", "top_fraction", "expected"),
    [
        (1, 20, 0.10, RankBand.TOP),
        (2, 20, 0.10, RankBand.TOP),
        (3, 20, 0.10, RankBand.TOP_QUARTER),
        (5, 20, 0.10, RankBand.TOP_QUARTER),
        (6, 20, 0.10, RankBand.UPPER_HALF),
        (10, 20, 0.10, RankBand.UPPER_HALF),
        (11, 20, 0.10, RankBand.LOWER_HALF),
        (20, 20, 0.10, RankBand.LOWER_HALF),
        (1, 1, 0.10, RankBand.TOP),  # ceil(0.1 x 1) = 1
        (2, 2, 0.10, RankBand.LOWER_HALF),  # ceil(0.5 x 2) = 1
        (3, 10, 0.25, RankBand.TOP),  # ceil(2.5) = 3: the award's share comes first
        (4, 10, 0.25, RankBand.UPPER_HALF),
        (None, 10, 0.10, None),
    ],
)
def test_rank_bands(rank, ranked, top_fraction, expected):
    assert rank_band(rank, ranked, top_fraction) == expected


def test_rank_band_refuses_a_rank_beyond_the_group():
    with pytest.raises(ValueError):
        rank_band(5, 4, 0.1)
    with pytest.raises(ValueError):
        rank_band(0, 4, 0.1)


def test_minimum_answers_is_the_eligibility_rule():
    assert minimum_answers(20.0, 20, 5) == 20
    assert minimum_answers(31.2, 20, 5) == 32  # n >= m with n a count
    assert minimum_answers(5.0, 3, 8) == 8  # greyed is never ranked
    # rank_staff agrees: with m = 25 given, 25 answers are enough and 24 are not.
    parameters = RankingParameters(prior_strength=25.0, min_n=20)
    needed = minimum_answers(25.0, parameters.min_n, parameters.display_min_n)
    rows = [
        StaffInput(1, 1, "chain", needed, needed, needed, 0, 0, (), 0, 100),
        StaffInput(2, 1, "chain", needed - 1, needed - 1, needed - 1, 0, 0, (), 0, 100),
        *(StaffInput(10 + i, 1, "chain", 40, 50, 30, 10, 10, (), 0, 100) for i in range(5)),
    ]
    scores = {s.staff_id: s for s in rank_staff(rows, parameters).scores}
    assert scores[1].rank is not None and scores[2].ineligible_reasons == ("too_few_answers",)


def test_a_component_without_own_data_says_so():
    rows = [
        StaffInput(1, 1, "chain", 40, 50, 30, 10, 10, (80.0,), 0, 100),
        StaffInput(2, 1, "chain", 0, 0, 0, 0, 0, (), 0, 0),
    ]
    scores = {s.staff_id: s for s in rank_staff(rows).scores}
    assert scores[1].customer.has_own_data and scores[1].has_own_data
    nobody = scores[2]
    assert not nobody.has_own_data
    assert all(
        not c.has_own_data and c.raw is None
        for c in (nobody.customer, nobody.nps, nobody.mystery, nobody.complaints)
    )
