"""Trainings in words: their states, the mystery touchpoints a training may aim at, and a
difference-in-differences effect as a sentence ("+12.3 NPS points (95 % interval ...)" or
"too early to tell")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from analysis.results import Estimate
from analysis.training import DidResult, PooledEffect
from portal.models import TrainingState
from surveys.checklists import checklist_library

STATE_LABELS: dict[str, Any] = {
    TrainingState.ASSIGNED: _l("Assigned"),
    TrainingState.DONE: _l("Training given"),
    TrainingState.CANCELLED: _l("Cancelled"),
}

#: The keys of what an effect says: clearly better, clearly worse, no clear change, or
#: too early to tell.
BETTER, WORSE, UNCLEAR, TOO_EARLY = "better", "worse", "unclear", "too_early"
VERDICT_LABELS: dict[str, Any] = {
    BETTER: _l("clearly better than the store"),
    WORSE: _l("clearly worse than the store"),
    UNCLEAR: _l("no clear change against the store"),
    TOO_EARLY: _l("too early to tell: too few answers yet"),
}


@dataclass(frozen=True, slots=True)
class TouchpointChoice:
    key: str
    label_en: str
    label_zh: str

    def label(self, locale: str) -> str:
        return self.label_zh if locale.startswith("zh") else self.label_en


def touchpoints() -> tuple[TouchpointChoice, ...]:
    """The sections of the mystery checklists, by key (the first checklist's title for a
    key used by several), in the library's order."""
    found: dict[str, TouchpointChoice] = {}
    for checklist in checklist_library():
        for section in checklist.sections:
            found.setdefault(
                section.key, TouchpointChoice(section.key, section.title.en, section.title.zh_CN)
            )
    return tuple(found.values())


def touchpoint_label(key: str, locale: str) -> str:
    for choice in touchpoints():
        if choice.key == key:
            return choice.label(locale)
    return key


def verdict(effect: Estimate | None) -> str:
    """The words key of an effect: better or worse when its 95 % interval excludes 0."""
    if effect is None or effect.low is None or effect.high is None:
        return TOO_EARLY
    if effect.low > 0:
        return BETTER
    return WORSE if effect.high < 0 else UNCLEAR


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace("-", "−")


def effect_sentence(result: DidResult | PooledEffect, unit: str) -> str:
    """An effect in words: "+12.3 NPS points (95 % interval −2.1 to 26.7)" or "too early
    to tell", in the page's language; ``unit`` is "nps" or "csat"."""
    effect = result.effect
    if effect is None or effect.value is None or effect.low is None or effect.high is None:
        return str(_("too early to tell: too few answers yet"))
    figures = {
        "effect": _signed(effect.value),
        "low": _signed(effect.low),
        "high": _signed(effect.high),
    }
    if unit == "nps":
        return str(_("%(effect)s NPS points (95 %% interval %(low)s to %(high)s)", **figures))
    return str(
        _(
            "%(effect)s percentage points satisfied (95 %% interval %(low)s to %(high)s)",
            **figures,
        )
    )


def counts_sentence(result: DidResult) -> str:
    """The four n behind an effect."""
    return str(
        _(
            "n = %(before)s before and %(after)s after for them; %(peers_before)s and "
            "%(peers_after)s for the store's other staff",
            before=result.person_before,
            after=result.person_after,
            peers_before=result.peers_before,
            peers_after=result.peers_after,
        )
    )
