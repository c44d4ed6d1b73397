"""What the survey template needs to draw a survey version for one store: the questions that
store can ever be asked, each with its condition for the script, and the stylesheet links.

Shared by the shopper's page and the survey owner's preview, so that both draw the same
survey the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup

from portal.branding import ShopperBranding
from portal.i18n import current_locale
from portal.shopper.condition_styles import condition_json, has_conditions
from surveys.answers import OTHER_TEXT_LIMIT
from surveys.conditions import may_be_shown
from surveys.definitions import Question, SurveyDefinition


@dataclass(frozen=True, slots=True)
class DrawnQuestion:
    question: Question
    #: The condition as JSON for ``data-show-if`` ("" when always shown).
    show_if: str
    #: The receipt survey's problem category keeps its own rule (static CSS): shown when
    #: the problem is ticked or satisfaction is low, or once chosen.
    problem_block: bool


@dataclass(frozen=True, slots=True)
class SurveyLayout:
    questions: tuple[DrawnQuestion, ...]
    #: Whether the page needs the conditions' stylesheet and script.
    conditional: bool


@lru_cache(maxsize=256)
def survey_layout(definition: SurveyDefinition, store_format: str) -> SurveyLayout:
    """The questions of ``definition`` drawn for a store of ``store_format``: those whose
    store-format rules rule them out there are left out altogether."""
    drawn = tuple(
        DrawnQuestion(
            question=q,
            show_if=condition_json(q.show_if),
            problem_block=q.key == "problem_category" and q.show_if is None,
        )
        for q in definition.questions
        if may_be_shown(q, store_format)
    )
    return SurveyLayout(drawn, has_conditions(definition))


def brand_colour(branding: ShopperBranding) -> str | None:
    """The branding colour as the stylesheet URL carries it (``rrggbb``), or ``None``."""
    colour = branding.primary_colour
    if colour is None or len(colour) != 7 or not colour.startswith("#"):
        return None
    return colour[1:].lower()


def survey_context(
    definition: SurveyDefinition, store_format: str, branding: ShopperBranding
) -> dict[str, Any]:
    """What ``shopper/survey.html`` needs besides the form, the store's name and the page's
    own links (the survey owner's preview draws the same page)."""
    return {
        "definition": definition,
        "locale": current_locale(),
        "layout": survey_layout(definition, store_format),
        "store_format": store_format,
        "branding": branding,
        "brand_colour": brand_colour(branding),
        "other_limit": OTHER_TEXT_LIMIT,
    }


#: Blank question blocks kept per app: a few survey versions x 2 languages x store formats.
_BLANK_LIMIT = 256


def blank_questions(
    definition: SurveyDefinition, store_format: str, locale: str, form: Any
) -> Markup:
    """The questions of ``definition`` as ``shopper/_questions.html`` draws them for an
    unanswered ``form`` in ``locale``: drawn once per app and kept (a version never
    changes, and an unanswered form has nothing of the shopper's). Drawing them was most of
    a survey page's cost: some sixty inputs through the field macro."""
    kept: dict[tuple[SurveyDefinition, str, str], Markup] = current_app.extensions.setdefault(
        "portal.blank_questions", {}
    )
    key = (definition, store_format, locale)
    found = kept.get(key)
    if found is None:
        found = Markup(
            render_template(
                "shopper/_questions.html",
                definition=definition,
                locale=locale,
                layout=survey_layout(definition, store_format),
                form=form,
                other_limit=OTHER_TEXT_LIMIT,
            )
        )
        if len(kept) < _BLANK_LIMIT:
            kept[key] = found
    return found
