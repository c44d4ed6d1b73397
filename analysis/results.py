"""Small result types shared by every statistic: an estimate with its interval and n, and a
comparison of two groups. Frozen dataclasses, plain floats, ``None`` where a figure does not
exist (no answers means no NPS, never 0)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its two-sided interval, in the statistic's own units.

    NPS is in points on -100..100, CSAT in percent 0..100, proportions 0..1, means in the
    rating's units. ``value``, ``low`` and ``high`` are ``None`` when ``n`` is 0.
    """

    value: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """Group 1 minus group 2, with the test of "no difference".

    ``significant`` is true only when ``p_value`` < alpha and both groups reach the
    minimum n; ``p_value`` may be BH-adjusted by the caller. ``method`` names the test
    that gave the p-value (``"adjusted_wald"`` or ``"wald"`` for NPS, ``"z"`` or
    ``"fisher"`` for two shares; ``""`` when no test ran).
    """

    diff: float | None
    low: float | None
    high: float | None
    z: float | None
    p_value: float | None
    significant: bool
    n1: int
    n2: int
    method: str = ""


@dataclass(frozen=True, slots=True)
class NpsCounts:
    """Answers to the 0-10 question grouped the NPS way."""

    promoters: int
    passives: int
    detractors: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @classmethod
    def from_scores(cls, counts_by_score: tuple[int, ...] | list[int]) -> NpsCounts:
        """Group counts of the scores 0..10 (index = score) into D/Pa/P."""
        if len(counts_by_score) != 11:
            raise ValueError("counts_by_score needs 11 counts, for the scores 0..10")
        return cls(
            promoters=sum(counts_by_score[9:]),
            passives=sum(counts_by_score[7:9]),
            detractors=sum(counts_by_score[:7]),
        )
