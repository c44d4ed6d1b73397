"""A checklist answer's problems in the page's language: the one mapping from the
templates `surveys.checklists` makes its problems from to their translations. surveys/
knows nothing of the web, so its problems are English; every page, form error and refusal
says them through `say_problem` instead.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from surveys.checklists import answers as problems

#: Problem template -> its translation (the same placeholders).
PROBLEM_WORDS: dict[str, Any] = {
    problems.ANSWER_ITEM: _l("Answer this item."),
    problems.CHOOSE_CHECK: _l("Choose yes, no or not applicable."),
    problems.CHOOSE_CHECK_NO_NA: _l("Choose yes or no."),
    problems.CHOOSE_RATING: _l("Choose a rating from %(low)d to %(high)d."),
    problems.ENTER_TIME: _l("Enter whole seconds (such as 45) or minutes:seconds (such as 4:30)."),
    problems.NA_NOT_ALLOWED: _l("Not applicable is not allowed for this item."),
    problems.TOO_LONG_A_VISIT: _l("Longer than a whole visit may last (%(minutes)d minutes)."),
    problems.ENTER_TEXT: _l("Enter text."),
    problems.AT_MOST_CHARS: _l("At most %(n)d characters."),
    problems.BACK_UP_NO: _l("Say what happened (at least %(n)d characters) to back up the no."),
    problems.BACK_UP_NA: _l(
        "Say what happened (at least %(n)d characters) to back up the not applicable."
    ),
    problems.NARRATE_SECTION: _l("Describe this part of the visit in at least %(n)d characters."),
}


def say_problem(problem: str) -> str:
    """``problem`` (a `surveys.checklists.Problem`) in the page's language."""
    template = getattr(problem, "template", None)
    words = PROBLEM_WORDS.get(template) if template is not None else None
    if words is None:
        return str(problem)
    return str(words) % getattr(problem, "values", {})
