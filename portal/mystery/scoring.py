"""The bridge from a filed checklist report to mystery-shop scoring: each section with its
weight and each scored item with its points, critical scope and the share of the points
its answer earns (the checklist's rule, ``surveys.checklists.earned_fraction``) become the
plain inputs of :func:`analysis.mystery.score_visit`, which does the arithmetic. It lives in
the portal because the portal is what may depend on both ``surveys`` and ``analysis``.
"""

from __future__ import annotations

from analysis.mystery import ItemInput, SectionInput, VisitScore, score_visit
from surveys.checklists import ChecklistAnswers, ChecklistDefinition, earned_fraction


def scoring_input(
    definition: ChecklistDefinition, answers: ChecklistAnswers
) -> tuple[SectionInput, ...]:
    """The scored items' answers as input to :func:`analysis.mystery.score_visit`.

    Parameters
    ----------
    definition : ChecklistDefinition
        The checklist version answered.
    answers : ChecklistAnswers
        The report's answers.

    Returns
    -------
    tuple of SectionInput
        One per section with its weight; one :class:`~analysis.mystery.ItemInput` per
        CHECK or TIME item with its points and critical scope. Earned fraction: CHECK
        yes 1, no 0, N/A ``None``; TIME 1 when the seconds are at most the standard, else
        0, N/A ``None``. RATING and TEXT items are context and are left out.

    Raises
    ------
    ValueError
        If a scored item is unanswered, holds an unacceptable value, or is N/A where not
        allowed: an incomplete report has no score (comments and narratives are not
        needed to score; ``completeness_errors`` checks those).
    """
    return tuple(
        SectionInput(
            section.key,
            float(section.weight),
            tuple(
                ItemInput(
                    item.key,
                    float(item.points),
                    earned_fraction(definition, item, answers.value(item.key)),
                    item.critical.value,
                )
                for item in section.items
                if item.scored
            ),
        )
        for section in definition.sections
    )


def score_answers(definition: ChecklistDefinition, answers: ChecklistAnswers) -> VisitScore:
    """Score a complete report: ``score_visit(scoring_input(definition, answers))``.

    Raises
    ------
    ValueError
        As :func:`scoring_input`.
    """
    return score_visit(scoring_input(definition, answers))
