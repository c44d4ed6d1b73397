"""The staff ranking in plain words, for every page, mail and export that shows it: why a
person is not eligible (one sentence per reason code, with its numbers), what the score is
made of (from the policy's real weights), an estimate that is only the store's average,
and the rank bands of the store leaderboard.

Codes (`IneligibleReason`, `RankBand`) stay in the data and the snapshot; nothing shows
one to a reader. Templates reach these through the globals of `template_globals`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from analysis.ranking import RankBand, Ranking, RankingParameters, minimum_answers
from portal.formatting import percent
from portal.hr.ranking import IneligibleReason

#: One sentence per reason; each may use %(n)s (the person's own answers) and %(needed)s
#: (the fewest that make a person eligible).
REASON_SENTENCES: dict[IneligibleReason, Any] = {
    IneligibleReason.TOO_FEW_ANSWERS: _l(
        "fewer than %(needed)s own answers this month (%(n)s received)"
    ),
    IneligibleReason.SUBSTANTIATED_COMPLAINT: _l(
        "a substantiated complaint against them this month, or one not yet closed"
    ),
    IneligibleReason.FLAGGED_ANSWERS: _l(
        "their answers are flagged: response rate or share of promoters far above "
        "the rest of the store's staff"
    ),
}
#: A reason this build does not know (a snapshot from a later version): still no code shown.
OTHER_REASON = _l("excluded by another rule of the ranking")

NO_OWN_DATA = _l("no own data yet — store average")

BAND_WORDS: dict[RankBand, Any] = {
    RankBand.TOP: _l("top %(share)s"),
    RankBand.TOP_QUARTER: _l("top quarter"),
    RankBand.UPPER_HALF: _l("upper half"),
    RankBand.LOWER_HALF: _l("lower half"),
}


def reason_sentence(code: str, *, n: int, needed: int) -> str:
    """The sentence for one ineligibility code, with the person's ``n`` and the ``needed``
    answers filled in."""
    try:
        text = REASON_SENTENCES[IneligibleReason(code)]
    except ValueError:
        return str(OTHER_REASON)
    return str(text) % {"n": n, "needed": needed}


def reason_sentences(codes: Iterable[str], *, n: int, needed: int) -> list[str]:
    """Each code of ``codes`` (a joined "a,b" too) once, as its sentence."""
    seen: list[str] = []
    for code in codes:
        seen.extend(part for part in code.split(",") if part and part not in seen)
    return [reason_sentence(code, n=n, needed=needed) for code in seen]


def needed_answers(ranking: Ranking) -> int:
    """The fewest own answers that made a person eligible in ``ranking``."""
    p = ranking.parameters
    return minimum_answers(ranking.m, p.min_n, p.display_min_n)


def cycle_needed_answers(parameters: Mapping[str, Any]) -> int:
    """The same for an award cycle's frozen parameters (`portal.awards.snapshot`)."""
    defaults = RankingParameters()
    return minimum_answers(
        float(parameters.get("m", 0.0)),
        int(parameters.get("min_n", defaults.min_n)),
        int(parameters.get("display_min_n", defaults.display_min_n)),
    )


def score_sentence(weights: Sequence[float]) -> str:
    """What the composite is made of, from its (customer, mystery, complaints) weights."""
    total = sum(weights) or 1.0
    customer, mystery, complaints = (w / total for w in weights)
    return str(
        _(
            "Score = %(customer)s customers' ratings, %(mystery)s mystery visits, "
            "%(complaints)s complaints, each pulled towards the store average when a person "
            "has few answers or visits. 0 is the chain average; staff are ranked by the "
            "score's cautious lower end.",
            customer=percent(customer),
            mystery=percent(mystery),
            complaints=percent(complaints),
        )
    )


#: Said when nobody in the chain has data on a signal in the month.
NO_SIGNAL_DATA: dict[str, Any] = {
    "customer": _l(
        "Nobody in the chain has customers' ratings this month: their share goes to the others."
    ),
    "mystery": _l(
        "No mystery visits anywhere in the chain this month: their share goes to the others."
    ),
    "complaints": _l(
        "No receipts to count complaints against this month: their share goes to the others."
    ),
}


def ranking_score_sentence(ranking: Ranking) -> str:
    """`score_sentence` with the weights the month was really computed with: a signal no
    one in the chain has data on passes its weight to the others, and the page says so."""
    scales = {scale.name: scale for scale in ranking.scales}
    slots = ("customer", "mystery", "complaints")
    sentence = score_sentence([scales[name].weight for name in slots])
    # The customer slot has data when either customer signal has (the NPS stands in).
    available = {
        "customer": scales["customer"].available or scales["nps"].available,
        "mystery": scales["mystery"].available,
        "complaints": scales["complaints"].available,
    }
    missing = [str(NO_SIGNAL_DATA[name]) for name in slots if not available[name]]
    return " ".join([sentence, *missing])


def band_words(band: RankBand | str | None, top_fraction: float) -> str:
    """A rank band in words ("top 10 %", "upper half"); "not ranked" for ``None``."""
    if band is None:
        return str(_("not ranked"))
    return str(BAND_WORDS[RankBand(band)]) % {"share": percent(top_fraction)}


def snapshot_has_own_data(components: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a frozen snapshot row holds any of the person's own data (its components
    as `portal.awards.snapshot` stores them)."""
    return any(int(c.get("n") or 0) > 0 for c in components)


def template_globals() -> dict[str, Any]:
    return {
        "reason_sentences": reason_sentences,
        "no_own_data": NO_OWN_DATA,
        "band_words": band_words,
        "snapshot_has_own_data": snapshot_has_own_data,
    }
