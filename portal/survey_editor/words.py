"""The survey editor's words: the names of question kinds, rule operators, texts and
languages, and one sentence for each problem code of `surveys.checks`.

Keys (of questions and choices) are the owner's own identifiers: sentences show them as
code (``<code>``), escaped, beside translated words.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.admin.forms import FORMAT_LABELS
from surveys.checks import CheckWarning, Problem, ProblemCode

#: The editor's kinds (`documents.EDITOR_KINDS`) and the document's, by their values.
KIND_LABELS: dict[str, Any] = {
    "scale_5": _l("scale 1–5"),
    "scale_11": _l("scale 0–10"),
    "scale": _l("scale"),
    "boolean": _l("yes / no"),
    "choice": _l("single choice"),
    "multiple": _l("multiple choice"),
    "short_text": _l("short text"),
    "text": _l("long text"),
    "contact": _l("contact details"),
}
#: The scoring questions, named for a sentence.
CORE_LABELS: dict[str, Any] = {
    "nps": _l("likelihood to recommend (NPS)"),
    "csat": _l("overall satisfaction (CSAT)"),
}
#: The editor's rule operators (`documents.RULE_OPS`).
OP_LABELS: dict[str, Any] = {
    "le": _l("is at most"),
    "ge": _l("is at least"),
    "eq": _l("equals"),
    "yes": _l("is yes"),
    "no": _l("is no"),
    "in": _l("is one of"),
}
LANGUAGE_LABELS: dict[str, Any] = {"zh_CN": _l("Chinese"), "en": _l("English")}
#: The parts of a draft a problem may name.
FIELD_LABELS: dict[str, Any] = {
    "title": _l("The survey's title"),
    "intro": _l("The survey's introduction"),
    "thanks": _l("The thank-you text"),
    "consent": _l("The contact consent sentence"),
    "text": _l("The question's text"),
    "help": _l("The question's help text"),
    "low_label": _l("The label of the scale's low end"),
    "high_label": _l("The label of the scale's high end"),
    "choice": _l("A choice's text"),
    "group": _l("A group heading"),
    "groups": _l("The list of groups"),
    "question": _l("A question"),
    "choices": _l("The list of choices"),
    "key": _l("The survey's key"),
    "document": _l("The draft"),
}


def format_label(value: str) -> str:
    """A store format in words (the value itself for one the portal does not know)."""
    label = FORMAT_LABELS.get(value)
    return value if label is None or not value else str(label)


def code(value: str | None) -> Markup:
    """A key shown as code, escaped."""
    return Markup("<code>%s</code>") % (value or "")


def say_problem(problem: Problem) -> Markup:
    """The problem as a sentence in the page's language (keys as escaped code)."""
    kind = KIND_LABELS.get(problem.value or "")
    values = {
        "target": code(problem.target),
        "choice": code(problem.choice),
        "value": code(problem.value),
        "field": str(FIELD_LABELS.get(problem.field or "", problem.field or "")),
        "language": str(LANGUAGE_LABELS.get(problem.language or "", problem.language or "")),
        "kind": str(kind) if kind is not None else problem.value or "",
    }
    sentence = _SENTENCES[problem.code]
    if problem.code is ProblemCode.MISSING_TRANSLATION and problem.choice:
        sentence = _l("The text of choice %(choice)s has no %(language)s.")
    # The sentence is ours (the catalog); every value is escaped by Markup's %.
    return Markup(str(sentence)) % values


