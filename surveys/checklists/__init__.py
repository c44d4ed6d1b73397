"""Mystery-shop checklists: the questionnaire as data (:mod:`~surveys.checklists.schema`),
loaded and validated once from ``surveys/library/checklists/``
(:mod:`~surveys.checklists.loader`), the shopper's answers and the rules they must meet
(:mod:`~surveys.checklists.answers`), and the form they arrive from, section by section
(:mod:`~surveys.checklists.forms`). Turning a complete report into a score is the portal's
(``portal.mystery.scoring``, which calls ``analysis.mystery``): surveys stays free of the
scoring code. Every public name is importable from here.
"""

from surveys.checklists.answers import (
    EMPTY_ANSWERS,
    MAX_COMMENT_CHARS,
    MAX_NARRATIVE_CHARS,
    MIN_COMMENT_CHARS,
    PROBLEM_TEMPLATES,
    RATING_MAX,
    RATING_MIN,
    ChecklistAnswers,
    ItemAnswer,
    Problem,
    answers_from_json,
    answers_to_json,
    comment_field,
    completeness_errors,
    earned_fraction,
    item_field,
    narrative_field,
)
from surveys.checklists.forms import field_names, merge_answers, parse_answers
from surveys.checklists.loader import (
    CHECKLIST_LIBRARY,
    checklist_from_content,
    checklist_library,
    get_checklist,
    load_checklist,
    parse_checklist,
)
from surveys.checklists.schema import (
    NA,
    NO,
    YES,
    Attribution,
    ChecklistDefinition,
    ChecklistItem,
    ChecklistSection,
    Critical,
    ItemKind,
)

__all__ = [
    "CHECKLIST_LIBRARY",
    "EMPTY_ANSWERS",
    "MAX_COMMENT_CHARS",
    "MAX_NARRATIVE_CHARS",
    "MIN_COMMENT_CHARS",
    "NA",
    "NO",
    "PROBLEM_TEMPLATES",
    "RATING_MAX",
    "RATING_MIN",
    "YES",
    "Attribution",
    "ChecklistAnswers",
    "ChecklistDefinition",
    "ChecklistItem",
    "ChecklistSection",
    "Critical",
    "ItemAnswer",
    "Problem",
    "ItemKind",
    "answers_from_json",
    "answers_to_json",
    "checklist_from_content",
    "checklist_library",
    "comment_field",
    "completeness_errors",
    "earned_fraction",
    "field_names",
    "get_checklist",
    "item_field",
    "load_checklist",
    "merge_answers",
    "narrative_field",
    "parse_answers",
    "parse_checklist",
]
