"""A figure judged against its target with its interval, never on the point alone.

A target is a one-sided rule on the true figure: "at least T" when higher is better, "below
T" when lower is better (the portal's ``Target.value``, e.g. satisfaction >= 90 %,
complaint rate < 0.5 %). Each value inside the closed 95 % interval ``[low, high]`` is a
plausible true figure; the status says what the plausible figures agree on:

* **meets**: every value in the interval satisfies the rule, i.e. ``low >= T`` (higher is
  better) or ``high < T`` (lower is better);
* **misses**: no value does, i.e. ``high < T`` (higher is better) or ``low >= T`` (lower is
  better);
* **unclear** ("not yet clear"): some do and some do not, or there is no interval at all
  (no answers, no receipts, a rate that is not a proportion).

An interval that ends exactly on the target is therefore judged by the target's own rule:
for "at least 90" an interval ``[90, 95]`` meets and ``[85, 90]`` is unclear; for "below
0.5" an interval ``[0.2, 0.5]`` is unclear and ``[0.5, 0.9]`` misses.

Examples
--------
>>> target_status(91.2, 96.0, 90.0, lower_is_better=False)
<TargetStatus.MEETS: 'meets'>
>>> target_status(85.0, 93.0, 90.0, lower_is_better=False)
<TargetStatus.UNCLEAR: 'unclear'>
>>> target_status(0.6, 0.9, 0.5, lower_is_better=True)
<TargetStatus.MISSES: 'misses'>
"""

from __future__ import annotations

import math
from enum import StrEnum


class TargetStatus(StrEnum):
    """Where a figure's interval lies against its target."""

    MEETS = "meets"
    MISSES = "misses"
    UNCLEAR = "unclear"


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def target_status(
    estimate_low: float | None,
    estimate_high: float | None,
    target: float,
    lower_is_better: bool,
) -> TargetStatus:
    """Judge an interval against a one-sided target.

    Parameters
    ----------
    estimate_low, estimate_high : float or None
        The figure's interval, in the target's unit; ``None`` (no data, or no interval)
        gives `TargetStatus.UNCLEAR`.
    target : float
        "At least this" when ``lower_is_better`` is false, "below this" when true.
    lower_is_better : bool
        Whether a smaller figure is the better one (complaint rate).

    Returns
    -------
    TargetStatus
        MEETS when the whole interval satisfies the target, MISSES when none of it does,
        UNCLEAR otherwise (see the module's notes on edges).

    Raises
    ------
    ValueError
        ``estimate_low > estimate_high`` or a target that is not a finite number.
    """
    if not _finite(target):
        raise ValueError("target must be a finite number")
    if not _finite(estimate_low, estimate_high):
        return TargetStatus.UNCLEAR
    assert estimate_low is not None and estimate_high is not None
    if estimate_low > estimate_high:
        raise ValueError("estimate_low is above estimate_high")
    if lower_is_better:
        if estimate_high < target:
            return TargetStatus.MEETS
        if estimate_low >= target:
            return TargetStatus.MISSES
        return TargetStatus.UNCLEAR
    if estimate_low >= target:
        return TargetStatus.MEETS
    if estimate_high < target:
        return TargetStatus.MISSES
    return TargetStatus.UNCLEAR
