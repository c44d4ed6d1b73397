"""Problem categories: how often each "what went wrong?" answer comes up.

Each category's share with a Wilson interval, so that "queue 34 %, staff 30 %" with 40
problems is not read as a real difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analysis.csat import check_int, wilson_interval
from analysis.results import Estimate


@dataclass(frozen=True, slots=True)
class CategoryShare:
    """One category: its count and its share (0..1) with a Wilson interval."""

    key: str
    count: int
    share: Estimate


def category_shares(
    counts: Mapping[str, int], total: int | None = None, confidence: float = 0.95
) -> list[CategoryShare]:
    """Share of each problem category, with a Wilson score interval.

    Parameters
    ----------
    counts : mapping of str to int
        Answers per category.
    total : int, optional
        The denominator. ``None`` (default): the sum of ``counts``, i.e. the share among
        reported problems (one category per problem). Give the number of responses to get
        the share of all responses that reported each problem; it must be at least the
        largest count.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    list of CategoryShare
        Ordered by count descending, then key. ``share`` is :func:`wilson_interval` of
        count/denominator on the 0..1 scale; all ``None`` when the denominator is 0.

    Notes
    -----
    Each interval is for one category on its own; the shares are not independent (they
    sum to 1 when ``total`` is ``None``), so two overlapping intervals say little about
    the pair.

    References
    ----------
    .. [1] Newcombe R.G. (1998). *Stat Med* 17:857-872, see
           :func:`analysis.csat.wilson_interval`.

    Examples
    --------
    >>> [(c.key, round(c.share.value, 2)) for c in category_shares({"queue": 3, "staff": 1})]
    [('queue', 0.75), ('staff', 0.25)]
    """
    for key, count in counts.items():
        check_int(count, f"the count of {key!r}")
    denominator = sum(counts.values()) if total is None else total
    check_int(denominator, "total", minimum=max(counts.values(), default=0))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [
        CategoryShare(key, count, wilson_interval(count, denominator, confidence))
        for key, count in ordered
    ]
