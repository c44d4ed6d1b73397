"""Where a rank stands in its award group, in bands a colleague can read without a score.

The composite score is in between-staff standard deviations from the chain average, so half
of everyone has a negative one. That is right for HR's analysis and wrong for a leaderboard
on the shop floor, where "-0.4" reads as a penalty. The store leaderboard shows the rank and
its band instead: the award's top share (the same ceil(top_fraction x N) rule as the
proposals), then the top quarter, the upper half and the rest.
"""

from __future__ import annotations

from enum import StrEnum

from analysis.csat import check_int
from analysis.ranking.model import check_fraction
from analysis.ranking.selection import top_count


class RankBand(StrEnum):
    """Bands from the best down; each holds the ranks the previous ones do not."""

    TOP = "top"  # within ceil(top_fraction x ranked)
    TOP_QUARTER = "top_quarter"
    UPPER_HALF = "upper_half"
    LOWER_HALF = "lower_half"


def rank_band(rank: int | None, ranked: int, top_fraction: float) -> RankBand | None:
    """The band of ``rank`` (1 = best) among ``ranked`` staff of the group.

    Parameters
    ----------
    rank : int or None
        The place in the group; ``None`` for a person with too few answers to be ranked.
    ranked : int
        How many staff of the group are ranked (>= rank).
    top_fraction : float
        The award's share in (0, 1]: the top band is the first ceil(top_fraction x ranked)
        places.

    Returns
    -------
    RankBand or None
        ``None`` when not ranked. A band is "within the first ceil(share x ranked)
        places": the one person of a group of one is in the top band, the second of a
        group of two in the lower half.

    Examples
    --------
    >>> [rank_band(r, 20, 0.10).value for r in (2, 3, 6, 11)]
    ['top', 'top_quarter', 'upper_half', 'lower_half']
    >>> rank_band(None, 20, 0.10) is None
    True
    """
    check_fraction(top_fraction)
    if rank is None:
        return None
    check_int(rank, "rank", minimum=1)
    check_int(ranked, "ranked", minimum=rank)
    if rank <= top_count(ranked, top_fraction):
        return RankBand.TOP
    if rank <= top_count(ranked, 0.25):
        return RankBand.TOP_QUARTER
    if rank <= top_count(ranked, 0.5):
        return RankBand.UPPER_HALF
    return RankBand.LOWER_HALF
