"""Conditions on the survey page without JavaScript: a stylesheet per survey version.

Each question with a ``show_if`` condition is hidden until its condition holds, by CSS
``:has()`` selectors over the form's checked inputs, generated here from the definition:
a scale rule enumerates the points that satisfy it, a yes/no rule is a checked (or, for
the problem tick box, an unchecked) input, a choice rule the choices' values; ``all``
chains the rules on one compound selector, ``any`` is an ``:is()`` list; a store-format
rule matches the form's ``data-format``. A rule on a question that is itself hidden does
not hold (as on the server: `surveys.conditions.shown_questions`), so each rule also
carries the condition of the question it looks at.

The content security policy forbids inline styles, so the page links the sheet
(``shopper.survey_style``, cached for ever under the version's content hash). The server
decides anyway: whatever a browser shows, answers to hidden questions are dropped. Pages
with JavaScript run ``static/survey.js`` instead, which marks the form ``js-conditions``:
these rules step aside for it.
"""

from __future__ import annotations

import json

from surveys.answers import NO, YES
from surveys.conditions import AnswerValue, rule_holds
from surveys.definitions import (
    OTHER,
    AnswerRule,
    Condition,
    Question,
    QuestionKind,
    StoreFormatRule,
    SurveyDefinition,
)

#: The form a rule applies to: the survey form, unless the script has taken over.
_FORM = ".survey:not(.js-conditions)"


def has_conditions(definition: SurveyDefinition) -> bool:
    """Whether any question of the survey has a ``show_if`` condition."""
    return any(q.show_if is not None for q in definition.questions)


def condition_stylesheet(definition: SurveyDefinition) -> str:
    """The CSS that hides each conditional question of ``definition`` until its condition
    holds (empty when no question has a condition)."""
    shown: dict[str, str | None] = {}
    hide, show = [], []
    for question in definition.questions:
        selector = _shown_selector(question, definition, shown)
        shown[question.key] = selector
        if selector is None:
            continue
        target = f"#question-{_ident(question.key)}"
        hide.append(f"{_FORM} {target}")
        if selector != _NEVER:
            show.append(f"{_FORM}{selector} {target}")
    if not hide:
        return ""
    lines = ["/* Generated from the survey version: questions shown under a condition. */"]
    lines.append("@supports selector(:has(*)) {")
    lines.append(f"  {', '.join(hide)} {{ display: none; }}")
    lines += [f"  {rule} {{ display: block; }}" for rule in show]
    lines.append("}")
    return "\n".join(lines) + "\n"


def condition_json(condition: Condition | None) -> str:
    """The condition as the script reads it from ``data-show-if`` ("" for none)."""
    if condition is None:
        return ""
    rules: list[dict[str, object]] = []
    for rule in condition.rules:
        if isinstance(rule, StoreFormatRule):
            rules.append({"store_format": list(rule.formats)})
        else:
            rules.append({"question": rule.question, "op": rule.op.value, "values": rule.values})
    return json.dumps({"match": condition.match, "rules": rules}, separators=(",", ":"))


#: A selector fragment no form matches: a condition that can never hold.
_NEVER = ":not(*)"


def _shown_selector(
    question: Question, definition: SurveyDefinition, shown: dict[str, str | None]
) -> str | None:
    """A compound-selector fragment matching the form when ``question`` is shown; ``None``
    when it is always shown."""
    condition = question.show_if
    if condition is None:
        return None
    parts = [_rule_selector(rule, definition, shown) for rule in condition.rules]
    if condition.match == "all":
        if any(part == _NEVER for part in parts):
            return _NEVER
        return "".join(parts)
    alternatives = [part for part in parts if part != _NEVER]
    if len(alternatives) < 2:
        return alternatives[0] if alternatives else _NEVER
    return f":is({', '.join(alternatives)})"


def _rule_selector(
    rule: AnswerRule | StoreFormatRule, definition: SurveyDefinition, shown: dict[str, str | None]
) -> str:
    if isinstance(rule, StoreFormatRule):
        formats = [f"[data-format={_string(f)}]" for f in rule.formats]
        return formats[0] if len(formats) == 1 else f":is({', '.join(formats)})"
    target = definition.question(rule.question)
    inputs = _answer_inputs(rule, target)
    if not inputs:
        return _NEVER
    # The rule holds only while the question it looks at is shown itself.
    target_shown = shown.get(target.key)
    if target_shown == _NEVER:
        return _NEVER
    return f":has({', '.join(inputs)}){target_shown or ''}"


def _answer_inputs(rule: AnswerRule, target: Question) -> list[str]:
    """Selectors of the checked (or unchecked) inputs that make ``rule`` hold: every
    possible answer of ``target`` is put to `surveys.conditions.rule_holds`, the one
    evaluation of a rule."""
    return [
        checked
        for answer, checked in _possible_answers(target)
        if rule_holds(rule, {target.key: answer}, "")
    ]


def _possible_answers(target: Question) -> list[tuple[AnswerValue, str]]:
    """Each answer ``target`` can give with one input, and the selector of that input in
    the state that gives it."""
    name = f"input[name={_string(target.key)}]"
    if target.kind is QuestionKind.SCALE:
        assert target.minimum is not None and target.maximum is not None
        points = range(target.minimum, target.maximum + 1)
        return [(n, f"{name}[value={_string(str(n))}]:checked") for n in points]
    if target.kind is QuestionKind.BOOLEAN and target.key == "problem":
        # The receipt survey's tick box: unticked is "no".
        return [(True, f"{name}:checked"), (False, f"{name}:not(:checked)")]
    if target.kind is QuestionKind.BOOLEAN:
        return [
            (True, f"{name}[value={_string(YES)}]:checked"),
            (False, f"{name}[value={_string(NO)}]:checked"),
        ]
    keys = [*target.choice_keys(), *((OTHER,) if target.other else ())]
    single = target.kind is QuestionKind.CHOICE
    return [
        (key if single else frozenset({key}), f"{name}[value={_string(key)}]:checked")
        for key in keys
    ]


def _string(value: str) -> str:
    """``value`` as a quoted CSS string: every character but letters, digits, ``_`` and
    ``-`` escaped, so no text of a definition can end the string or the rule."""
    escaped = "".join(
        char if (char.isascii() and (char.isalnum() or char in "_-")) else f"\\{ord(char):x} "
        for char in value
    )
    return f'"{escaped}"'


def _ident(key: str) -> str:
    """A question key inside an id selector (keys are lower-case words; escaped anyway)."""
    return "".join(
        char if (char.isascii() and (char.isalnum() or char in "_-")) else f"\\{ord(char):x} "
        for char in key
    )
