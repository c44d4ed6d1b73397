"""Target status judged on the interval (analysis.targets): the edges."""

from __future__ import annotations

import math

import pytest

from analysis.targets import TargetStatus, target_status

MEETS, MISSES, UNCLEAR = TargetStatus.MEETS, TargetStatus.MISSES, TargetStatus.UNCLEAR


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (91.0, 96.0, MEETS),
        (90.0, 96.0, MEETS),  # touching "at least 90" from above: every value is >= 90
        (89.999, 96.0, UNCLEAR),
        (85.0, 90.0, UNCLEAR),  # 90 itself would meet
        (85.0, 89.999, MISSES),
        (90.0, 90.0, MEETS),
        (50.0, 99.0, UNCLEAR),
    ],
)
def test_higher_is_better_edges(low, high, expected):
    assert target_status(low, high, 90.0, lower_is_better=False) is expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.1, 0.4, MEETS),
        (0.1, 0.5, UNCLEAR),  # 0.5 is not below 0.5
        (0.1, 0.49999, MEETS),
        (0.5, 0.9, MISSES),  # touching from above: nothing is below 0.5
        (0.49999, 0.9, UNCLEAR),
        (0.5, 0.5, MISSES),
    ],
)
def test_lower_is_better_edges(low, high, expected):
    assert target_status(low, high, 0.5, lower_is_better=True) is expected


def test_negative_nps_targets_work_like_any_other():
    assert target_status(-20.0, -5.0, -10.0, lower_is_better=False) is UNCLEAR
    assert target_status(-9.0, 5.0, -10.0, lower_is_better=False) is MEETS


@pytest.mark.parametrize(
    ("low", "high"), [(None, None), (None, 95.0), (80.0, None), (math.nan, 95.0), (80.0, math.inf)]
)
def test_no_interval_is_never_judged(low, high):
    for lower in (False, True):
        assert target_status(low, high, 90.0, lower_is_better=lower) is UNCLEAR


def test_a_reversed_interval_or_a_bad_target_is_refused():
    with pytest.raises(ValueError):
        target_status(95.0, 90.0, 90.0, lower_is_better=False)
    with pytest.raises(ValueError):
        target_status(80.0, 95.0, math.nan, lower_is_better=False)
