"""From a test result to a verdict a manager can read: better, worse, or no clear change.

One rule for the whole portal. A difference counts only when its p-value is below
:data:`ALPHA` (strictly) and both groups have enough answers; its sign then says better or
worse, read the right way round for a measure where less is better (a complaint rate). The
portal maps each :class:`Verdict` to words in the reader's language and keeps the p-value
and the test's name in a details line.
"""

from __future__ import annotations

from enum import StrEnum

from analysis.results import Comparison

#: The significance level of every comparison the portal shows (DESIGN section 5: "flagged
#: only when significant"), and the false discovery rate of its Benjamini-Hochberg checks.
ALPHA = 0.05


class Verdict(StrEnum):
    """What a comparison says, in words rather than numbers."""

    BETTER = "better"
    WORSE = "worse"
    NO_CLEAR_CHANGE = "no_clear_change"
    #: A group is below the minimum n, or has no answers: nothing can be said either way.
    NOT_ENOUGH_DATA = "not_enough_data"


def is_significant(p_value: float | None, alpha: float = ALPHA) -> bool:
    """Whether a p-value rejects "no difference" at ``alpha`` (strictly below it; a
    missing p-value never does)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    return p_value is not None and p_value < alpha


def verdict(
    diff: float | None,
    p_value: float | None,
    *,
    alpha: float = ALPHA,
    higher_is_better: bool = True,
    enough_data: bool = True,
) -> Verdict:
    """The verdict on "group 1 minus group 2".

    Parameters
    ----------
    diff : float or None
        Group 1 minus group 2 in the measure's units (``None``: a group has no answers).
    p_value : float or None
        The p-value of the test of "no difference" (possibly BH-adjusted); ``None`` when
        the test is undefined (both groups all in one class): no evidence of a difference.
    alpha : float, optional
        The significance level, default :data:`ALPHA`; p equal to alpha is not significant.
    higher_is_better : bool, optional
        ``False`` for a measure where less is better (complaints, detractor share): a
        significant rise is then WORSE.
    enough_data : bool, optional
        Both groups reach the minimum n; otherwise NOT_ENOUGH_DATA whatever the p.

    Returns
    -------
    Verdict
        BETTER or WORSE only for a significant, non-zero difference with enough data;
        NO_CLEAR_CHANGE for a tie or a p-value at or above alpha; NOT_ENOUGH_DATA when a
        group is missing or too small.

    Examples
    --------
    >>> [verdict(6.0, p).value for p in (0.01, 0.05, 0.064)]
    ['better', 'no_clear_change', 'no_clear_change']
    >>> verdict(6.0, 0.01, higher_is_better=False).value
    'worse'
    """
    if diff is None or not enough_data:
        return Verdict.NOT_ENOUGH_DATA
    if diff == 0 or not is_significant(p_value, alpha):
        return Verdict.NO_CLEAR_CHANGE
    return Verdict.BETTER if (diff > 0) == higher_is_better else Verdict.WORSE


def comparison_verdict(
    comparison: Comparison,
    *,
    min_n: int,
    alpha: float = ALPHA,
    higher_is_better: bool = True,
    p_value: float | None = None,
) -> Verdict:
    """:func:`verdict` of a :class:`~analysis.results.Comparison` whose groups each need
    ``min_n`` answers; ``p_value`` replaces the comparison's own (a BH-adjusted one)."""
    return verdict(
        comparison.diff,
        comparison.p_value if p_value is None else p_value,
        alpha=alpha,
        higher_is_better=higher_is_better,
        enough_data=min(comparison.n1, comparison.n2) >= min_n,
    )
