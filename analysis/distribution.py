"""Answers to one survey question as a distribution: each option's share of the question's
respondents with its interval and n, and for scales the mean with its interval.

The inputs are counts (per option, per scale point) and the number of respondents, so that
the figures come straight from a rollup whatever the number of answers behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.csat import check_int, wilson_interval
from analysis.means import mean_interval
from analysis.results import Estimate


@dataclass(frozen=True, slots=True)
class OptionShare:
    """One option of a question: a choice key, ``"yes"``/``"no"``, or a scale point
    written as text (``"4"``), how many respondents gave it, and their share of all the
    question's respondents (0..1) with its Wilson interval; ``share.n`` is the number of
    respondents."""

    key: str
    count: int
    share: Estimate


@dataclass(frozen=True, slots=True)
class Distribution:
    """The answers to one question.

    ``exclusive`` is true when each respondent gives one option (single choice, yes/no,
    scale): the shares then sum to 1. For a multiple-choice question it is false: a
    respondent may tick several options, each share is of the respondents, and the
    shares may sum to more than 1. ``mean`` is the mean point of a scale with its Student t
    interval (``None`` for other kinds).
    """

    respondents: int
    options: tuple[OptionShare, ...]
    exclusive: bool
    mean: Estimate | None = None


def option_distribution(
    counts: Sequence[tuple[str, int]],
    respondents: int,
    *,
    exclusive: bool = True,
    confidence: float = 0.95,
) -> Distribution:
    """Each option's share of a question's respondents, with its Wilson interval.

    Parameters
    ----------
    counts : sequence of (str, int)
        Respondents who gave each option, in the order to show (options nobody gave
        included with 0, so that they show).
    respondents : int
        Respondents of the question (its n): the denominator of every share.
    exclusive : bool, optional
        True (default) for single-choice, yes/no and scale questions: the counts may sum
        to at most ``respondents``. False for multiple choice: each count is at most
        ``respondents`` but their sum may exceed it.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Distribution
        One :class:`OptionShare` per count, in the given order; each share is
        :func:`analysis.csat.wilson_interval` of count/respondents (all ``None`` when
        nobody answered).

    Raises
    ------
    ValueError
        A count is negative or not an integer, a count exceeds ``respondents``, or (when
        ``exclusive``) the counts sum to more than ``respondents``.

    Notes
    -----
    Each interval is for one option on its own. The shares of one question are not
    independent, so overlapping intervals of two options say little about the pair.

    References
    ----------
    .. [1] Newcombe R.G. (1998). Two-sided confidence intervals for the single proportion:
           comparison of seven methods. *Stat Med* 17:857-872 (method 3, Wilson).

    Examples
    --------
    >>> d = option_distribution([("card", 3), ("cash", 1)], 4)
    >>> [(o.key, o.share.value) for o in d.options], d.exclusive
    ([('card', 0.75), ('cash', 0.25)], True)
    >>> d = option_distribution([("bakery", 3), ("deli", 2)], 4, exclusive=False)
    >>> sum(o.share.value for o in d.options)
    1.25
    """
    check_int(respondents, "respondents")
    for key, count in counts:
        check_int(count, f"the count of {key!r}")
        if count > respondents:
            raise ValueError(
                f"{count} respondents gave {key!r}, more than the {respondents} respondents"
            )
    if exclusive and sum(count for _key, count in counts) > respondents:
        raise ValueError(
            f"one answer per respondent, but the counts sum to more than {respondents}"
        )
    options = tuple(
        OptionShare(key, count, wilson_interval(count, respondents, confidence))
        for key, count in counts
    )
    return Distribution(respondents=respondents, options=options, exclusive=exclusive)


def mean_of_points(points: Sequence[tuple[int, int]], confidence: float = 0.95) -> Estimate:
    """The mean point of a scale with its Student t interval, from counts per point.

    Parameters
    ----------
    points : sequence of (int, int)
        (point, respondents who gave it) for the points of the scale.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Estimate
        :func:`analysis.means.mean_interval` of n = Σ c, the sum Σ p·c and the sum of
        squares Σ p²·c: :math:`\\bar x \\pm t_{(1+\\text{conf})/2,\\,n-1}\\, s/\\sqrt n`.

    Examples
    --------
    >>> e = mean_of_points([(3, 1), (4, 1), (5, 1)])
    >>> e.value, round(e.low, 4), round(e.high, 4)
    (4.0, 1.5159, 6.4841)
    """
    for point, count in points:
        check_int(count, f"the count of point {point}")
        if isinstance(point, bool) or not isinstance(point, int):
            raise ValueError(f"scale points are whole numbers, got {point!r}")
    n = sum(count for _point, count in points)
    total = sum(point * count for point, count in points)
    total_sq = sum(point * point * count for point, count in points)
    return mean_interval(n, float(total), float(total_sq), confidence)


def scale_distribution(
    points: Sequence[tuple[int, int]], respondents: int, confidence: float = 0.95
) -> Distribution:
    """Each point of a scale question as a share of its respondents, and the mean.

    Parameters
    ----------
    points : sequence of (int, int)
        (point, respondents who gave it), in the order to show (usually every point of the
        scale, low to high, 0 counts included).
    respondents : int
        Respondents of the question; the counts sum to at most this.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    Distribution
        :func:`option_distribution` of the points (keys ``"1"``, ``"2"`` ...), exclusive,
        with ``mean`` = :func:`mean_of_points`.

    Examples
    --------
    >>> d = scale_distribution([(1, 1), (2, 0), (3, 3)], 4)
    >>> [o.share.value for o in d.options], d.mean.value
    ([0.25, 0.0, 0.75], 2.5)
    """
    distribution = option_distribution(
        [(str(point), count) for point, count in points], respondents, confidence=confidence
    )
    return Distribution(
        respondents=respondents,
        options=distribution.options,
        exclusive=True,
        mean=mean_of_points(points, confidence),
    )
