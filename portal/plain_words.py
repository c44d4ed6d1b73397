"""Comparisons in plain words: the one translation of `analysis.significance.Verdict` into
what a manager reads ("significantly better than the previous period", "no clear change"),
with the p-value and the name of its test kept for a details line.

The rule (which p counts, which way is better) is `analysis.significance`; this module
only says it in the reader's language. Templates call `plain_change` (a Jinja global).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l

from analysis.results import Comparison
from analysis.significance import ALPHA, Verdict, comparison_verdict


class Against(StrEnum):
    """What a figure is compared with."""

    PREVIOUS_PERIOD = "previous_period"
    REST_OF_CHAIN = "rest_of_chain"
    #: Version A of a survey against version B (the A/B comparison).
    OTHER_VERSION = "other_version"


#: Whole sentences per comparison: word order differs between the languages.
VERDICT_WORDS: dict[tuple[Against, Verdict], Any] = {
    (Against.PREVIOUS_PERIOD, Verdict.BETTER): _l("Significantly better than the previous period"),
    (Against.PREVIOUS_PERIOD, Verdict.WORSE): _l("Significantly worse than the previous period"),
    (Against.PREVIOUS_PERIOD, Verdict.NO_CLEAR_CHANGE): _l(
        "No clear change from the previous period"
    ),
    (Against.PREVIOUS_PERIOD, Verdict.NOT_ENOUGH_DATA): _l(
        "Too few answers to compare with the previous period"
    ),
    (Against.REST_OF_CHAIN, Verdict.BETTER): _l("Significantly better than the rest of the chain"),
    (Against.REST_OF_CHAIN, Verdict.WORSE): _l("Significantly worse than the rest of the chain"),
    (Against.REST_OF_CHAIN, Verdict.NO_CLEAR_CHANGE): _l(
        "No clear difference from the rest of the chain"
    ),
    (Against.REST_OF_CHAIN, Verdict.NOT_ENOUGH_DATA): _l(
        "Too few answers to compare with the rest of the chain"
    ),
    (Against.OTHER_VERSION, Verdict.BETTER): _l("Version A significantly better than version B"),
    (Against.OTHER_VERSION, Verdict.WORSE): _l("Version A significantly worse than version B"),
    (Against.OTHER_VERSION, Verdict.NO_CLEAR_CHANGE): _l(
        "No clear difference between version A and version B"
    ),
    (Against.OTHER_VERSION, Verdict.NOT_ENOUGH_DATA): _l(
        "Too few answers to compare version A with version B"
    ),
}

#: The verdict alone, for a table whose column says what is compared.
SHORT_WORDS: dict[Verdict, Any] = {
    Verdict.BETTER: _l("significantly better"),
    Verdict.WORSE: _l("significantly worse"),
    Verdict.NO_CLEAR_CHANGE: _l("no clear change"),
    Verdict.NOT_ENOUGH_DATA: _l("too few answers to tell"),
}

#: The tests `analysis.compare` names in ``Comparison.method``.
TEST_NAMES: dict[str, Any] = {
    "adjusted_wald": _l("adjusted Wald z test"),
    "wald": _l("Wald z test"),
    "z": _l("two-proportion z test"),
    "fisher": _l("Fisher's exact test"),
}


@dataclass(frozen=True, slots=True)
class PlainChange:
    """A comparison as a page shows it: the verdict and its sentence as the headline; the
    difference, the p-value used (``adjusted`` when Benjamini-Hochberg corrected), the
    test's name and both n for the details line."""

    verdict: Verdict
    words: str
    short: str
    comparison: Comparison
    p_value: float | None
    adjusted: bool
    test: str


def plain_change(
    comparison: Comparison,
    against: str,
    *,
    min_n: int,
    higher_is_better: bool = True,
    p_adjusted: float | None = None,
) -> PlainChange:
    """The headline and details of ``comparison`` against ``against`` (an `Against`
    value), each group needing ``min_n`` answers; ``p_adjusted`` replaces the raw p."""
    where = Against(against)
    verdict = comparison_verdict(
        comparison, min_n=min_n, higher_is_better=higher_is_better, p_value=p_adjusted
    )
    test = TEST_NAMES.get(comparison.method)
    return PlainChange(
        verdict=verdict,
        words=str(VERDICT_WORDS[(where, verdict)]),
        short=str(SHORT_WORDS[verdict]),
        comparison=comparison,
        p_value=comparison.p_value if p_adjusted is None else p_adjusted,
        adjusted=p_adjusted is not None,
        test="" if test is None else str(test),
    )


def template_globals() -> dict[str, Any]:
    return {"plain_change": plain_change, "Verdict": Verdict, "significance_level": ALPHA}
