"""`analysis.control_laney.laney_above`: many Laney/p charts at once, flag for flag the
same as `laney_p_chart` chart by chart (the chain page judges every store this way)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.control_laney import laney_above, laney_p_chart


def _one_by_one(counts: list[list[int]], sizes: list[list[int]], baseline: int) -> list[list[bool]]:
    return [
        [p.above for p in laney_p_chart(x, n, baseline=baseline).points]
        for x, n in zip(counts, sizes, strict=True)
    ]


def test_the_hand_computed_laney_table_and_a_jump_after_it():
    # The table of test_analysis_control_laney (σ_z = 2.138, UCL at n = 400 of 0.1962):
    # 78 of 400 (0.195) stays inside the widened limit, 80 of 400 (0.20) is above it.
    x = [40, 65, 32, 60, 36, 37]
    n = [400, 500, 400, 500, 400, 500]
    above = laney_above([x + [78], x + [80]], [n + [400], n + [400]], baseline=6)
    assert above[:, :6].sum() == 0
    assert above[:, 6].tolist() == [False, True]


def test_quiet_baselines_fall_back_to_the_p_chart_with_exact_tails_at_small_n():
    # Baseline p̄ = 0.1 with no spread (σ_z = 0): the plain p-chart judges. At n = 20,
    # n p̄ = 2 < 5: the exact tail; P(X >= 7 | 20, 0.1) = 0.0024 > 0.00135 is inside,
    # P(X >= 8) = 0.0004 above. At n = 400 the normal limit 0.1 + 3 * 0.015 = 0.145.
    base_x, base_n = [10] * 4, [100] * 4
    counts = [base_x + [7], base_x + [8], base_x + [58], base_x + [59]]
    sizes = [base_n + [20], base_n + [20], base_n + [400], base_n + [400]]
    above = laney_above(counts, sizes, baseline=4)
    assert above[:, 4].tolist() == [False, True, False, True]
    assert above.tolist() == _one_by_one(counts, sizes, 4)


def test_weeks_without_answers_are_skipped_as_a_missing_week_is():
    # A week with n = 0 in the baseline does not break the moving range: the chart of the
    # answered weeks alone gives the same flags.
    x, n = [10, 0, 30, 10, 30, 95], [100, 0, 100, 100, 100, 100]
    dense = laney_above([x], [n], baseline=5)[0].tolist()
    sparse = [p.above for p in laney_p_chart([10, 30, 10, 30, 95], [100] * 5, baseline=4).points]
    assert dense == [False, False] + sparse[1:] and dense[-1] is True


@pytest.mark.parametrize("seed", range(6))
def test_random_grids_agree_with_the_chart_of_each_row(seed):
    rng = np.random.default_rng(seed)
    rows, periods, baseline = 300, 16, 12
    sizes = rng.integers(0, [8, 60, 400, 3000][seed % 4], size=(rows, periods))
    sizes[rng.random((rows, periods)) < 0.1] = 0
    sizes[:, 0] = np.maximum(sizes[:, 0], 1)
    # Per-row shares, some rows drifting week to week (overdispersed), some steady, some
    # all 0 or all 1.
    p = rng.uniform(0.0, 0.4, size=(rows, 1)) + rng.normal(0, 0.05, size=(rows, periods)) * (
        rng.random((rows, 1)) < 0.5
    )
    p = np.clip(p, 0.0, 1.0)
    p[:5] = 0.0
    p[5:10] = 1.0
    counts = rng.binomial(sizes, p)
    got = laney_above(counts, sizes, baseline=baseline).tolist()
    assert got == _one_by_one(counts.tolist(), sizes.tolist(), baseline)


@pytest.mark.parametrize(
    ("counts", "sizes", "kwargs", "message"),
    [
        ([[1, 2]], [[5, 5, 5]], {"baseline": 1}, "one shape"),
        ([1, 2], [5, 5], {"baseline": 1}, "2-D"),
        ([[6, 2]], [[5, 5]], {"baseline": 1}, "between 0 and its size"),
        ([[1, 2]], [[5, 5]], {"baseline": 3}, "at most 2"),
        ([[0, 2]], [[0, 5]], {"baseline": 1}, "no answers"),
        ([[1, 2]], [[5, 5]], {"baseline": 1, "sigmas": 0.0}, "positive"),
    ],
)
def test_bad_input_is_refused(counts, sizes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        laney_above(counts, sizes, **kwargs)