#: One sentence for each problem code; %(name)s are the values `say_problem` fills in.
_SENTENCES: dict[ProblemCode, Any] = {
    ProblemCode.MALFORMED: _l("%(field)s is not in the expected form."),
    ProblemCode.MISSING_TRANSLATION: _l("%(field)s has no %(language)s."),
    ProblemCode.UNKNOWN_LANGUAGE: _l(
        "%(field)s names a language other than Chinese and English: %(value)s."
    ),
    ProblemCode.NO_QUESTIONS: _l("The survey asks no question."),
    ProblemCode.DUPLICATE_QUESTION_KEY: _l("Two questions have this key."),
    ProblemCode.DUPLICATE_CHOICE_KEY: _l("Two choices have the key %(choice)s."),
    ProblemCode.INVALID_QUESTION_KEY: _l(
        "The key %(value)s is not valid: use lower-case letters, digits and _, starting "
        "with a letter (at most 48)."
    ),
    ProblemCode.INVALID_CHOICE_KEY: _l(
        "The choice key %(choice)s is not valid: use lower-case letters, digits and _, "
        "starting with a letter."
    ),
    ProblemCode.UNKNOWN_KIND: _l("The kind of question %(value)s is not one the portal knows."),
    ProblemCode.INVALID_SCALE: _l("The scale needs whole numbers, the lowest first."),
    ProblemCode.STANDARD_SHAPE: _l(
        "This standard question must stay a question of kind “%(kind)s” with its scale."
    ),
    ProblemCode.MISSING_CORE: _l(
        "A scoring question is missing: every survey asks it, so that scores stay comparable."
    ),
    ProblemCode.EMPTY_CHOICES: _l("The question offers no choice: add at least one."),
    ProblemCode.MISPLACED_OTHER: _l(
        "“Other” is offered only by a custom choice question, and then not listed as a choice too."
    ),
    ProblemCode.CORE_CONDITION: _l(
        "A scoring question is asked of everyone: it cannot have a “show only when” rule."
    ),
    ProblemCode.MISSING_MAX_LENGTH: _l("The text question needs a maximum length."),
    ProblemCode.UNKNOWN_GROUP: _l("The question names the group %(value)s, which does not exist."),
    ProblemCode.CONDITION_INVALID: _l(
        "Its condition is not complete: each rule needs a question or store formats."
    ),
    ProblemCode.CONDITION_NOT_EARLIER: _l(
        "Its condition looks at %(target)s, which is not asked before it."
    ),
    ProblemCode.CONDITION_UNKNOWN_QUESTION: _l(
        "Its condition looks at %(target)s, which this survey does not ask."
    ),
    ProblemCode.CONDITION_KIND: _l(
        "Its condition compares %(target)s (%(kind)s) in a way that kind of question cannot "
        "be compared."
    ),
    ProblemCode.CONDITION_MISSING_CHOICE: _l(
        "Its condition names choice %(choice)s, which %(target)s does not offer."
    ),
    ProblemCode.CONDITION_VALUE: _l(
        "Its condition on %(target)s needs a value that question can give."
    ),
}


def say_warning(warning: CheckWarning) -> str:
    """The warning as a sentence in the page's language."""
    return str(
        _(
            "Answering takes about %(seconds)s s, more than the %(limit)s s a receipt survey "
            "should take: shoppers give up on long surveys. You may still publish it.",
            seconds=warning.seconds,
            limit=warning.limit,
        )
    )


def say_rule(rule: Any, subjects: dict[str, Markup]) -> Markup:
    """One ``show_if`` rule in words; ``subjects`` names questions by key (their text)."""
    if not isinstance(rule, dict):
        return Markup.escape(str(_SENTENCES[ProblemCode.CONDITION_INVALID]))
    if set(rule) == {"store_format"}:
        formats = rule["store_format"] if isinstance(rule["store_format"], list) else []
        return Markup(_("the store's format is one of: %(formats)s")) % {
            "formats": ", ".join(format_label(str(f)) for f in formats)
        }
    key = str(rule.get("question", ""))
    values = rule.get("values", [rule["value"]] if "value" in rule else [])
    values = values if isinstance(values, list) else []
    op = str(rule.get("op", ""))
    if op == "eq" and values and isinstance(values[0], bool):
        op = "yes" if values[0] else "no"
        values = []
    label = OP_LABELS.get(op, op)
    shown = Markup(", ").join(code(str(v)) if op == "in" else str(v) for v in values)
    return Markup(_("%(question)s %(op)s %(values)s")) % {
        "question": Markup("%s %s") % (subjects.get(key, ""), code(key)),
        "op": str(label),
        "values": shown,
    }


def say_condition(condition: Any, subjects: dict[str, Markup]) -> Markup | None:
    """A question's ``show_if`` in words; ``None`` for a question always shown."""
    if condition is None:
        return None
    if not isinstance(condition, dict) or len(condition) != 1:
        return Markup.escape(str(_SENTENCES[ProblemCode.CONDITION_INVALID]))
    match, rules = next(iter(condition.items()))
    rules = rules if isinstance(rules, list) else []
    joined = Markup("; ").join(say_rule(rule, subjects) for rule in rules)
    if match == "any":
        return Markup(_("Shown when any of these holds: %(rules)s")) % {"rules": joined}
    return Markup(_("Shown when all of these hold: %(rules)s")) % {"rules": joined}
